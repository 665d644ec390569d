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
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(payload),
        }
    }

    /// The task was aborted (or its runtime shut down) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to inspect or resume with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is a cancellation; see [`JoinError::try_into_panic`].
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic payload, or the error back if it is a cancellation.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panic(_), Some(msg)) => write!(f, "task {} panicked: {msg}", self.id),
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic(_) => write!(
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
