//! corio: Python's asyncio model on a work-stealing, multi-threaded runtime.
//!
//! This is the crate users depend on. It gathers the runtime (`corio-rt`), the
//! I/O driver, timers and sockets (`corio-io`) and the synchronization
//! primitives (`corio-sync`) under asyncio's names, and adds asyncio's
//! combinators and `TaskGroup`.
//!
//! ```
//! use std::time::Duration;
//!
//! async fn fetch(n: u64) -> u64 {
//!     corio::time::sleep(Duration::from_millis(n)).await;
//!     n * 10
//! }
//!
//! let total = corio::run(async {
//!     // Tasks run in parallel on the worker threads...
//!     let handles: Vec<_> = (1..=3).map(|n| corio::spawn(fetch(n))).collect();
//!     // ...and gather collects them in argument order.
//!     let results = corio::gather(handles).await;
//!     results.into_iter().map(Result::unwrap).sum::<u64>()
//! });
//! assert_eq!(total, 60);
//! ```
//!
//! | asyncio                          | corio                                              |
//! |----------------------------------|----------------------------------------------------|
//! | `asyncio.run(main())`            | [`run`]`(main())`, [`#[corio::main]`](macro@main)  |
//! | `asyncio.create_task(coro)`      | [`spawn`]`(fut)` → [`task::JoinHandle`]            |
//! | `asyncio.to_thread(f)`           | [`to_thread`]`(f)` (also [`spawn_blocking`])       |
//! | `asyncio.sleep(0)`               | [`yield_now`]`()`                                  |
//! | `asyncio.gather(a, b)`           | [`gather!`]`(a, b)`, [`gather`](gather())`(iter)`, [`try_gather`]`(iter)` |
//! | `asyncio.wait(aws, return_when)` | [`wait`]`(iter, `[`ReturnWhen`]`)`, [`wait_timeout`] |
//! | `asyncio.as_completed(aws)`      | [`as_completed`]`(iter)`                           |
//! | `wait({a, b}, FIRST_COMPLETED)` + cancel the rest | [`race`]`(a, b)`, [`select!`]       |
//! | `asyncio.wait_for(aw, t)`        | [`time::wait_for`]`(fut, t)`                       |
//! | `asyncio.TaskGroup()`            | [`task::TaskGroup`]                                |
//! | `create_task(coro, eager_start=True)` | [`task::Builder`]`::new().eager(true).spawn(fut)` |
//! | `asyncio.timeout(t).reschedule(when)` | [`time::WaitFor::reschedule`]                 |
//! | `contextvars.ContextVar`         | [`task_local!`], [`task::LocalKey`]                |
//! | `asyncio.shield(task)`           | drop the [`task::JoinHandle`]: the task runs on    |
//! | `wait_for(task, t)` cancelling `task` | [`task::JoinHandle::abort_on_drop`]           |
//! | `asyncio.Lock`, `Queue`, ...     | [`sync`]                                           |
//! | `asyncio.start_server(cb, h, p)` | [`net::start_server`]`(handler, addr)` → [`net::Server`] |
//! | `asyncio.open_connection(h, p)`  | [`net::open_connection`]`(addr)` → ([`net::StreamReader`], [`net::StreamWriter`]) |
//! | `loop.add_signal_handler(sig, f)` | [`signal::Signals`]`::new(&[sig])`, [`signal::ctrl_c`]`()` |
//! | `asyncio.create_subprocess_exec` | [`process::Command`]`::new(prog).spawn()`          |
//!
//! The combinators run their children inside the task that awaits them (like
//! asyncio's, which await in the caller's task); to run work in parallel,
//! spawn it and combine the `JoinHandle`s.
#![warn(missing_docs)]

mod combinators;
pub mod net;
mod task_group;
mod task_local;

#[doc(hidden)]
pub mod __private;

pub use combinators::as_completed::{as_completed, AsCompleted};
pub use combinators::gather::{gather, Gather};
pub use combinators::outcome::Outcome;
pub use combinators::race::{race, Race};
pub use combinators::try_gather::{try_gather, TryGather};
pub use combinators::wait::{return_when, wait, wait_timeout, ReturnWhen, Wait, WaitOutput};

pub use corio_rt::{run, spawn, spawn_blocking, yield_now};

// The types most programs name, also at the root (as asyncio has
// `asyncio.Task` and `asyncio.TaskGroup`); their home is the module.
#[doc(no_inline)]
pub use runtime::{Builder, Handle, Runtime};
#[doc(no_inline)]
pub use task::{JoinError, JoinHandle, TaskGroup, TaskGroupError};

