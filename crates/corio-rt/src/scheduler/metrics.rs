//! Per-worker counters behind [`Runtime::metrics`](crate::Runtime::metrics).
//!
//! Each worker writes only its own counters, which sit on a cache line of
//! their own (`Remote::counters`), with a plain load and store instead of a
//! locked read-modify-write: nobody else writes them, so no increment is
//! lost, and a reader on another thread sees some recent value (Relaxed is
//! enough for a statistic that no protocol depends on). They are std
//! atomics even under loom, where they would only multiply the states to
//! explore.

use std::time::Duration;

use crate::loom::CounterU64;

/// What one worker has done since the runtime started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls.
    pub polls: u64,
    /// Successful steals from other workers (a batch from a deque, or a
    /// LIFO slot), counted once per steal.
    pub steals: u64,
    /// Times the worker ran out of work and parked.
    pub parks: u64,
    /// Tasks taken from the worker's own LIFO slot.
    pub lifo_hits: u64,
    /// Times the worker took tasks from the global injector.
    pub injector_pulls: u64,
    /// Time spent not parked (running tasks, looking for them).
    pub busy: Duration,
    /// I/O driver turns the worker took: blocking polls while idle and
    /// non-blocking looks while busy.
    pub driver_turns: u64,
}

/// One worker's counters; see the module header.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    polls: CounterU64,
    steals: CounterU64,
    parks: CounterU64,
    lifo_hits: CounterU64,
    injector_pulls: CounterU64,
    busy_ns: CounterU64,
    driver_turns: CounterU64,
}

/// Owner-only increment: a load and a store (see the module header).
#[inline(always)]
fn add(c: &CounterU64, n: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

impl WorkerCounters {
    #[inline(always)]
    pub(crate) fn poll(&self) {
        add(&self.polls, 1);
    }

    #[inline(always)]
    pub(crate) fn steal(&self) {
        add(&self.steals, 1);
    }

    #[inline(always)]
    pub(crate) fn park(&self) {
        add(&self.parks, 1);
    }

    #[inline(always)]
    pub(crate) fn lifo_hit(&self) {
        add(&self.lifo_hits, 1);
    }

    #[inline(always)]
    pub(crate) fn injector_pull(&self) {
        add(&self.injector_pulls, 1);
    }

    pub(crate) fn busy(&self, d: Duration) {
        add(
            &self.busy_ns,
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        );
    }

    pub(crate) fn set_driver_turns(&self, n: u64) {
        self.driver_turns
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// A snapshot, from any thread.
    pub(crate) fn read(&self) -> WorkerMetrics {
        use std::sync::atomic::Ordering::Relaxed;
        WorkerMetrics {
            polls: self.polls.load(Relaxed),
            steals: self.steals.load(Relaxed),
            parks: self.parks.load(Relaxed),
            lifo_hits: self.lifo_hits.load(Relaxed),
            injector_pulls: self.injector_pulls.load(Relaxed),
            busy: Duration::from_nanos(self.busy_ns.load(Relaxed)),
            driver_turns: self.driver_turns.load(Relaxed),
        }
    }
}
