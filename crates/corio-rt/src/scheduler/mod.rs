//! The work-stealing scheduler: where a task waits between a wake and a poll.
//!
//! The path of a task (see DESIGN.md "The flow of a task"):
//! 1. `spawn` / `wake` → [`Shared::schedule_task`]: on one of this runtime's
//!    workers the task goes to that worker's **LIFO slot** (the slot's
//!    previous occupant moves to the back of the local deque); from any
//!    other thread to the global **injector**. Either way, if the task is
//!    visible to other workers and none is searching, one parked worker is
//!    woken (`idle.rs`).
//! 2. A worker (`worker.rs`) pops: injector every 61st tick, LIFO slot (at
//!    most 3 in a row), local deque, injector, then steals.
//! 3. Stealing takes half of a random victim's deque; a victim's LIFO slot is
//!    taken only once its deque is empty and it has not moved on for a few
//!    microseconds (Go takes `runnext` the same way).
//! 4. Nothing found: the worker parks without losing a wakeup (`idle.rs`).
//!
//! A wake into an empty LIFO slot wakes nobody (the owner runs it next), so
//! a task woken just before its worker blocks in a long poll would be
//! stranded. The [`monitor`] thread catches that: a worker whose tick has not
//! moved for a monitor period while it has queued work gets a parked worker
//! woken to take its work, LIFO slot included.

use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::blocking::BlockingPool;
use crate::context;
use crate::loom::queue::{Injector, Stealer};
use crate::loom::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use crate::task::registry::Registry;
use crate::task::{self, Header, JoinHandle, Notified, RawTask, Schedule};

// `pub` items inside for the loom models (`corio_rt::__model`, loom builds only).
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub(crate) mod idle;
// `pub` items inside for the loom models (`corio_rt::__model`, loom builds only).
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub(crate) mod main_park;
pub(crate) mod metrics;
pub(crate) mod monitor;
// `pub` items inside for the loom models (`corio_rt::__model`, loom builds only).
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub(crate) mod park;
mod worker;

pub(crate) use worker::{run_worker, WorkerCtx};

use idle::Idle;
use park::Parker;

/// Settings fixed when the runtime is built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
}

/// What other threads may touch of one worker.
pub(crate) struct Remote {
    pub(crate) stealer: Stealer<Notified>,
    /// The LIFO slot: the task this worker woke or spawned last. A raw
    /// `Notified` (owning its reference) or null. The owner swaps tasks in
    /// and out; a thief swaps it to null (see `steal_lifo`).
    pub(crate) lifo: AtomicPtr<Header>,
    pub(crate) parker: Parker,
    /// Bumped once per scheduling decision; a tick that does not move while
    /// work waits means the worker is stuck in one poll.
    pub(crate) tick: CachePadded<AtomicU64>,
    /// Debug mode: the id of the task being polled (0 when none).
    pub(crate) current: AtomicU64,
    /// What this worker has done (`Runtime::metrics`); written only by it.
    pub(crate) counters: CachePadded<metrics::WorkerCounters>,
}

/// State shared by the workers, the handles and every task's waker.
pub(crate) struct Shared {
    pub(crate) injector: Injector<Notified>,
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) idle: Idle,
    pub(crate) registry: Registry,
    shutdown: AtomicBool,
    pub(crate) blocking: BlockingPool,
    pub(crate) config: Config,
    pub(crate) monitor: monitor::Monitor,
    /// The driver's turn reserved for a `block_on` thread (`main_park.rs`).
    pub(crate) turn_reservation: main_park::TurnReservation,
}

