//! Helpers shared by the corio-rt integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A generous bound for waits on signals: never reached unless broken.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) fn rt(workers: usize) -> corio_rt::Runtime {
    corio_rt::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Counts drops; also records whether each drop happened on a thread that
/// had a current corio runtime.
#[derive(Clone, Default, Debug)]
pub(crate) struct Drops {
    pub count: Arc<AtomicUsize>,
    pub off_runtime: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub(crate) struct DropGuard(pub Drops);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if corio_rt::Handle::try_current().is_none() {
            self.0.off_runtime.fetch_add(1, Ordering::SeqCst);
        }
        self.0.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that stays pending until `Gate::open`, storing its waker where
/// a test (on any thread) can reach it.
#[derive(Clone, Default, Debug)]
pub(crate) struct Gate {
    inner: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate::default()
    }

    pub(crate) fn wait(&self) -> GateWait {
        GateWait(self.clone())
    }

    pub(crate) fn open(&self) {
        let w = {
            let mut g = self.inner.lock().unwrap();
            g.0 = true;
            g.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }

    pub(crate) fn has_waiter(&self) -> bool {
        self.inner.lock().unwrap().1.is_some()
    }

    /// The stored waker, cloned.
    pub(crate) fn waker(&self) -> Option<Waker> {
        self.inner.lock().unwrap().1.clone()
    }
}

#[derive(Debug)]
pub(crate) struct GateWait(Gate);

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut g = self.0.inner.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Waits (with a generous bound) until `cond` holds.
pub(crate) fn wait_until(mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < PATIENCE,
            "condition not reached within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
