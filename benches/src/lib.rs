//! Shared pieces of corio's benchmarks. The workloads themselves live in
//! `benches/workloads/`, compiled into each bench target, because the peers
//! (tokio, smol) are dev-dependencies and only bench and example targets may
//! use them.
//!
//! What lives here is runtime-agnostic, so that every runtime under
//! comparison runs the very same code around its own scheduler: a workload's
//! "the last task signals" must not measure corio's oneshot against tokio's.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A countdown that one waiter awaits: `n` calls to [`Latch::count_down`]
/// release [`Latch::wait`].
///
/// Works under any executor (it only stores the waiter's `Waker`), so the
/// bench code around the runtime is identical for corio, tokio and smol.
///
/// ```
/// use corio_benches::Latch;
/// let latch = Latch::new(2);
/// latch.count_down();
/// latch.count_down();
/// assert!(latch.is_released());
/// ```
#[derive(Debug)]
pub struct Latch {
    remaining: AtomicUsize,
    waiter: Mutex<Option<Waker>>,
}

impl Latch {
    /// A latch released after `n` count-downs (`n == 0`: already released).
    pub fn new(n: usize) -> Arc<Latch> {
        Arc::new(Latch {
            remaining: AtomicUsize::new(n),
            waiter: Mutex::new(None),
        })
    }

    /// Counts one down; the last one wakes the waiter.
    pub fn count_down(&self) {
        // AcqRel: the waiter that sees zero also sees everything the
        // counting tasks did before counting down.
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Taking the waker under the lock pairs with `poll`, which
            // stores it under the lock and then re-checks the count: either
            // we find the waker here, or `poll` sees zero.
            let waker = self.waiter.lock().unwrap().take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// Whether the count reached zero.
    pub fn is_released(&self) -> bool {
        self.remaining.load(Ordering::Acquire) == 0
    }

    /// Resolves once the count reaches zero. One waiter at a time.
    pub fn wait(&self) -> Wait<'_> {
        Wait { latch: self }
    }
}

/// The future of [`Latch::wait`].
#[derive(Debug)]
pub struct Wait<'a> {
    latch: &'a Latch,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.latch.is_released() {
            return Poll::Ready(());
        }
        {
            let mut w = self.latch.waiter.lock().unwrap();
            match &mut *w {
                Some(old) => old.clone_from(cx.waker()),
                None => *w = Some(cx.waker().clone()),
            }
        }
        if self.latch.is_released() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_a_waiter_on_another_thread() {
        let latch = Latch::new(3);
        let l = latch.clone();
        let t = std::thread::spawn(move || {
            for _ in 0..3 {
                l.count_down();
            }
        });
        futures_lite::future::block_on(latch.wait());
        t.join().unwrap();
        assert!(latch.is_released());
    }
}
