//! [`wait_for`]: bound a future by a timeout (asyncio's `wait_for`).

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{far_add, sleep_until, Sleep};

/// Runs `fut` for at most `timeout`; on timeout `fut` is dropped (cancelled)
/// and `Err(TimeoutError)` returned (asyncio's `wait_for`).
///
/// Dropping `fut` cancels it when `fut` is the work itself (an `async`
/// block, a read, a sleep). A spawned task's `JoinHandle` is different:
/// dropping the handle *detaches* the task, which runs on, whereas asyncio's
/// `wait_for(task, t)` cancels the task. Pass `handle.abort_on_drop()` to
/// cancel the task on timeout as asyncio does.
///
/// `fut` is polled before the timer, so a result that is ready is returned
/// even when the timeout is zero, and a future that finishes on its first
/// poll never arms a timer.
///
/// ```
/// use std::time::Duration;
/// use corio_io::time::{sleep, wait_for};
/// futures_lite::future::block_on(async {
///     assert_eq!(wait_for(async { 7 }, Duration::from_secs(1)).await, Ok(7));
///     let slow = sleep(Duration::from_secs(3600));
///     assert!(wait_for(slow, Duration::from_millis(5)).await.is_err());
/// });
/// ```
pub fn wait_for<F: IntoFuture>(fut: F, timeout: Duration) -> WaitFor<F::IntoFuture> {
    wait_for_at(fut, far_add(Instant::now(), timeout))
}

/// Like [`wait_for`] with an absolute deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// let deadline = Instant::now() + Duration::from_secs(1);
/// let r = futures_lite::future::block_on(corio_io::time::wait_for_at(async { "done" }, deadline));
/// assert_eq!(r, Ok("done"));
/// ```
pub fn wait_for_at<F: IntoFuture>(fut: F, deadline: Instant) -> WaitFor<F::IntoFuture> {
    WaitFor {
        fut: Some(fut.into_future()),
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`wait_for`] and [`wait_for_at`].
    ///
    /// Its deadline can be read with [`deadline`](Self::deadline) and moved
    /// with [`reschedule`](Self::reschedule) while it waits (asyncio's
    /// `Timeout.when()` and `Timeout.reschedule()`).
    ///
    /// When the wrapped future is a task's handle, what "drop on timeout"
    /// means is up to the handle: dropping a corio `JoinHandle`
    /// *detaches* its task, which runs on, where asyncio's `wait_for` cancels
    /// the task. To cancel the task on timeout, wrap the handle with
    /// `JoinHandle::abort_on_drop()` first.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct WaitFor<F> {
        // `None` once the future finished or the timeout fired and the
        // future was dropped.
        #[pin]
        fut: Option<F>,
        sleep: Sleep,
    }
}

impl<F> WaitFor<F> {
    /// The instant at which the wrapped future is given up (asyncio's
    /// `Timeout.when()`).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(corio_io::time::wait_for_at(async {}, deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline to `deadline`, earlier or later (asyncio's
    /// `Timeout.reschedule(when)`).
    ///
    /// Takes effect at once, also between polls: a `WaitFor` already
    /// waiting is woken at the new deadline (at once if it has passed) even
    /// if nothing polls it in between. Once the `WaitFor` has resolved (the
    /// future finished, or the timeout fired and dropped it), rescheduling
    /// changes only what [`deadline`](Self::deadline) reports: the outcome
    /// stays as it was.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use corio_io::time::{sleep, wait_for};
    /// futures_lite::future::block_on(async {
    ///     // A 50 ms job under a 1 ms timeout, pushed out to 10 s before it fires.
    ///     let mut job = std::pin::pin!(wait_for(sleep(Duration::from_millis(50)), Duration::from_millis(1)));
    ///     let later = Instant::now() + Duration::from_secs(10);
    ///     job.as_mut().reschedule(later);
    ///     assert_eq!(job.deadline(), later);
    ///     assert_eq!(job.await, Ok(()));
    /// });
    /// ```
    pub fn reschedule(self: Pin<&mut Self>, deadline: Instant) {
        self.project().sleep.reset(deadline);
    }
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(TimeoutError(())));
        };
        if let Poll::Ready(v) = fut.poll(cx) {
            // Free the timer entry now rather than when `WaitFor` drops.
            this.sleep.cancel();
            this.fut.set(None);
            return Poll::Ready(Ok(v));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => {
                // asyncio cancels the inner work on timeout: drop it now.
                this.fut.set(None);
                Poll::Ready(Err(TimeoutError(())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of [`wait_for`]: the deadline passed before the future finished.
///
/// Converts into an [`io::Error`] of kind `TimedOut`, so `?` works in
/// functions returning `io::Result`.
///
/// ```
/// use std::time::Duration;
/// let e = futures_lite::future::block_on(corio_io::time::wait_for(
///     futures_lite::future::pending::<()>(),
///     Duration::from_millis(1),
/// ))
/// .unwrap_err();
/// assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutError(());

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the timeout expired before the operation completed")
    }
}

impl Error for TimeoutError {}

impl From<TimeoutError> for io::Error {
    fn from(e: TimeoutError) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
