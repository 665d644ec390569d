//! `TaskGroup`: structured concurrency, asyncio's `async with TaskGroup()`.
//!
//! Children are real tasks on the runtime (they run in parallel). Each runs
//! inside a small wrapper that owns the group's cancellation protocol, so the
//! protocol works even when nobody is awaiting `join()` yet:
//!
//! - A child finishing with `Err`, or panicking (the wrapper catches the panic
//!   at the poll that raised it), takes a sequence number, marks the group
//!   cancelled and wakes every sibling.
//! - A woken sibling's wrapper sees the mark before it polls its future again,
//!   drops the future (its `Drop` runs, as `CancelledError` would unwind an
//!   asyncio task) and ends as *cancelled*, which is not an error.
//! - Every wrapper stores its task's waker in its own slot, under the slot's
//!   lock, before it re-checks the mark; the canceller sets the mark before it
//!   takes each slot's waker under that slot's lock. So either the canceller
//!   sees the waker or the wrapper sees the mark: no sibling sleeps through a
//!   cancellation. (One lock per child, not one per group, so that children
//!   parking on different workers do not contend.)
//! - `join()` awaits every child in spawn order and collects every error and
//!   panic, sorted in the order they happened. Dropping the group (or the
//!   `join()` future) cancels and aborts whatever still runs: no orphans.

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;

use crate::task::{Id, JoinHandle};

/// A set of tasks that succeed together or fail together (asyncio's
/// `TaskGroup`).
///
/// Spawn children returning `Result<T, E>` with [`spawn`](Self::spawn); the
/// first child to return `Err` or panic cancels all its siblings at once, even
/// before [`join`](Self::join) is awaited. `join()` waits for every child and
/// resolves to all the `Ok` values in spawn order, or to a
/// [`TaskGroupError`] carrying every error and panic (asyncio's
/// ExceptionGroup). Dropping the group without joining it cancels every child
/// still running.
///
/// ```
/// # corio::run(async {
/// use corio::task::TaskGroup;
///
/// let mut group = TaskGroup::new();
/// for i in 0..3u64 {
///     group.spawn(async move { Ok::<_, String>(i * 2) });
/// }
/// assert_eq!(group.join().await.unwrap(), [0, 2, 4]);
///
/// let mut group = TaskGroup::new();
/// group.spawn(async { Err::<(), _>("boom") });
/// group.spawn(std::future::pending()); // cancelled by the failure
/// let error = group.join().await.unwrap_err();
/// assert_eq!(error.errors(), ["boom"]);
/// # });
/// ```
pub struct TaskGroup<T, E> {
    shared: Arc<Shared>,
    children: Vec<JoinHandle<ChildOutcome<T, E>>>,
}

/// What the children and the group share.
struct Shared {
    /// Set once, when the group starts cancelling its children.
    cancelled: AtomicBool,
    /// Hands out the order in which children failed.
    next_failure: AtomicUsize,
    /// Every child's slot; locked only to add a child or to cancel.
    slots: Mutex<Vec<Arc<WakerSlot>>>,
}

/// The waker one child last parked with.
type WakerSlot = Mutex<Option<Waker>>;

impl Shared {
    fn is_cancelled(&self) -> bool {
        // SeqCst, paired with the slot locks in `cancel` and `park`; see the
        // module header for why no wake-up is lost.
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Marks the group cancelled and wakes every child so it notices.
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let wakers: Vec<Waker> = self
            .slots
            .lock()
            .iter()
            .filter_map(|slot| slot.lock().take())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }

    /// A child failed: number the failure and cancel the rest.
    fn fail(&self) -> usize {
        // Relaxed: the counter only orders failures for reporting; nothing
        // else is published through it.
        let order = self.next_failure.fetch_add(1, Ordering::Relaxed);
        self.cancel();
        order
    }
}