impl Shared {
    pub(crate) fn new(
        stealers: Vec<Stealer<Notified>>,
        blocking: BlockingPool,
        config: Config,
    ) -> Shared {
        let n = stealers.len();
        Shared {
            injector: Injector::new(),
            remotes: stealers
                .into_iter()
                .map(|stealer| Remote {
                    stealer,
                    lifo: AtomicPtr::new(std::ptr::null_mut()),
                    parker: Parker::new(),
                    tick: CachePadded::new(AtomicU64::new(0)),
                    current: AtomicU64::new(0),
                    counters: CachePadded::new(metrics::WorkerCounters::default()),
                })
                .collect(),
            idle: Idle::new(n),
            registry: Registry::new(),
            shutdown: AtomicBool::new(false),
            blocking,
            config,
            monitor: monitor::Monitor::new(),
            turn_reservation: main_park::TurnReservation::new(),
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// Allocates, registers and queues a task.
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (notified, join, raw) = task::new_task(future, self.clone(), name, location);
        if self.registry.insert(raw) {
            self.schedule_task(notified, false);
        } else {
            // The runtime is shutting down: the task never runs, and its
            // future is dropped here, on the spawning thread (runtime.rs).
            task::cancel_unspawned(notified, raw);
        }
        join
    }

    /// Queues a task: LIFO slot (or back of the local deque if it yielded)
    /// on this runtime's workers, the injector elsewhere.
    #[inline]
    pub(crate) fn schedule_task(self: &Arc<Self>, task: Notified, yielded: bool) {
        if let Some(w) = context::worker() {
            if Arc::ptr_eq(&w.shared, self) {
                w.push_local(task, yielded);
                return;
            }
        }
        if self.is_shutdown() {
            // Every task was or is being cancelled by the registry drain;
            // only the reference goes.
            drop(task);
            return;
        }
        self.injector.push(task);
        self.notify_one();
    }

    /// Wakes a parked worker if work became visible and nobody searches.
    #[inline]
    pub(crate) fn notify_one(&self) {
        if let Some(id) = self.idle.worker_to_notify() {
            self.remotes[id].parker.unpark();
        }
    }

    /// Is there work a producer would have notified for? Used by a parking
    /// worker's re-check (`Idle::park`).
    pub(crate) fn has_work(&self) -> bool {
        self.is_shutdown()
            || !self.injector.is_empty()
            || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        // Acquire/Release: whoever sees the flag also sees the registry
        // closed before it was set (`begin_shutdown`).
        self.shutdown.load(Ordering::Acquire)
    }

    /// Starts shutdown: no new tasks, every worker woken to drain and exit.
    pub(crate) fn begin_shutdown(&self) {
        self.registry.close();
        self.shutdown.store(true, Ordering::Release);
        for id in self.idle.take_all() {
            self.remotes[id].parker.unpark();
        }
        // A worker between its re-check and its park has already seen the
        // flag (it is part of `has_work`) or will be unparked here.
        for r in self.remotes.iter() {
            r.parker.unpark();
        }
        self.monitor.stop();
    }

    /// Drops whatever is left in the injector (only references by now).
    pub(crate) fn drain_injector(&self) {
        while let Some(t) = steal_retrying(|| self.injector.steal()) {
            drop(t);
        }
    }

    /// Takes `victim`'s LIFO task, if the victim's deque is empty and the
    /// victim has not moved on within a short grace period: a live worker
    /// runs its LIFO task next anyway, and taking it would only move a hot
    /// task away from its cache. A stuck one does not.
    pub(crate) fn steal_lifo(&self, victim: usize) -> Option<Notified> {
        let r = &self.remotes[victim];
        // Relaxed: a cheap pre-check; the task itself is taken by the
        // Acquire swap in `take_slot`.
        if r.lifo.load(Ordering::Relaxed).is_null() || !r.stealer.is_empty() {
            return None;
        }
        // Relaxed: the tick is a liveness hint, not a hand-off.
        let before = r.tick.load(Ordering::Relaxed);
        let start = std::time::Instant::now();
        // Go waits ~3µs before taking a running P's `runnext`; same idea.
        // The clock is read once per 64 spins: reading it every spin made
        // the wait itself a hot spot (clock_gettime) in spawn benchmarks.
        loop {
            for _ in 0..64 {
                if r.tick.load(Ordering::Relaxed) != before {
                    return None;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= LIFO_STEAL_GRACE {
                break;
            }
        }
        take_slot(&r.lifo)
    }
}

/// How long a thief waits for a victim to move on before taking its LIFO
/// task (Go uses 3µs for `runnext`).
const LIFO_STEAL_GRACE: Duration = Duration::from_micros(5);

/// Empties a LIFO slot.
pub(crate) fn take_slot(slot: &AtomicPtr<Header>) -> Option<Notified> {
    // Relaxed: only skips the swap when the slot looks empty. The owner
    // reads its own pushes; a thief that misses a concurrent push only
    // steals it later (or the owner runs it).
    if slot.load(Ordering::Relaxed).is_null() {
        return None;
    }
    // Acquire: pairs with the AcqRel swap that put the task in, so its
    // contents are visible to whoever runs it.
    let p = slot.swap(std::ptr::null_mut(), Ordering::Acquire);
    // SAFETY: a non-null slot holds a Notified's reference, now ours.
    NonNull::new(p).map(|p| unsafe { Notified::from_raw(RawTask::from_raw(p)) })
}

/// Retries a crossbeam steal until it is not `Retry`.
pub(crate) fn steal_retrying<T>(mut f: impl FnMut() -> crate::loom::queue::Steal<T>) -> Option<T> {
    loop {
        let s = f();
        if !s.is_retry() {
            return s.success();
        }
        std::hint::spin_loop();
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        self.schedule_task(task, false);
    }

    fn release(&self, task: RawTask) -> bool {
        self.registry.remove(task)
    }

    fn debug(&self) -> bool {
        self.config.debug
    }
}
