//! The registry of live tasks, so that shutdown can drop every future, also
//! those of idle tasks whose wakers sit in some channel or timer nobody will
//! ever fire.
//!
//! Sharded by task id; each shard is a [`Slab`] under a `Mutex` (uncontended in
//! practice: a spawn and a completion each take one shard lock for a few
//! instructions). A task's slab index lives in its header and is read and
//! written only under its shard's lock. The registry owns one reference per
//! entry, returned by [`Registry::remove`] (completion) or handed to the
//! shutdown drain. Once [`Registry::close`]d, inserts fail, so tasks spawned
//! during shutdown are cancelled at once instead of escaping the drain.

use crossbeam_utils::CachePadded;
use slab::Slab;

use super::raw::RawTask;
use crate::loom::Mutex;

const SHARDS: usize = 32;

pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

#[derive(Default)]
struct Shard {
    /// The tasks of this shard. Its length is counted per shard, under its
    /// lock, so spawns and completions on different workers share no
    /// counter cache line.
    tasks: Slab<RawTask>,
    closed: bool,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
        }
    }

    fn shard(&self, task: &RawTask) -> &Mutex<Shard> {
        &self.shards[(task.id().as_u64() as usize) % SHARDS]
    }

    /// Adds a task (taking over one of its references). `false` when closed.
    pub(crate) fn insert(&self, task: RawTask) -> bool {
        let mut shard = self.shard(&task).lock();
        if shard.closed {
            return false;
        }
        let idx = shard.tasks.insert(task);
        // SAFETY: the slot index is only touched under this shard's lock.
        task.header()
            .registry_slot
            .with_mut(|s| unsafe { *s = idx });
        true
    }

    /// Removes a completed task; `true` if it was here (the caller then owns
    /// the registry's reference).
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(&task).lock();
        // SAFETY: under the shard lock, see `insert`.
        let idx = task
            .header()
            .registry_slot
            .with_mut(|s| unsafe { std::mem::replace(&mut *s, usize::MAX) });
        if idx == usize::MAX {
            return false;
        }
        let removed = shard.tasks.remove(idx);
        debug_assert!(removed == task);
        true
    }

    /// Refuses further inserts.
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
    }

    /// Takes every task out, one shard at a time, handing each (with the
    /// registry's reference) to `f`. `f` runs without any lock held, so it
    /// may drop futures whose destructors use the runtime.
    pub(crate) fn drain(&self, mut f: impl FnMut(RawTask)) {
        for shard in self.shards.iter() {
            loop {
                let batch: Vec<RawTask> = {
                    let mut s = shard.lock();
                    let taken: Vec<RawTask> = s.tasks.drain().collect();
                    for t in &taken {
                        // SAFETY: under the shard lock.
                        t.header()
                            .registry_slot
                            .with_mut(|p| unsafe { *p = usize::MAX });
                    }
                    taken
                };
                if batch.is_empty() {
                    break;
                }
                batch.into_iter().for_each(&mut f);
            }
        }
    }

    /// Tasks spawned and not yet completed (a sum over the shards, each
    /// read under its lock; for metrics).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().tasks.len()).sum()
    }
}