/// How one child ended, as its task reports it to `join()`.
enum ChildOutcome<T, E> {
    Ok(T),
    /// The child returned `Err`; the number orders failures in time.
    Failed(usize, E),
    /// The child panicked.
    Panicked(usize, Box<dyn Any + Send + 'static>),
    /// The group cancelled the child before it finished.
    Cancelled,
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            shared: Arc::new(Shared {
                cancelled: AtomicBool::new(false),
                next_failure: AtomicUsize::new(0),
                slots: Mutex::new(Vec::new()),
            }),
            children: Vec::new(),
        }
    }

    /// Spawns `future` as a task of this group on the current runtime and
    /// returns its task id.
    ///
    /// If the group is already cancelled (a child failed, or
    /// [`cancel`](Self::cancel) was called), the task ends at once as
    /// cancelled without polling `future`.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime, like [`crate::spawn`].
    #[track_caller] // debug mode reports the caller as the spawn location
    pub fn spawn<F>(&mut self, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let slot = Arc::new(WakerSlot::new(None));
        self.shared.slots.lock().push(slot.clone());
        let shared = self.shared.clone();
        let handle = crate::spawn(run_child(shared, slot, future));
        let id = handle.id();
        self.children.push(handle);
        id
    }

    /// How many children were spawned.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether no child was spawned.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Whether the group is cancelling its children: a child failed or
    /// [`cancel`](Self::cancel) was called. The code that spawns children can
    /// check this to stop early (asyncio interrupts the `async with` body).
    pub fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// Cancels every child that has not finished; children spawned later are
    /// cancelled at once. `join()` then reports the cancelled children in
    /// [`TaskGroupError::cancelled`].
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Waits for every child. Resolves to the `Ok` values in spawn order if
    /// every child succeeded, else to a [`TaskGroupError`] with every error
    /// and panic in the order they happened.
    ///
    /// Children cancelled by the group are not errors; they are counted in
    /// [`TaskGroupError::cancelled`]. Dropping this future cancels the
    /// children still running.
    pub async fn join(mut self) -> Result<Vec<T>, TaskGroupError<E>> {
        let mut values = Vec::with_capacity(self.children.len());
        let mut errors = Vec::new();
        let mut panics = Vec::new();
        let mut cancelled = 0;
        for handle in self.children.iter_mut() {
            match handle.await {
                Ok(ChildOutcome::Ok(value)) => values.push(value),
                Ok(ChildOutcome::Failed(order, error)) => errors.push((order, error)),
                Ok(ChildOutcome::Panicked(order, payload)) => panics.push((order, payload)),
                Ok(ChildOutcome::Cancelled) => cancelled += 1,
                // The wrapper catches the child's panics; one escaping it
                // came from dropping the child's future. Still a failure.
                Err(error) if error.is_panic() => {
                    self.shared.cancel();
                    panics.push((usize::MAX, error.into_panic()));
                }
                // Aborted from outside the group, e.g. by runtime shutdown.
                Err(_) => cancelled += 1,
            }
        }
        // Every child finished: nothing left for `Drop` to cancel.
        self.children.clear();
        if errors.is_empty() && panics.is_empty() && cancelled == 0 {
            return Ok(values);
        }
        errors.sort_by_key(|(order, _)| *order);
        panics.sort_by_key(|(order, _)| *order);
        Err(TaskGroupError {
            errors: errors.into_iter().map(|(_, error)| error).collect(),
            panics: panics
                .into_iter()
                .map(|(_, payload)| TaskPanic(Mutex::new(payload)))
                .collect(),
            cancelled,
        })
    }
}

/// Records that a child waits with `waker` (see the module header).
fn park(slot: &WakerSlot, waker: &Waker) {
    let mut slot = slot.lock();
    match &mut *slot {
        Some(old) if old.will_wake(waker) => {}
        other => *other = Some(waker.clone()),
    }
}

