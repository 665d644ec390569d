//! Helpers for the corio-sync loom models: drive futures by hand.
//!
//! `block_on` polls on the current loom thread and parks it between polls; its
//! waker sets a flag and unparks the thread. If a future is never woken, every
//! thread ends up parked or finished and loom reports a deadlock: that is how
//! the models see a lost wake-up or a hand-off that went nowhere.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

// The woken flag is scaffolding, not part of what is checked: a plain std
// atomic (loom runs every model thread on one OS thread, so it is coherent),
// while loom's park/unpark carries the causality from waker to poller.
use std::sync::atomic::{AtomicBool, Ordering};

struct Unparker {
    thread: loom::thread::Thread,
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `fut` to completion on this loom thread, parking between polls.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let unparker = StdArc::new(Unparker {
        thread: loom::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unparker.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        while !unparker.woken.swap(false, Ordering::SeqCst) {
            loom::thread::park();
        }
    }
}

/// Polls once with a waker that does nothing (a later `block_on` re-registers
/// its own waker under the primitive's mutex, so no wake-up can be missed).
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls once and asserts the future is waiting.
pub(crate) fn queued<F: Future + Unpin>(mut fut: F) -> F {
    assert!(
        poll_once(&mut fut).is_pending(),
        "expected the future to wait"
    );
    fut
}

/// A loom model with a preemption bound of 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise.
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}
