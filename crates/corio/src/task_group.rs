//! `TaskGroup`: structured concurrency, asyncio's `async with TaskGroup()`,
//! built to hold a server's connection tasks.
//!
//! Children are real tasks on the runtime (they run in parallel). Each runs
//! inside a small wrapper (`run_child`) whose guard reports how the child
//! ended to the group's shared state, whether it returned, panicked, or was
//! cancelled (its future dropped by an abort or by runtime shutdown).
//!
//! The shared state, under one lock, holds:
//! - the **live** children, in a slab: each entry is the child's spawn
//!   number and its `JoinHandle` (used only to abort it). An entry is
//!   removed when its child ends, so the slab is as large as the most
//!   children ever alive at once, not as the number ever spawned;
//! - the **results**: the `Ok` values with their spawn numbers (for a
//!   zero-sized `T`, such as `()`, no numbers are kept and the values take
//!   no memory at all, so a group of a million `()` children costs nothing
//!   once they are gone), the errors and panics with the order they
//!   happened in, and a count of cancelled children;
//! - the waker of `join()`, woken when the last live child ends.
//!
//! Cancellation protocol: `cancel` sets the `cancelled` flag **under the
//! lock** and aborts every live child's handle. `spawn` inserts the new
//! child's entry before spawning it (so `live` never drops to zero while a
//! child is adding a sibling) and stores the handle afterwards under the
//! same lock, aborting the child at once if the flag went up in between. So
//! every child is either seen by `cancel` or sees the flag: none is left
//! running. A child's wrapper also checks the flag before each poll, so a
//! sibling cancelled while queued never starts its future.
//!
//! A child finishing with `Err`, or panicking (caught at the poll that
//! raised it), is numbered in failure order and cancels the group.
//! `join()` waits until no child is live, children spawned through a
//! [`TaskGroupHandle`] meanwhile included. Dropping the group (or the
//! `join()` future) cancels whatever still runs: no orphans.

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

use parking_lot::Mutex;
use slab::Slab;

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
/// Children may add siblings through a [`handle`](Self::handle), which is
/// `Clone + Send` and can be moved into them; `join()` waits for those too.
/// The group holds memory for its live children only (plus the values it
/// must return), so a server can run every connection of its life in one
/// group of `()`-returning children.
///
/// ```
/// # corio::run(async {
/// use corio::task::TaskGroup;
///
/// let group = TaskGroup::new();
/// for i in 0..3u64 {
///     group.spawn(async move { Ok::<_, String>(i * 2) });
/// }
/// assert_eq!(group.join().await.unwrap(), [0, 2, 4]);
///
/// let group = TaskGroup::new();
/// group.spawn(async { Err::<(), _>("boom") });
/// group.spawn(std::future::pending()); // cancelled by the failure
/// let error = group.join().await.unwrap_err();
/// assert_eq!(error.errors(), ["boom"]);
/// # });
/// ```
pub struct TaskGroup<T, E> {
    shared: Arc<Shared<T, E>>,
}

/// A handle to a [`TaskGroup`] that can be cloned and sent into its children,
/// so they can add siblings (asyncio: calling `tg.create_task` from inside a
/// task of the group). Made by [`TaskGroup::handle`].
///
/// ```
/// # corio::run(async {
/// use corio::task::TaskGroup;
///
/// let group = TaskGroup::<u32, String>::new();
/// let handle = group.handle();
/// group.spawn(async move {
///     // A child adds two siblings; join() waits for them too.
///     handle.spawn(async { Ok(2) });
///     handle.spawn(async { Ok(3) });
///     Ok(1)
/// });
/// let mut values = group.join().await.unwrap();
/// values.sort();
/// assert_eq!(values, [1, 2, 3]);
/// # });
/// ```
pub struct TaskGroupHandle<T, E> {
    shared: Arc<Shared<T, E>>,
}

/// What the group, its handles and its children share.
struct Shared<T, E> {
    /// Set (under `state`'s lock) when the group starts cancelling its
    /// children; read without the lock by children before each poll.
    cancelled: AtomicBool,
    state: Mutex<State<T, E>>,
}

