//! The registry of live tasks, so that shutdown can drop every future, also
//! those of idle tasks whose wakers sit in some channel or timer nobody will
//! ever fire.
//!
//! Sharded by task id; each shard is a slab under a `Mutex` (uncontended in
//! practice: a spawn and a completion each take one shard lock for a few
//! instructions). A task's slab index lives in its header and is read and
//! written only under its shard's lock. The registry owns one reference per
//! entry, returned by [`Registry::remove`] (completion) or handed to the
//! shutdown drain. Once [`Registry::close`]d, inserts fail, so tasks spawned
//! during shutdown are cancelled at once instead of escaping the drain.

use crossbeam_utils::CachePadded;

use super::raw::RawTask;
use crate::loom::{AtomicUsize, Mutex, Ordering};

const SHARDS: usize = 32;

pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    live: AtomicUsize,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Option<RawTask>>,
    free: Vec<usize>,
    closed: bool,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            live: AtomicUsize::new(0),
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
        let idx = match shard.free.pop() {
            Some(i) => {
                shard.slots[i] = Some(task);
                i
            }
            None => {
                shard.slots.push(Some(task));
                shard.slots.len() - 1
            }
        };
        // SAFETY: the slot index is only touched under this shard's lock.
        task.header()
            .registry_slot
            .with_mut(|s| unsafe { *s = idx });
        // Relaxed: a statistic for metrics, not used for synchronisation.
        self.live.fetch_add(1, Ordering::Relaxed);
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
        debug_assert!(shard.slots[idx] == Some(task));
        shard.slots[idx] = None;
        shard.free.push(idx);
        // Relaxed: statistic only.
        self.live.fetch_sub(1, Ordering::Relaxed);
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
                    let taken: Vec<RawTask> = s.slots.iter_mut().filter_map(Option::take).collect();
                    s.free.clear();
                    s.slots.clear();
                    for t in &taken {
                        // SAFETY: under the shard lock.
                        t.header()
                            .registry_slot
                            .with_mut(|p| unsafe { *p = usize::MAX });
                    }
                    // Relaxed: statistic only.
                    self.live.fetch_sub(taken.len(), Ordering::Relaxed);
                    taken
                };
                if batch.is_empty() {
                    break;
                }
                batch.into_iter().for_each(&mut f);
            }
        }
    }

    /// Tasks spawned and not yet completed.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}
