//! Test helpers: a minimal `block_on`, a hand-polled future (`Probe`) that
//! counts its wake-ups, and thread helpers. No runtime needed: corio-sync
//! works under any executor, and these tests use none.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

/// Generous bound for anything a test waits on; hitting it means a hang.
/// Under Miri (CI runs these tests there) every step is interpreted and the
/// clock is Miri's, so the bound is far longer; Miri reports a deadlock on
/// its own.
pub(crate) const PATIENCE: Duration = if cfg!(miri) {
    Duration::from_secs(3600)
} else {
    Duration::from_secs(30)
};

/// Rounds of a stress loop: `n` natively, a hundredth (at least 4) under
/// Miri, where each step costs a thousand times more. The loops still cross
/// threads and cancel at the same points, only fewer times.
pub(crate) const fn scale(n: usize) -> usize {
    if cfg!(miri) {
        if n / 100 < 4 {
            4
        } else {
            n / 100
        }
    } else {
        n
    }
}

struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Runs a future to completion on this thread, parking between polls.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let tw = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(tw.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        while !tw.woken.swap(false, Ordering::SeqCst) {
            thread::park();
        }
    }
}

/// Runs `f` on a new thread and returns its result, failing the test if it
/// does not finish within [`PATIENCE`] (a hang becomes a failure, not a stuck run).
pub(crate) fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PATIENCE).expect("thread hung or panicked")
}

/// Spawns `n` threads each running `f(i)`, joins them all within [`PATIENCE`].
pub(crate) fn run_threads<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    for i in 0..n {
        let f = f.clone();
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send((i, f(i)));
        });
    }
    drop(tx);
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for _ in 0..n {
        let (i, v) = rx
            .recv_timeout(PATIENCE)
            .expect("a thread hung or panicked");
        out[i] = Some(v);
    }
    out.into_iter().map(Option::unwrap).collect()
}

#[derive(Default)]
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand with a waker that counts its wake-ups.
pub(crate) struct Probe<F: Future> {
    fut: Pin<Box<F>>,
    wakes: Arc<CountWaker>,
    waker: Waker,
}

impl<F: Future> Probe<F> {
    pub(crate) fn new(fut: F) -> Self {
        let wakes = Arc::new(CountWaker::default());
        let waker = Waker::from(wakes.clone());
        Probe {
            fut: Box::pin(fut),
            wakes,
            waker,
        }
    }

    /// Polls once.
    pub(crate) fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls once, asserting it is pending.
    pub(crate) fn pending(mut self) -> Self {
        assert!(
            self.poll().is_pending(),
            "expected the future to be pending"
        );
        self
    }

    /// Polls once, expecting completion.
    pub(crate) fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    /// How many times the waker was woken.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
    }

    pub(crate) fn woken(&self) -> bool {
        self.wakes() > 0
    }
}

/// Polls a fresh future once and returns it pending.
pub(crate) fn pending<F: Future>(fut: F) -> Probe<F> {
    Probe::new(fut).pending()
}

/// Asserts at compile time that `T` is `Send + Sync`.
pub(crate) fn assert_send_sync<T: Send + Sync>() {}