struct State<T, E> {
    /// The live children (see the module header).
    live: Slab<Live>,
    /// How many children were spawned; the next child's spawn number.
    spawned: u64,
    /// The `Ok` values, in the order they arrived.
    values: Vec<T>,
    /// The spawn number of each entry of `values`; empty when `T` is
    /// zero-sized (the order of equal, sizeless values is not kept).
    value_order: Vec<u64>,
    /// Errors and panics with the order they happened in.
    errors: Vec<(usize, E)>,
    panics: Vec<(usize, Box<dyn Any + Send + 'static>)>,
    failures: usize,
    cancelled: usize,
    /// `join()`'s waker, woken when `live` empties.
    joiner: Option<Waker>,
    /// Set when `join()` has returned: nothing left to cancel on drop.
    joined: bool,
}

/// One live child.
struct Live {
    seq: u64,
    /// `None` until `spawn` has stored it (the child may run first).
    handle: Option<JoinHandle<()>>,
}

/// How one child ended.
enum Ended<T, E> {
    Ok(T),
    Failed(E),
    Panicked(Box<dyn Any + Send + 'static>),
    Cancelled,
}

impl<T, E> Shared<T, E> {
    fn is_cancelled(&self) -> bool {
        // Acquire: pairs with the Release store in `cancel`; a child that
        // misses the flag is aborted by `cancel` instead (module header).
        self.cancelled.load(Ordering::Acquire)
    }

    /// Marks the group cancelled and aborts every live child.
    fn cancel(&self) {
        let handles = self.cancel_locked(&mut self.state.lock());
        abort_all(handles);
    }

    /// Sets the flag and takes the live children's handles, for the caller
    /// to abort once the lock is released (an abort reaches the scheduler;
    /// no foreign code runs under our lock).
    fn cancel_locked(&self, state: &mut State<T, E>) -> Vec<JoinHandle<()>> {
        // Release: see `is_cancelled`. Stored under the lock, which `spawn`
        // holds while it decides whether to abort a fresh child.
        self.cancelled.store(true, Ordering::Release);
        state
            .live
            .iter_mut()
            .filter_map(|(_, live)| live.handle.take())
            .collect()
    }

    /// Registers a new child and spawns it.
    #[track_caller]
    fn spawn<F>(self: &Arc<Self>, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (key, seq) = {
            let mut state = self.state.lock();
            let seq = state.spawned;
            state.spawned += 1;
            (state.live.insert(Live { seq, handle: None }), seq)
        };
        let guard = ChildGuard {
            shared: self.clone(),
            key,
            seq,
            ended: None,
        };
        let handle = crate::spawn(run_child(guard, future));
        let id = handle.id();
        let mut state = self.state.lock();
        if self.is_cancelled() {
            // `cancel` may have run before the handle was stored: abort it
            // here (the flag stays up, so no later cancel needs it).
            drop(state);
            handle.abort();
            return id;
        }
        let stale = match state.live.get_mut(key) {
            Some(live) if live.seq == seq => live.handle.replace(handle),
            // The child has already ended: nothing to keep.
            _ => Some(handle),
        };
        drop(state);
        drop(stale);
        id
    }

