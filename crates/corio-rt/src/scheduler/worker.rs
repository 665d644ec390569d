//! A worker thread's loop: pick a task, run it, and park when there is none.
//!
//! Order of picking, per tick:
//! - every 61st tick the injector first, so tasks from other threads are not
//!   starved by a worker that keeps feeding itself (61: a prime, the value Go
//!   and tokio use, so it does not beat in step with common loop lengths); a
//!   batch is taken then, so a burst of remote spawns drains at the speed of
//!   the local queue;
//! - the LIFO slot, at most [`MAX_LIFO_POLLS`] times in a row: two tasks
//!   waking each other would otherwise keep the slot busy forever and starve
//!   the deque;
//! - the local deque (FIFO);
//! - the injector, moving a batch into the local deque;
//! - stealing, if fewer than half the workers already search: half of a
//!   random victim's deque, the injector again, then victims' LIFO slots.
//!
//! Every 61st tick the worker also looks at I/O without blocking, if the
//! driver's turn is free (every worker busy), and wakes what is ready into
//! its own queues. With nothing to do it parks, in the I/O driver's turn if
//! nobody holds it (see `park.rs`); what that poll collected is woken on
//! this worker once the park returns.

use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Instant;

use super::{steal_retrying, take_slot, Remote, Shared};
use crate::context;
use crate::loom::io::IoParker;
use crate::loom::queue::Worker;
use crate::loom::Ordering;
use crate::task::{Notified, RawTask};

/// Consecutive polls from the LIFO slot before it must let the deque go
/// first (tokio uses the same bound).
const MAX_LIFO_POLLS: u32 = 3;

/// Injector check interval in ticks (see the module header).
const GLOBAL_QUEUE_INTERVAL: u64 = 61;

/// One worker's own state; lives on its thread's stack.
pub(crate) struct WorkerCtx {
    pub(crate) shared: Arc<Shared>,
    index: usize,
    local: Worker<Notified>,
}

/// Runs worker `index` until shutdown, then cancels what is left.
pub(crate) fn run_worker(shared: Arc<Shared>, index: usize, local: Worker<Notified>) {
    let ctx = WorkerCtx {
        shared,
        index,
        local,
    };
    let _worker = context::enter_worker(&ctx);
    ctx.run();
    ctx.drain();
}

impl WorkerCtx {
    fn remote(&self) -> &Remote {
        &self.shared.remotes[self.index]
    }

    /// Queues a task woken or spawned on this worker.
    #[inline]
    pub(crate) fn push_local(&self, task: Notified, yielded: bool) {
        if yielded {
            // A task that woke itself goes behind the others.
            self.local.push(task);
            self.shared.notify_one();
            return;
        }
        let raw = task.into_raw().as_ptr().as_ptr();
        // AcqRel: release the task to a thief that swaps it out; acquire the
        // previous occupant, which may have been put there before a steal
        // attempt raced us.
        let prev = self.remote().lifo.swap(raw, Ordering::AcqRel);
        if let Some(prev) = NonNull::new(prev) {
            // SAFETY: the slot held a Notified's reference, now ours.
            self.local
                .push(unsafe { Notified::from_raw(RawTask::from_raw(prev)) });
            self.shared.notify_one();
        }
    }

    fn run(&self) {
        let shared = &*self.shared;
        let mut tick: u64 = 0;
        let mut lifo_polls = 0;
        let mut searching = false;
        let mut rng = FastRand::new(self.index as u64);
        let mut io = IoParker::new();
        loop {
            if shared.is_shutdown() {
                return;
            }
            tick = tick.wrapping_add(1);
            // Relaxed: read only as a liveness hint by thieves and the monitor.
            self.remote().tick.store(tick, Ordering::Relaxed);

            if tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL) {
                // A busy worker looks at I/O now and then (without blocking)
                // if nobody else is, so readiness is not left waiting on the
                // driver thread's backup delay while every worker is busy.
                let polled = match io.try_turn() {
                    Some(mut turn) => {
                        turn.poll(false);
                        true
                    }
                    None => false,
                };
                if polled {
                    io.wake_batch();
                }
            }
            let mut task = self.next_task(tick, &mut lifo_polls);
            if task.is_none() {
                if !searching {
                    searching = shared.idle.try_search();
                }
                if searching {
                    task = self.steal(&mut rng);
                }
            }
            match task {
                Some(task) => {
                    if searching {
                        searching = false;
                        if shared.idle.stop_searching() {
                            // Last searcher found work: there may be more.
                            shared.notify_one();
                        }
                    }
                    self.run_task(task);
                }
                None => {
                    searching = shared.idle.park(
                        &self.remote().parker,
                        self.index,
                        searching,
                        || shared.has_work(),
                        Some(&mut io),
                    );
                    // What a poll of I/O collected, woken here on this worker:
                    // into its LIFO slot and deque.
                    io.wake_batch();
                }
            }
        }
    }

    fn run_task(&self, task: Notified) {
        if !self.shared.config.debug {
            task.run();
            return;
        }
        let id = task.id();
        let (location, name) = {
            let h = task.header();
            (h.location, h.name.clone())
        };
        // Relaxed: a hint for the monitor's stuck-worker report.
        self.remote().current.store(id.as_u64(), Ordering::Relaxed);
        let start = Instant::now();
        task.run();
        let took = start.elapsed();
        self.remote().current.store(0, Ordering::Relaxed);
        if took >= self.shared.config.slow_poll_threshold {
            crate::debug::slow_poll(Some(self.index), id, name.as_deref(), location, took);
        }
    }

    fn next_task(&self, tick: u64, lifo_polls: &mut u32) -> Option<Notified> {
        let shared = &*self.shared;
        if tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL) {
            // Take a batch, not one task: with busy local queues, one task per
            // 61 polls would drain a burst of remote spawns 61x too slowly.
            // The batch joins the back of the local deque, behind its tasks.
            if let Some(t) = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local)) {
                return Some(t);
            }
        }
        if *lifo_polls < MAX_LIFO_POLLS {
            if let Some(t) = take_slot(&self.remote().lifo) {
                *lifo_polls += 1;
                return Some(t);
            }
        } else if let Some(t) = take_slot(&self.remote().lifo) {
            // Let the deque go first; the LIFO task waits its turn.
            self.local.push(t);
        }
        *lifo_polls = 0;
        if let Some(t) = self.local.pop() {
            return Some(t);
        }
        steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local))
    }

    fn steal(&self, rng: &mut FastRand) -> Option<Notified> {
        let shared = &*self.shared;
        let n = shared.num_workers();
        let start = rng.below(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            if let Some(t) = steal_retrying(|| {
                shared.remotes[victim]
                    .stealer
                    .steal_batch_and_pop(&self.local)
            }) {
                return Some(t);
            }
        }
        if let Some(t) = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local)) {
            return Some(t);
        }
        for i in 0..n {
            let victim = (start + i) % n;
            if victim != self.index {
                if let Some(t) = shared.steal_lifo(victim) {
                    return Some(t);
                }
            }
        }
        None
    }

    /// Shutdown: cancel every task still registered (their futures drop
    /// here, on a runtime thread), then drop the queued references.
    fn drain(&self) {
        self.shared.registry.drain(crate::task::shutdown);
        while let Some(t) = take_slot(&self.remote().lifo) {
            drop(t);
        }
        while let Some(t) = self.local.pop() {
            drop(t);
        }
    }
}

/// xorshift64*: victim choice only needs to be cheap and not in lock-step.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % n
    }
}
