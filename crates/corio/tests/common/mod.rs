//! Helpers shared by the runtime-level I/O tests.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// How long any one test may take before it counts as hung.
pub(crate) const BOUND: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and fails if it does not return within BOUND.
pub(crate) fn with_watchdog<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(BOUND)
        .unwrap_or_else(|_| panic!("{what}: no result within {BOUND:?}"))
}

/// A multi-thread runtime with `workers` workers.
pub(crate) fn runtime(workers: usize) -> corio::runtime::Runtime {
    corio::runtime::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}