/// The task of one child: runs `future` unless the group is cancelled first.
async fn run_child<F, T, E>(
    shared: Arc<Shared>,
    slot: Arc<WakerSlot>,
    future: F,
) -> ChildOutcome<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut future = std::pin::pin!(future);
    let result = poll_fn(|cx| {
        if shared.is_cancelled() {
            return Poll::Ready(None);
        }
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => Poll::Ready(Some(Ok(result))),
            Err(payload) => Poll::Ready(Some(Err(payload))),
            Ok(Poll::Pending) => {
                park(&slot, cx.waker());
                if shared.is_cancelled() {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                }
            }
        }
    })
    .await;
    match result {
        Some(Ok(Ok(value))) => ChildOutcome::Ok(value),
        Some(Ok(Err(error))) => ChildOutcome::Failed(shared.fail(), error),
        Some(Err(payload)) => ChildOutcome::Panicked(shared.fail(), payload),
        // Returning drops `future` here, inside the child's own task.
        None => ChildOutcome::Cancelled,
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        // The wrappers drop their futures when next polled; `abort` also
        // covers a child the runtime has not polled at all yet.
        self.shared.cancel();
        for handle in &self.children {
            handle.abort();
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("children", &self.children.len())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The panic of one child of a [`TaskGroup`], kept so it can be re-raised
/// with `std::panic::resume_unwind`.
///
/// The payload sits behind a lock only so that a [`TaskGroupError`] is `Sync`
/// (for `Box<dyn Error + Send + Sync>`) when `E` is.
pub struct TaskPanic(Mutex<Box<dyn Any + Send + 'static>>);

impl TaskPanic {
    /// The panic message, when the payload is a string (as `panic!` makes it).
    pub fn message(&self) -> Option<String> {
        let payload = self.0.lock();
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    }

    /// The payload, for `std::panic::resume_unwind`.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.0.into_inner()
    }
}

impl fmt::Debug for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(message) => f.debug_tuple("TaskPanic").field(&message).finish(),
            None => f.write_str("TaskPanic(..)"),
        }
    }
}

impl fmt::Display for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(message) => write!(f, "task panicked: {message}"),
            None => f.write_str("task panicked"),
        }
    }
}

/// Every failure of a [`TaskGroup`]: asyncio's ExceptionGroup.
///
/// The errors the children returned and the panics they raised, each list in
/// the order the failures happened (so `errors()[0]` is the first error), and
/// how many children were cancelled.
///
/// ```
/// # corio::run(async {
/// let mut group = corio::task::TaskGroup::new();
/// group.spawn(async { Err::<(), _>(std::io::Error::other("disk full")) });
/// let error = group.join().await.unwrap_err();
/// assert_eq!(error.errors().len(), 1);
/// assert_eq!(error.errors()[0].to_string(), "disk full");
/// assert!(error.panics().is_empty());
/// # });
/// ```
pub struct TaskGroupError<E> {
    errors: Vec<E>,
    panics: Vec<TaskPanic>,
    cancelled: usize,
}

impl<E> TaskGroupError<E> {
    /// The errors children returned, in the order they happened.
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The errors children returned, in the order they happened (the panics
    /// are dropped).
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }

    /// The panics of children, in the order they happened.
    pub fn panics(&self) -> &[TaskPanic] {
        &self.panics
    }

    /// The panic payloads of children, in the order they happened (the
    /// errors are dropped).
    pub fn into_panics(self) -> Vec<Box<dyn Any + Send + 'static>> {
        self.panics
            .into_iter()
            .map(TaskPanic::into_payload)
            .collect()
    }

    /// The errors and the panics, taken apart.
    pub fn into_parts(self) -> (Vec<E>, Vec<TaskPanic>) {
        (self.errors, self.panics)
    }

    /// How many children were cancelled before they finished (by the group
    /// after a failure, by [`TaskGroup::cancel`], or from outside).
    pub fn cancelled(&self) -> usize {
        self.cancelled
    }

    /// How many children failed (errors plus panics).
    pub fn len(&self) -> usize {
        self.errors.len() + self.panics.len()
    }

    /// Whether no child failed (the group was only cancelled).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("errors", &self.errors)
            .field("panics", &self.panics)
            .field("cancelled", &self.cancelled)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "task group cancelled ({} tasks)", self.cancelled);
        }
        write!(f, "{} task(s) of the group failed", self.len())?;
        let errors = self.errors.iter().map(|e| e as &dyn fmt::Display);
        let panics = self.panics.iter().map(|p| p as &dyn fmt::Display);
        for (i, failure) in errors.chain(panics).enumerate() {
            write!(f, "{}{failure}", if i == 0 { ": " } else { "; " })?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}
