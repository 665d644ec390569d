//! A worker thread's loop: pick a task, run it, and park when there is none.
//!
//! Order of picking, per tick:
//! - every 61st tick (and at housekeeping, below) the injector first, so
//!   tasks from other threads are not starved by a worker that keeps
//!   feeding itself (61: a prime, the value Go and tokio use, so it does
//!   not beat in step with common loop lengths); a batch is taken then, so
//!   a burst of remote spawns drains at the speed of the local queue;
//! - the LIFO slot, at most [`MAX_LIFO_POLLS`] times in a row: two tasks
//!   waking each other would otherwise keep the slot busy forever and starve
//!   the deque;
//! - the local deque (FIFO);
//! - the injector, moving a batch into the local deque;
//! - stealing, if fewer than half the workers already search: half of a
//!   random victim's deque, the injector again, then victims' LIFO slots.
//!
//! With nothing to do it parks, in the I/O driver's turn if nobody holds it
//! (see `park.rs`); what that poll collected is woken on this worker once
//! the park returns.
//!
//! # Housekeeping: latency under CPU load
//!
//! A busy worker never parks, so it must look at I/O and at the injector on
//! its own, or a task woken by a socket or a timer waits behind CPU work:
//! every 61 ticks is 61 task polls, 30 ms when tasks yield every 500 µs.
//! So the worker also does its housekeeping by the clock: once
//! [`HOUSEKEEPING_BUDGET`] has passed since the last time, at the next poll
//! boundary (a `yield_now()` or any finished poll), it
//! - takes the driver's turn without blocking, if it is free, and wakes
//!   what is ready into its own LIFO slot and deque, so a task woken by I/O
//!   runs after at most the current poll;
//! - takes from the injector first, where the backup driver thread (which
//!   polls when every worker is busy in one long poll) and other threads
//!   put what they wake.
//!
//! I/O is looked at by the clock only, not every 61 ticks: while ticks are
//! short, 61 of them pass long before the budget does, and a system call
//! every few microseconds would cost a yield-heavy load a tenth of its time.
//!
//! Reading the clock costs ~25 ns, which would double a short tick, so it
//! is read every tick only while ticks are long ([`Housekeeping`]): after a
//! read, the stride to the next doubles (up to [`MAX_CLOCK_STRIDE`] ticks)
//! while the ticks in between averaged less than [`LONG_TICK`], and drops
//! back to 1 as soon as they did not. A short tick never shrinks the window
//! (a mean-based interval would: one short tick collapses it); the worst
//! case adds the stride's short ticks to one long one.

use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{steal_retrying, take_slot, Remote, Shared};
use crate::context;
use crate::loom::io::{refill, IoParker};
use crate::loom::queue::Worker;
use crate::loom::Ordering;
use crate::task::{Notified, RawTask};

/// Consecutive polls from the LIFO slot before it must let the deque go
/// first (tokio uses the same bound).
const MAX_LIFO_POLLS: u32 = 3;

/// Injector check interval in ticks (see the module header).
const GLOBAL_QUEUE_INTERVAL: u64 = 61;

/// Housekeeping by the clock: at least this often, a busy worker looks at
/// I/O and the injector (see the module header). 100 µs keeps a non-blocking
/// driver look (one `epoll_wait`, ~1 µs) under 1% of a busy worker's time
/// and bounds the wait of a woken task by one poll past it.
const HOUSEKEEPING_BUDGET: Duration = Duration::from_micros(100);

/// Ticks that averaged at least this long are "long": the clock is then
/// read at every tick.
const LONG_TICK: Duration = Duration::from_micros(4);

/// At most this many short ticks between two clock reads (~25 ns each, so
/// under 1 ns per tick).
const MAX_CLOCK_STRIDE: u32 = 32;

/// When a worker last did its housekeeping, and when it next reads the clock.
struct Housekeeping {
    last: Instant,
    last_read: Instant,
    stride: u32,
    countdown: u32,
}

impl Housekeeping {
    fn new() -> Housekeeping {
        let now = Instant::now();
        Housekeeping {
            last: now,
            last_read: now,
            stride: 1,
            countdown: 1,
        }
    }

    /// Called once per tick: whether the budget has passed, so that
    /// housekeeping is due now.
    #[inline]
    fn due(&mut self) -> bool {
        self.countdown -= 1;
        if self.countdown > 0 {
            return false;
        }
        self.read_clock()
    }

