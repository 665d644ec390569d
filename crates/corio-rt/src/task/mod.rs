//! Tasks: spawning, identity, and the handles to a running future
//! (asyncio's `create_task`, `Task`, `current_task`).
//!
//! The life of a task: [`spawn`] allocates it once (`harness::allocate`),
//! registers it, and queues its `Notified`; a worker pops and runs it
//! (`Notified::run` → `harness::run`); a `Waker` re-queues it through the
//! scheduler's `Schedule` impl; on completion the output waits in the cell
//! for the [`JoinHandle`]. The state protocol is in `state.rs`.
//!
//! The scheduler's own handles to a task (`new_task`, `RawTask`,
//! `Notified`, `Schedule`) stay inside the crate, because safe code holding
//! them could free a task twice; only loom builds lend them to the models
//! (`corio_rt::__model`):
//!
//! ```compile_fail
//! use corio_rt::task::RawTask;
//! ```
//! ```compile_fail
//! use corio_rt::__model::new_task;
//! ```

use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

mod abort_on_drop;
mod harness;
mod join;
pub(crate) mod raw;
pub(crate) mod registry;
mod state;
#[cfg(all(test, not(loom)))]
mod tests;
mod waker;

pub use abort_on_drop::AbortOnDrop;
pub use join::{JoinError, JoinHandle};
pub(crate) use raw::Header;
pub(crate) use raw::{new_task, Notified, RawTask, Schedule};

use crate::context;
use crate::loom::{Ordering, StaticAtomicU64};
use crate::scheduler::Shared;

/// A task's id, unique among all tasks of the process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        static NEXT: StaticAtomicU64 = StaticAtomicU64::new(1);
        // Relaxed: uniqueness needs only the atomicity of the increment.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("task id counter wrapped"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// Cancels a task that was never queued or registered (its runtime is
/// shutting down): drops the future at once, on the calling thread,
/// consuming the `Notified` and the registry reference `raw` stood for.
pub(crate) fn cancel_unspawned(notified: Notified, raw: RawTask) {
    // SAFETY: `raw` owns the registry reference it was returned with.
    unsafe { (raw.header().vtable.shutdown)(raw.as_ptr(), None) };
    drop(notified);
}

/// Cancels a registered task at shutdown (consumes the registry reference).
pub(crate) fn shutdown(raw: RawTask) {
    // SAFETY: the registry drain hands over the registry's reference.
    unsafe { (raw.header().vtable.shutdown)(raw.as_ptr(), None) }
}

/// Cancels a queued task that will never run, for `reason` (its JoinHandle
/// yields a cancelled [`JoinError`] that says why). Consumes the `Notified`.
pub(crate) fn cancel_queued(task: Notified, reason: String) {
    let raw = task.into_raw();
    // SAFETY: the Notified's reference, handed over here.
    unsafe { (raw.header().vtable.shutdown)(raw.as_ptr(), Some(reason)) }
}

/// Spawns a task on the current runtime (asyncio's `create_task`).
///
/// On a worker thread the task goes to that worker's LIFO slot, so it runs
/// next with its parent's data still in cache; from any other thread it
/// goes to the global injector and wakes a parked worker if needed.
///
/// # Panics
/// When called outside a corio runtime (no worker, `block_on` or blocking
/// thread on this thread's stack).
///
/// ```
/// corio_rt::run(async {
///     let h = corio_rt::spawn(async { "hello" });
///     assert_eq!(h.await.unwrap(), "hello");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    context::with_current(
        |shared| shared.spawn(future, None, location),
        "corio::spawn called outside of a corio runtime",
    )
}

/// Runs a blocking closure on the runtime's blocking pool and returns a
/// handle to its result (asyncio's `to_thread`). Threads are started on
/// demand up to `max_blocking_threads` and exit after 10 s idle. Aborting
/// the handle before the closure starts keeps it from running; once
/// started, it runs to the end.
///
/// # Panics
/// When called outside a corio runtime.
///
/// ```
/// corio_rt::run(async {
///     let sum = corio_rt::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 55);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = Location::caller();
    context::with_current(
        |shared| shared.blocking.spawn(f, location),
        "corio::spawn_blocking called outside of a corio runtime",
    )
}

/// Spawns tasks with options: a name (for debug reports and [`name`]) and
/// eager start (asyncio's eager tasks).
///
/// ```
/// corio_rt::run(async {
///     let h = corio_rt::task::Builder::new()
///         .name("worker-1")
///         .spawn(async { corio_rt::task::name() });
///     assert_eq!(h.await.unwrap().as_deref(), Some("worker-1"));
/// });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Box<str>>,
    eager: bool,
}

