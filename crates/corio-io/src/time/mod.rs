//! Timers: [`sleep`], [`sleep_until`], [`interval`] and [`wait_for`].
//!
//! Every timer is an entry in the driver's hierarchical timing wheel (1 ms
//! resolution, levels of 64 slots). Deadlines are rounded *up* to the next
//! millisecond, so a timer never completes before its deadline; it may
//! complete up to a millisecond or so after it, plus scheduling delay.
//!
//! # Timer entry lifecycle
//!
//! A [`Sleep`] arms nothing when created. Its first `poll` before the
//! deadline inserts an entry with the task's waker (one lock, and one
//! `notify()` of the driver only if this deadline is earlier than the one the
//! driver sleeps until). Later polls only swap the waker if the task changed.
//! The entry leaves the wheel when it fires (the driver wakes the waker and
//! frees the entry) or when the `Sleep` is dropped or completes first (it
//! removes the entry itself). So a timeout that is never reached leaves
//! nothing behind; [`timer_entries`] counts what is armed.
//!
//! [`wait_for`] polls its future before its timer, so a future that is ready
//! at once never touches the wheel.

mod interval;
mod sleep;
mod wait_for;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use wait_for::{wait_for, wait_for_at, TimeoutError, WaitFor};

/// A point in monotonic time (std's [`std::time::Instant`]).
pub use std::time::Instant;

/// Number of timer entries currently armed in the driver's wheel.
///
/// A metrics and debugging aid: with no `Sleep` pending anywhere in the
/// process it is zero.
///
/// ```
/// use std::time::Duration;
/// let before = corio_io::time::timer_entries();
/// let mut sleep = corio_io::time::sleep(Duration::from_secs(60));
/// // Polling once arms the entry...
/// let waker = std::task::Waker::noop();
/// let _ = std::pin::Pin::new(&mut sleep).poll(&mut std::task::Context::from_waker(waker));
/// # use std::future::Future;
/// assert!(corio_io::time::timer_entries() >= before + 1);
/// // ...dropping the sleep frees it.
/// drop(sleep);
/// ```
pub fn timer_entries() -> usize {
    crate::driver::Driver::get().timer_count()
}