    /// Records how child `seq` ended and forgets it.
    fn child_ended(&self, key: usize, seq: u64, ended: Ended<T, E>) {
        let mut state = self.state.lock();
        let mut own = None;
        if state.live.get(key).is_some_and(|live| live.seq == seq) {
            own = state.live.remove(key).handle;
        }
        let mut to_abort = Vec::new();
        match ended {
            Ended::Ok(value) => {
                if std::mem::size_of::<T>() != 0 {
                    state.value_order.push(seq);
                }
                state.values.push(value);
            }
            Ended::Failed(error) => {
                let order = state.failures;
                state.failures += 1;
                state.errors.push((order, error));
                to_abort = self.cancel_locked(&mut state);
            }
            Ended::Panicked(payload) => {
                let order = state.failures;
                state.failures += 1;
                state.panics.push((order, payload));
                to_abort = self.cancel_locked(&mut state);
            }
            Ended::Cancelled => state.cancelled += 1,
        }
        let joiner = if state.live.is_empty() {
            state.joiner.take()
        } else {
            None
        };
        drop(state);
        // The child's own handle: dropping it only detaches the task.
        drop(own);
        abort_all(to_abort);
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }
}

fn abort_all(handles: Vec<JoinHandle<()>>) {
    for handle in handles {
        // Dropping the handle afterwards detaches the task, which ends as
        // cancelled and reports so through its guard.
        handle.abort();
    }
}

/// Reports how a child ended when dropped: on return (with `ended` set) or
/// when the child's future is dropped by an abort or by runtime shutdown
/// (`ended` still `None`: cancelled).
struct ChildGuard<T, E> {
    shared: Arc<Shared<T, E>>,
    key: usize,
    seq: u64,
    ended: Option<Ended<T, E>>,
}

impl<T, E> Drop for ChildGuard<T, E> {
    fn drop(&mut self) {
        let ended = self.ended.take().unwrap_or(Ended::Cancelled);
        self.shared.child_ended(self.key, self.seq, ended);
    }
}

/// The task of one child: runs `future` unless the group is cancelled first.
async fn run_child<F, T, E>(mut guard: ChildGuard<T, E>, future: F)
where
    F: Future<Output = Result<T, E>>,
{
    // Declared after `guard`, so an abort drops the future before the guard
    // reports the child ended.
    let mut future = pin!(Some(future));
    let result = poll_fn(|cx| {
        if guard.shared.is_cancelled() {
            return Poll::Ready(None);
        }
        let Some(running) = future.as_mut().as_pin_mut() else {
            unreachable!("the child's future is dropped only after its last poll");
        };
        match catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
            Ok(Poll::Ready(result)) => Poll::Ready(Some(Ok(result))),
            Err(payload) => Poll::Ready(Some(Err(payload))),
            Ok(Poll::Pending) => Poll::Pending,
        }
    })
    .await;
    // Drop the child's future now, before the group hears it ended; a panic
    // from its destructor is a panic of the child.
    let dropped = catch_unwind(AssertUnwindSafe(|| future.set(None)));
    guard.ended = Some(match (result, dropped) {
        (_, Err(payload)) | (Some(Err(payload)), _) => Ended::Panicked(payload),
        (Some(Ok(Ok(value))), Ok(())) => Ended::Ok(value),
        (Some(Ok(Err(error))), Ok(())) => Ended::Failed(error),
        (None, Ok(())) => Ended::Cancelled,
    });
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            shared: Arc::new(Shared {
                cancelled: AtomicBool::new(false),
                state: Mutex::new(State {
                    live: Slab::new(),
                    spawned: 0,
                    values: Vec::new(),
                    value_order: Vec::new(),
                    errors: Vec::new(),
                    panics: Vec::new(),
                    failures: 0,
                    cancelled: 0,
                    joiner: None,
                    joined: false,
                }),
            }),
        }
    }

    /// Spawns `future` as a task of this group on the current runtime and
    /// returns its task id (asyncio's `tg.create_task`).
    ///
    /// If the group is already cancelled (a child failed, or
    /// [`cancel`](Self::cancel) was called), the task ends at once as
    /// cancelled without polling `future`.
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime, like [`crate::spawn`].
    #[track_caller] // debug mode reports the caller as the spawn location
    pub fn spawn<F>(&self, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.shared.spawn(future)
    }

    /// A `Clone + Send` handle that spawns into this group, for children that
    /// add siblings (asyncio: a task calling `tg.create_task`).
    ///
    /// ```
    /// # corio::run(async {
    /// // A server: the accept loop is one child, each connection another.
    /// let group = corio::task::TaskGroup::<(), std::io::Error>::new();
    /// let connections = group.handle();
    /// group.spawn(async move {
    ///     for n in 0..3 {
    ///         // (a real server would accept a connection here)
    ///         connections.spawn(async move {
    ///             println!("serving connection {n}");
    ///             Ok(())
    ///         });
    ///     }
    ///     Ok(())
    /// });
    /// group.join().await.unwrap(); // waits for the connections too
    /// # });
    /// ```
    pub fn handle(&self) -> TaskGroupHandle<T, E> {
        TaskGroupHandle {
            shared: self.shared.clone(),
        }
    }

    /// How many children were spawned, finished or not.
    pub fn len(&self) -> usize {
        self.shared.state.lock().spawned as usize
    }

    /// Whether no child was spawned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many children are running (spawned and not yet ended); the
    /// group's memory follows this number, not [`len`](Self::len).
    ///
    /// ```
    /// # corio::run(async {
    /// let group = corio::task::TaskGroup::<(), ()>::new();
    /// group.spawn(std::future::pending());
    /// assert_eq!((group.len(), group.live()), (1, 1));
    /// group.cancel();
    /// assert!(group.join().await.is_err()); // one child cancelled
    /// # });
    /// ```
    pub fn live(&self) -> usize {
        self.shared.state.lock().live.len()
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

    /// Waits for every child, including those children add through a
    /// [`handle`](Self::handle) meanwhile. Resolves to the `Ok` values in
    /// spawn order if every child succeeded, else to a [`TaskGroupError`]
    /// with every error and panic in the order they happened.
    ///
    /// Children cancelled by the group are not errors; they are counted in
    /// [`TaskGroupError::cancelled`]. Dropping this future cancels the
    /// children still running.
    pub async fn join(self) -> Result<Vec<T>, TaskGroupError<E>> {
        poll_fn(|cx| {
            let mut state = self.shared.state.lock();
            if state.live.is_empty() {
                return Poll::Ready(());
            }
            match &mut state.joiner {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await;
        let mut state = self.shared.state.lock();
        state.joined = true;
        let mut values = std::mem::take(&mut state.values);
        let order = std::mem::take(&mut state.value_order);
        if !order.is_empty() {
            let mut numbered: Vec<(u64, T)> = order.into_iter().zip(values).collect();
            numbered.sort_by_key(|(seq, _)| *seq);
            values = numbered.into_iter().map(|(_, value)| value).collect();
        }
        let mut errors = std::mem::take(&mut state.errors);
        let mut panics = std::mem::take(&mut state.panics);
        let cancelled = state.cancelled;
        drop(state);
        // Nothing runs any more; a handle that spawns now gets a cancelled
        // child, as after a failure.
        self.shared.cancel();
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

impl<T, E> TaskGroupHandle<T, E> {
    /// Spawns `future` into the group, like [`TaskGroup::spawn`]; `join()`
    /// waits for it too.
    ///
    /// Once the group is cancelled, has been joined, or was dropped, the new
    /// task ends at once as cancelled without polling `future` (asyncio
    /// refuses to add tasks to a finished group).
    ///
    /// # Panics
    ///
    /// Panics outside a corio runtime, like [`crate::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.shared.spawn(future)
    }

    /// Whether the group is cancelling its children (see
    /// [`TaskGroup::is_cancelled`]), or is closed: joined or dropped, so a
    /// child spawned now would be cancelled at once.
    pub fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// Cancels the whole group, like [`TaskGroup::cancel`].
    pub fn cancel(&self) {
        self.shared.cancel();
    }
}

impl<T, E> Clone for TaskGroupHandle<T, E> {
    fn clone(&self) -> Self {
        TaskGroupHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<T, E> fmt::Debug for TaskGroupHandle<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        if !state.joined {
            // Aborted children drop their futures on a worker; `join` is not
            // there to wait for them, so no orphan outlives the group.
            let handles = self.shared.cancel_locked(&mut state);
            drop(state);
            abort_all(handles);
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("TaskGroup")
            .field("spawned", &state.spawned)
            .field("live", &state.live.len())
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