impl Builder {
    /// A builder with no name set, not eager.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Whether `spawn` polls the future once at once, on the calling thread,
    /// before returning (asyncio 3.12's eager tasks, `eager_start=True`).
    ///
    /// A future that finishes in that first poll never touches a run queue:
    /// its handle [`is_finished`](JoinHandle::is_finished) on return, and the
    /// spawn costs less than a queued one. A future that does not finish goes
    /// on as a normal task, woken by whatever it waits for; until then it has
    /// run as far as its first `Pending` inside the caller's poll, so it
    /// should be quick to reach one (as in asyncio, the caller waits for it
    /// meanwhile). [`task::id`](id) and [`task::name`](name) inside the first
    /// poll are the new task's, and a panic there is caught and given to the
    /// handle as for any task.
    ///
    /// ```
    /// corio_rt::run(async {
    ///     let h = corio_rt::task::Builder::new()
    ///         .eager(true)
    ///         .spawn(async { 6 * 7 });
    ///     assert!(h.is_finished(), "ran to the end inside spawn");
    ///     assert_eq!(h.await.unwrap(), 42);
    /// });
    /// ```
    pub fn eager(mut self, eager: bool) -> Builder {
        self.eager = eager;
        self
    }

    /// Spawns on the current runtime, like [`spawn`].
    ///
    /// # Panics
    /// When called outside a corio runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        context::with_current(
            |shared| self.spawn_with(shared, future, location),
            "corio::task::Builder::spawn called outside of a corio runtime",
        )
    }

    /// Spawns on the runtime behind `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &crate::Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(&handle.shared, future, Location::caller())
    }

    fn spawn_with<F>(
        self,
        shared: &Arc<Shared>,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.eager {
            spawn_eager(shared, future, self.name, location)
        } else {
            shared.spawn(future, self.name, location)
        }
    }
}

/// An eager spawn: the task is allocated and registered as usual, but the
/// caller runs its first step itself instead of queueing it. Running the
/// `Notified` here is what a worker would do with it, so every later step
/// (wake, re-queue, complete, cancel) is the ordinary path.
fn spawn_eager<F>(
    shared: &Arc<Shared>,
    future: F,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (notified, join, raw) = new_task(future, shared.clone(), name, location);
    if shared.registry.insert(raw) {
        if !shared.config.debug {
            // A poll of its own, with its own cooperative budget.
            if let Some(task) = crate::loom::io::budget(|| notified.run()) {
                // It yielded in its first poll: behind the others.
                shared.schedule_task(task, true);
            }
            return join;
        }
        // Debug mode times the caller's first poll as a worker times its
        // polls. The handle keeps the header alive for the report.
        let start = std::time::Instant::now();
        let yielded = crate::loom::io::budget(|| notified.run());
        let took = start.elapsed();
        if let Some(task) = yielded {
            shared.schedule_task(task, true);
        }
        if took >= shared.config.slow_poll_threshold {
            let h = raw.header();
            crate::debug::slow_poll(None, h.id, h.name.as_deref(), h.location, took);
        }
    } else {
        // The runtime is shutting down: the task never runs.
        cancel_unspawned(notified, raw);
    }
    join
}

/// The id of the task being polled on this thread.
///
/// # Panics
/// Outside a task (use [`try_id`]).
pub fn id() -> Id {
    try_id().expect("corio::task::id called outside of a task")
}

/// The id of the task being polled on this thread, if any.
///
/// ```
/// corio_rt::run(async {
///     let h = corio_rt::spawn(async { corio_rt::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// assert!(corio_rt::task::try_id().is_none());
/// ```
pub fn try_id() -> Option<Id> {
    // SAFETY: the pointer is set only for the duration of that task's poll,
    // during which the task is alive.
    context::current_task().map(|h| unsafe { h.as_ref() }.id)
}

/// The name of the task being polled on this thread, if it has one.
pub fn name() -> Option<String> {
    // SAFETY: as in `try_id`.
    context::current_task().and_then(|h| unsafe { h.as_ref() }.name.as_deref().map(String::from))
}

/// Yields to the scheduler once: the task goes to the back of its worker's
/// queue, so every other runnable task there runs first (asyncio's
/// `await asyncio.sleep(0)`).
///
/// ```
/// corio_rt::run(async {
///     corio_rt::yield_now().await;
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
