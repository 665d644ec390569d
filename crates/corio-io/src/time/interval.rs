//! [`Interval`]: a periodic timer with a policy for missed ticks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{far_add, sleep_until, Sleep};

/// What an [`Interval`] does when ticks were missed because the consumer
/// fell behind by at least one whole period.
///
/// With a period of 10 ms and ticks due at 10, 20, 30, 40 ms, a consumer that
/// comes back at 35 ms sees:
///
/// - `Burst`: ticks for 20 and 30 at once, then 40, 50, ... (catch up);
/// - `Delay`: one tick now, then 45, 55, ... (restart the schedule from now);
/// - `Skip`: one tick now, then 40, 50, ... (keep the original grid).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks as fast as they are polled. The default.
    #[default]
    Burst,
    /// Schedule the next tick one period after the late one was taken.
    Delay,
    /// Drop the missed ticks and stay on the original schedule.
    Skip,
}

/// A stream of ticks every `period`, the first one at once.
///
/// # Panics
///
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// futures_lite::future::block_on(async {
///     let mut every = corio_io::time::interval(Duration::from_millis(2));
///     let first = every.tick().await;
///     let second = every.tick().await;
///     assert!(second >= first + Duration::from_millis(2));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// A stream of ticks every `period`, the first one at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// ```
/// use std::time::{Duration, Instant};
/// futures_lite::future::block_on(async {
///     let start = Instant::now() + Duration::from_millis(3);
///     let mut every = corio_io::time::interval_at(start, Duration::from_secs(1));
///     assert_eq!(every.tick().await, start);
/// });
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

/// The periodic timer returned by [`interval`]; also a `Stream` of the
/// instants each tick was scheduled for.
#[derive(Debug)]
pub struct Interval {
    /// Armed for the next tick.
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let mut i = corio_io::time::interval(std::time::Duration::from_millis(1));
    ///     for _ in 0..3 {
    ///         i.tick().await;
    ///     }
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (the poll form of [`tick`](Self::tick)).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let on_grid = far_add(scheduled, self.period);
        let next = if now < on_grid {
            on_grid
        } else {
            match self.missed {
                MissedTickBehavior::Burst => on_grid,
                MissedTickBehavior::Delay => far_add(now, self.period),
                MissedTickBehavior::Skip => {
                    // The first grid point strictly after `now`.
                    let behind = now.duration_since(scheduled).as_nanos();
                    let periods = behind / self.period.as_nanos() + 1;
                    let step = self.period.as_nanos() * periods;
                    let step = Duration::from_nanos(u64::try_from(step).unwrap_or(u64::MAX));
                    far_add(scheduled, step)
                }
            }
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// let mut i = corio_io::time::interval(std::time::Duration::from_secs(1));
    /// i.reset();
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset(far_add(Instant::now(), self.period));
    }

    /// The period.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(corio_io::time::interval(Duration::from_secs(2)).period(), Duration::from_secs(2));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The policy for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the policy for missed ticks.
    ///
    /// ```
    /// use corio_io::time::{interval, MissedTickBehavior};
    /// let mut i = interval(std::time::Duration::from_millis(10));
    /// i.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
