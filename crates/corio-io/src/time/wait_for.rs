//! [`wait_for`]: bound a future by a timeout (asyncio's `wait_for`).

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{far_add, sleep_until, Sleep};

/// Runs `fut` for at most `timeout`; on timeout `fut` is dropped (cancelled)
/// and `Err(TimeoutError)` returned.
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

/// The future returned by [`wait_for`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<F> {
    /// `None` once the timeout fired and the future was dropped.
    fut: Option<F>,
    sleep: Sleep,
}

impl<F> WaitFor<F> {
    /// The instant at which the wrapped future is given up.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(corio_io::time::wait_for_at(async {}, deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of the
        // `Option` (only dropped in place through `Pin::set`), and `WaitFor`
        // has no `Drop` impl and no `Unpin` impl that would expose it. `sleep`
        // is `Unpin` and is not treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `fut` stays where it is until dropped.
        let mut fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        if let Some(f) = fut.as_mut().as_pin_mut() {
            if let Poll::Ready(v) = f.poll(cx) {
                // Free the timer entry now rather than when `WaitFor` drops.
                this.sleep.cancel();
                fut.set(None);
                return Poll::Ready(Ok(v));
            }
        } else {
            return Poll::Ready(Err(TimeoutError(())));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => {
                // asyncio cancels the inner work on timeout: drop it now.
                fut.set(None);
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