/// Runs the blocking function `f` on the blocking thread pool and returns a
/// handle to its result: asyncio's `to_thread`, the same as
/// [`spawn_blocking`].
///
/// As in asyncio, cancelling the awaiter (or aborting the handle) does not
/// stop a function that already runs; it only discards its result.
///
/// ```
/// let n = corio::run(async {
///     corio::to_thread(|| std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0))
///         .await
///         .unwrap()
/// });
/// assert!(n > 0);
/// ```
#[track_caller]
pub fn to_thread<F, R>(f: F) -> task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    spawn_blocking(f)
}

/// The runtime: [`Runtime`], its [`Builder`] and [`Handle`] (asyncio's event
/// loop).
pub mod runtime {
    pub use corio_rt::runtime::{Builder, Handle, Runtime, RuntimeMetrics, WorkerMetrics};
}

/// Tasks: spawning, [`JoinHandle`], [`JoinError`], task ids and names, and
/// [`TaskGroup`] (asyncio's `Task`, `create_task` and `TaskGroup`).
pub mod task {
    pub use corio_rt::task::{
        id, name, spawn, spawn_blocking, try_id, yield_now, AbortOnDrop, Builder, Id, JoinError,
        JoinHandle, YieldNow,
    };

    pub use crate::task_group::{TaskGroup, TaskGroupError, TaskGroupHandle, TaskPanic};
    pub use crate::task_local::{AccessError, LocalKey, TaskLocalFuture};
    /// The cooperative budget: each poll of a task may complete
    /// [`BUDGET`](coop::BUDGET) ready I/O operations before the next one
    /// yields. See [`corio_io::coop`].
    pub use corio_io::coop;
}

/// asyncio's synchronization primitives (`Lock`, `Semaphore`, `Event`,
/// `Condition`, `Barrier`, `Queue`, ...): fair, cancel-safe, `Send + Sync`.
/// See the [`corio_sync`] crate.
pub mod sync {
    pub use corio_sync::*;
}

pub use corio_io::{io, time};

/// Unix signals as a future ([`ctrl_c`](signal::ctrl_c)) and a stream
/// ([`Signals`](signal::Signals)): asyncio's `loop.add_signal_handler`.
/// See [`corio_io::signal`].
///
/// ```no_run
/// use corio::signal::{Signals, SIGHUP, SIGTERM};
///
/// #[corio::main]
/// async fn main() -> std::io::Result<()> {
///     // asyncio: loop.add_signal_handler(signal.SIGTERM, stop.set)
///     let mut signals = Signals::new(&[SIGTERM, SIGHUP])?;
///     while let Some(sig) = signals.recv().await {
///         if sig == SIGHUP {
///             println!("reloading");
///         } else {
///             println!("stopping");
///             break;
///         }
///     }
///     Ok(())
/// }
/// ```
pub mod signal {
    pub use corio_io::signal::*;
}

/// Child processes: [`Command`](process::Command) and
/// [`Child`](process::Child), with pipes the driver watches: asyncio's
/// `create_subprocess_exec`. See [`corio_io::process`].
///
/// ```
/// use corio::process::{Command, Stdio};
///
/// let out = corio::run(async {
///     // asyncio: proc = await asyncio.create_subprocess_exec(
///     //     "echo", "hi", stdout=PIPE); out, _ = await proc.communicate()
///     Command::new("echo").arg("hi").stdout(Stdio::piped()).output().await
/// })
/// .unwrap();
/// assert_eq!(out.stdout, b"hi\n");
/// ```
pub mod process {
    pub use corio_io::process::*;
}

pub use corio_macros::{main, test};

/// Misuse of `#[corio::main]` and `#[corio::test]` is a compile error.
///
/// Not async:
/// ```compile_fail
/// #[corio::main]
/// fn main() {}
/// ```
/// Zero workers:
/// ```compile_fail
/// #[corio::main(worker_threads = 0)]
/// async fn main() {}
/// ```
/// Unknown argument:
/// ```compile_fail
/// #[corio::main(flavor = "current_thread")]
/// async fn main() {}
/// ```
/// Not an integer:
/// ```compile_fail
/// #[corio::main(worker_threads = "4")]
/// async fn main() {}
/// ```
/// Arguments:
/// ```compile_fail
/// #[corio::test]
/// async fn takes_an_argument(x: u32) {}
/// ```
/// A second `#[test]`:
/// ```compile_fail
/// #[corio::test]
/// #[test]
/// async fn twice() {}
/// ```
/// And the correct forms compile:
/// ```
/// #[corio::main(worker_threads = 2, debug = false)]
/// async fn main() -> Result<(), std::io::Error> {
///     let v = corio::spawn(async { 1 }).await.unwrap();
///     assert_eq!(v, 1);
///     Ok(())
/// }
/// ```
#[cfg(doctest)]
pub struct MacroMisuse;

/// The README's Rust examples, compiled and run as doctests so that they
/// keep using the API's names as they are.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
