//! [`Sleep`]: a future completing at a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::Driver;
use crate::wheel::TimerKey;

/// Waits until `duration` has elapsed (asyncio's `sleep`).
///
/// ```
/// use std::time::{Duration, Instant};
/// futures_lite::future::block_on(async {
///     let start = Instant::now();
///     corio_io::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_add(Instant::now(), duration))
}

/// Waits until `deadline`.
///
/// ```
/// use std::time::{Duration, Instant};
/// futures_lite::future::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     corio_io::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// `base + d`, saturating at roughly thirty years out (an `Instant` cannot
/// hold `Duration::MAX`).
pub(crate) fn far_add(base: Instant, d: Duration) -> Instant {
    base.checked_add(d)
        .unwrap_or_else(|| base + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

/// A future that completes at its deadline; created by [`sleep`] and
/// [`sleep_until`].
///
/// It arms a timer entry on its first poll and frees it when dropped. It is
/// `Unpin`, so it can be polled through `&mut` without pinning.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
}

impl Sleep {
    /// The instant this sleep completes at.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(corio_io::time::sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// let s = corio_io::time::sleep(std::time::Duration::ZERO);
    /// assert!(s.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline; the sleep can be awaited again after completing.
    ///
    /// A sleep that is armed (polled and waiting) stays armed at the new
    /// deadline with the waker it last saw, so the task waiting on it is
    /// woken then even if nothing polls the sleep in between; a deadline
    /// already past wakes it at once.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// futures_lite::future::block_on(async {
    ///     let mut s = corio_io::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     (&mut s).await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(key) = self.key.take() {
            self.key = Driver::get().reset_timer(key, deadline);
        }
    }

    /// Frees the armed entry, if any.
    pub(crate) fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            Driver::get().cancel_timer(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.cancel();
            return Poll::Ready(());
        }
        Driver::get().arm_timer(&mut this.key, this.deadline, cx.waker())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
