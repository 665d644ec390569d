//! [`JoinHandle`] (asyncio's `Task` seen from the outside) and [`JoinError`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::abort_on_drop::AbortOnDrop;
use super::raw::RawTask;
use super::state::{OnWake, COMPLETE};
use super::Id;

/// An owned permission to await a spawned task's output (asyncio's `Task`
/// seen from outside).
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked
/// or was aborted. It may be moved to and awaited from any thread.
///
/// **Dropping it detaches the task, which runs on** (as if asyncio's
/// `shield` were around it). This differs from asyncio in one common place:
/// `wait_for(handle, t)` that times out drops the handle, so the task keeps
/// running, whereas asyncio's `wait_for(task, t)` cancels the task. Wrap the
/// handle with [`abort_on_drop`](Self::abort_on_drop) to cancel on drop, or
/// call [`abort`](Self::abort).
///
/// ```
/// let rt = corio_rt::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let h = corio_rt::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (`T: Send`) between threads; the
// task itself is reached through atomics.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`, `is_finished` and `id`, all
// atomic operations on the header.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` owns the JoinHandle's reference and JOIN_INTEREST, and its
    /// future's output type is `T`.
    pub(crate) unsafe fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Cancels the task: an idle or queued task is dropped by a worker without
    /// being polled again; a running one after its current poll. Awaiting the
    /// handle then yields a cancelled [`JoinError`] — unless the task had
    /// already finished, in which case its output is kept.
    ///
    /// ```
    /// let rt = corio_rt::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let h = corio_rt::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        let h = self.raw.header();
        if h.state.abort() == OnWake::Schedule {
            // SAFETY: `abort` added the reference the new Notified owns.
            unsafe { (h.vtable.schedule)(self.raw.as_ptr()) }
        }
    }

    /// Whether the task has finished (returned, panicked or was cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().has(COMPLETE)
    }

    /// The task's id, the same value [`crate::task::id`] returns inside it.
    pub fn id(&self) -> Id {
        self.raw.id()
    }

    /// Wraps the handle so that dropping it aborts the task instead of
    /// detaching it: asyncio's behaviour when `wait_for(task, t)` times out.
    ///
    /// ```
    /// use std::time::Duration;
    /// corio_rt::run(async {
    ///     let task = corio_rt::spawn(std::future::pending::<()>());
    ///     // asyncio: `await asyncio.wait_for(task, 0.01)` cancels the task.
    ///     let r = corio_io::time::wait_for(task.abort_on_drop(), Duration::from_millis(10)).await;
    ///     assert!(r.is_err()); // timed out, and the task was aborted
    /// });
    /// ```
    pub fn abort_on_drop(self) -> AbortOnDrop<T> {
        AbortOnDrop::new(self)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let h = self.raw.header();
        // SAFETY: `out` has the type `read_output` writes for this task.
        unsafe {
            (h.vtable.read_output)(self.raw.as_ptr(), &mut out as *mut _ as *mut (), cx.waker())
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference is given up here.
        unsafe { (self.raw.header().vtable.drop_join_handle)(self.raw.as_ptr()) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Why a task produced no output: it was cancelled or it panicked.
///
/// `Send + Sync`, so `?` carries it into `Box<dyn Error + Send + Sync>` or
/// an `anyhow::Error`, and [`into_panic`](JoinError::into_panic) still hands
/// back the panic payload itself.
///
/// ```
/// fn run() -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
///     let rt = corio_rt::Runtime::new()?;
///     let n = rt.block_on(rt.spawn(async { 7 }))?;
///     Ok(n)
/// }
/// assert_eq!(run().unwrap(), 7);
/// ```
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    /// Aborted, or its runtime shut down; with the reason when it was not
    /// one of those (a blocking closure no thread could be started for).
    Cancelled(Option<Box<str>>),
    /// The panic payload, and its message (read once, when the error is
    /// made, so that `&JoinError` never touches the payload).
    Panic(Payload, Option<Box<str>>),
}

/// A panic payload made `Sync`. A payload is only `Send` (`Box<dyn Any +
/// Send>`), which made `JoinError` `!Sync`. Behind a mutex it is `Sync`; the
/// mutex is never locked, because `&JoinError` never reaches the payload
/// (the message is copied out first) and `into_panic` takes it by value.
struct Payload(std::sync::Mutex<Box<dyn Any + Send + 'static>>);

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled(None),
        }
    }

    /// A task cancelled before it ever ran, for `reason`.
    pub(crate) fn cancelled_because(id: Id, reason: String) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled(Some(reason.into_boxed_str())),
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| Box::from(*s))
            .or_else(|| {
                payload
                    .downcast_ref::<String>()
                    .map(|s| Box::from(s.as_str()))
            });
        JoinError {
            id,
            repr: Repr::Panic(Payload(std::sync::Mutex::new(payload)), message),
        }
    }

    /// The task was aborted (or its runtime shut down, or it could not be
    /// started) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled(_))
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(..))
    }

    /// The panic payload, to inspect or resume with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is a cancellation; see [`JoinError::try_into_panic`].
    ///
    /// ```
    /// let rt = corio_rt::Runtime::new().unwrap();
    /// let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
    /// assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic payload, or the error back if it is a cancellation.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            // A poisoned mutex still holds the payload (it is never locked
            // anyway).
            Repr::Panic(p, _) => Ok(p.0.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled(_) => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(_, message) => message.as_deref(),
            Repr::Cancelled(_) => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled(None), _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Cancelled(Some(why)), _) => {
                write!(f, "task {} was cancelled: {why}", self.id)
            }
            (Repr::Panic(..), Some(msg)) => write!(f, "task {} panicked: {msg}", self.id),
            (Repr::Panic(..), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled(None) => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Cancelled(Some(why)) => write!(f, "JoinError::Cancelled({}, {why:?})", self.id),
            Repr::Panic(..) => write!(
                f,
                "JoinError::Panic({}, {:?})",
                self.id,
                self.panic_message()
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}
