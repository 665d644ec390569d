//! The monitor thread: notices a worker stuck in one poll while work waits
//! behind it, and gets a parked worker woken to take that work.
//!
//! Every [`PERIOD`] it samples each worker's tick. A tick that has not moved
//! since the last sample, on a worker with a task in its LIFO slot or deque,
//! means the worker has been inside one poll for at least a period: a
//! notification goes out (`Shared::notify_one`), and the woken worker's
//! search takes the stuck worker's deque and, since that worker does not
//! move, its LIFO slot too. Workers that are parked have no queued work and
//! are skipped by the same test.
//!
//! In debug mode the monitor also reports a worker stuck longer than
//! `slow_poll_threshold`, once per stuck poll, with the task's id.

use std::sync::Arc;
use std::time::Duration;
#[cfg(not(loom))]
use std::time::Instant;

use super::Shared;
#[cfg(not(loom))]
use crate::loom::Ordering;
use crate::loom::{Condvar, Mutex};

/// Sampling period (Go's sysmon backs off to 10 ms; so do we, always).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const PERIOD: Duration = Duration::from_millis(10);

pub(crate) struct Monitor {
    stop: Mutex<bool>,
    cv: Condvar,
}

impl Monitor {
    pub(crate) fn new() -> Monitor {
        Monitor {
            stop: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn stop(&self) {
        *self.stop.lock() = true;
        self.cv.notify_all();
    }
}

#[cfg(not(loom))]
pub(crate) fn run(shared: Arc<Shared>) {
    let n = shared.num_workers();
    let mut last = vec![u64::MAX; n];
    let mut stuck_since: Vec<Option<Instant>> = vec![None; n];
    let mut reported = vec![false; n];
    loop {
        {
            let mut stop = shared.monitor.stop.lock();
            if *stop {
                return;
            }
            shared.monitor.cv.wait_for(&mut stop, PERIOD);
            if *stop {
                return;
            }
        }
        let now = Instant::now();
        for (i, r) in shared.remotes.iter().enumerate() {
            // Relaxed: a liveness hint; a stale read only delays a notice.
            let tick = r.tick.load(Ordering::Relaxed);
            let has_queued = !r.lifo.load(Ordering::Relaxed).is_null() || !r.stealer.is_empty();
            let busy = shared.config.debug && r.current.load(Ordering::Relaxed) != 0;
            if tick == last[i] && (has_queued || busy) {
                let since = *stuck_since[i].get_or_insert(now);
                if has_queued {
                    shared.notify_one();
                }
                if shared.config.debug
                    && !reported[i]
                    && now - since >= shared.config.slow_poll_threshold
                {
                    reported[i] = true;
                    crate::debug::stuck_worker(
                        i,
                        r.current.load(Ordering::Relaxed),
                        now - since,
                        has_queued,
                    );
                }
            } else {
                stuck_since[i] = None;
                reported[i] = false;
            }
            last[i] = tick;
        }
    }
}

/// Under loom the runtime's threads are not modelled; the monitor does nothing.
#[cfg(loom)]
pub(crate) fn run(shared: Arc<Shared>) {
    drop(shared);
}
