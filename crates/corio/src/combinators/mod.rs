//! asyncio's combinators: `gather`, `try_gather`, `wait`, `as_completed`,
//! and `race` / `select!`.
//!
//! All of them run their children inside the task that awaits them (nothing is
//! spawned). The four over many children share one core ([`children`]): the
//! children pinned in place, a waker per child ([`ready_set`]) so a wake-up
//! polls only the children that were woken, and one drain per poll.

pub(crate) mod as_completed;
pub(crate) mod children;
pub(crate) mod gather;
pub(crate) mod maybe_done;
pub(crate) mod outcome;
pub(crate) mod race;
pub(crate) mod ready_set;
pub(crate) mod select;
pub(crate) mod try_gather;
pub(crate) mod wait;
