//! asyncio's combinators: `gather`, `try_gather`, `wait`, `as_completed`.
//!
//! All of them run their children inside the task that awaits them (nothing is
//! spawned), and all but `gather!` share [`ready_set`]: a waker per child, so
//! a wake-up polls only the children that were woken.

pub(crate) mod as_completed;
pub(crate) mod gather;
pub(crate) mod maybe_done;
pub(crate) mod ready_set;
pub(crate) mod try_gather;
pub(crate) mod wait;