    #[cold]
    fn read_clock(&mut self) -> bool {
        let now = Instant::now();
        let span = now.saturating_duration_since(self.last_read);
        self.stride = if span >= LONG_TICK * self.stride {
            1
        } else {
            (self.stride * 2).min(MAX_CLOCK_STRIDE)
        };
        self.countdown = self.stride;
        self.last_read = now;
        if now.saturating_duration_since(self.last) >= HOUSEKEEPING_BUDGET {
            self.last = now;
            true
        } else {
            false
        }
    }

    /// The worker comes back from a park: it has just looked at I/O (its
    /// park polled, or someone else held the turn) and at the queues (its
    /// re-check), so the budget starts again now, with short strides.
    fn restart(&mut self, now: Instant) {
        self.last = now;
        self.last_read = now;
        self.stride = 1;
        self.countdown = 1;
    }
}

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
        let mut housekeeping = Housekeeping::new();
        let counters = &*self.remote().counters;
        let mut busy_since = Instant::now();
        loop {
            if shared.is_shutdown() {
                counters.busy(busy_since.elapsed());
                return;
            }
            tick = tick.wrapping_add(1);
            // Relaxed: read only as a liveness hint by thieves and the monitor.
            self.remote().tick.store(tick, Ordering::Relaxed);

            // Housekeeping (module header): by the clock, and every 61 ticks.
            // Housekeeping (module header): I/O by the clock; the injector
            // by the clock and every 61 ticks.
            let due = housekeeping.due();
            let injector_first = due || tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL);
            if due {
                // A busy worker looks at I/O (without blocking) if nobody
                // else is polling, and wakes what is ready into its own
                // queues, to run next.
                let polled = match io.try_turn() {
                    Some(mut turn) => {
                        turn.poll(false);
                        true
                    }
                    None => false,
                };
                if polled {
                    counters.set_driver_turns(io.turns());
                    context::waking_io_batch(|| io.wake_batch());
                }
            }
            let mut task = self.next_task(injector_first, &mut lifo_polls);
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
                    counters.park();
                    counters.busy(busy_since.elapsed());
                    searching = shared.idle.park(
                        &self.remote().parker,
                        self.index,
                        searching,
                        || shared.has_work(),
                        Some(&mut io),
                        &|| shared.turn_reservation.is_reserved(),
                    );
                    busy_since = Instant::now();
                    housekeeping.restart(busy_since);
                    counters.set_driver_turns(io.turns());
                    // What a poll of I/O collected, woken here on this worker:
                    // into its LIFO slot and deque.
                    context::waking_io_batch(|| io.wake_batch());
                }
            }
        }
    }

    fn run_task(&self, task: Notified) {
        self.remote().counters.poll();
        // Each poll gets a fresh cooperative budget of ready I/O operations
        // (corio_io::coop): a task whose I/O never blocks still yields. One
        // store, nothing restored: this thread polls nothing but tasks.
        refill();
        if !self.shared.config.debug {
            if let Some(task) = task.run() {
                self.push_local(task, true);
            }
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
        let yielded = task.run();
        let took = start.elapsed();
        if let Some(task) = yielded {
            self.push_local(task, true);
        }
        self.remote().current.store(0, Ordering::Relaxed);
        if took >= self.shared.config.slow_poll_threshold {
            crate::debug::slow_poll(Some(self.index), id, name.as_deref(), location, took);
        }
    }

    /// The next task to run; the injector first if `injector_first`.
    fn next_task(&self, injector_first: bool, lifo_polls: &mut u32) -> Option<Notified> {
        let shared = &*self.shared;
        if injector_first {
            // Take a batch, not one task: with busy local queues, one task per
            // 61 polls would drain a burst of remote spawns 61x too slowly.
            // The batch joins the back of the local deque, behind its tasks.
            if let Some(t) = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local)) {
                self.remote().counters.injector_pull();
                return Some(t);
            }
        }
        if *lifo_polls < MAX_LIFO_POLLS {
            if let Some(t) = take_slot(&self.remote().lifo) {
                *lifo_polls += 1;
                self.remote().counters.lifo_hit();
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
        let t = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local));
        if t.is_some() {
            self.remote().counters.injector_pull();
        }
        t
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
                self.remote().counters.steal();
                return Some(t);
            }
        }
        if let Some(t) = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.local)) {
            self.remote().counters.injector_pull();
            return Some(t);
        }
        for i in 0..n {
            let victim = (start + i) % n;
            if victim != self.index {
                if let Some(t) = shared.steal_lifo(victim) {
                    self.remote().counters.steal();
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
