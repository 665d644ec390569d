//! corio: Python's asyncio model on a work-stealing, multi-threaded runtime.
//!
//! This is the crate users depend on. It gathers the runtime (`corio-rt`),
//! the I/O driver, timers and sockets (`corio-io`) and the synchronization
//! primitives (`corio-sync`) under asyncio's names, and adds asyncio's
//! combinators:
//!
//! | asyncio                       | corio                                      |
//! |-------------------------------|--------------------------------------------|
//! | `asyncio.gather(a, b)`        | [`gather!`]`(a, b)`, [`gather`]`(iter)`, [`try_gather`] |
//! | `asyncio.wait(aws, return_when)` | [`wait`]`(iter, `[`ReturnWhen`]`)`      |
//! | `asyncio.as_completed(aws)`   | [`as_completed`]`(iter)`                   |
//!
//! The combinators run their children inside the task that awaits them; to
//! run work in parallel, spawn it and combine the `JoinHandle`s.
#![warn(missing_docs)]

mod combinators;

#[doc(hidden)]
pub mod __private;

pub use combinators::as_completed::{as_completed, AsCompleted};
pub use combinators::gather::{gather, Gather};
pub use combinators::try_gather::{try_gather, TryGather};
pub use combinators::wait::{wait, Outcome, ReturnWhen, Wait};
