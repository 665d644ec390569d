//! [`AbortOnDrop`]: a [`JoinHandle`] that cancels its task when dropped, as
//! dropping an asyncio `Task` reference inside `wait_for` would.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Id, JoinError, JoinHandle};

/// A [`JoinHandle`] that aborts its task when dropped; made by
/// [`JoinHandle::abort_on_drop`].
///
/// A plain `JoinHandle` detaches its task when dropped. Wrapped in
/// `AbortOnDrop`, dropping it (for instance because `wait_for` timed out, or
/// a `select!` branch lost) cancels the task instead, which is what asyncio
/// does to a task awaited with `wait_for(task, t)`. Awaiting it yields the
/// task's result, as the handle would; once the task has finished, dropping
/// the wrapper changes nothing.
///
/// ```
/// use std::time::Duration;
/// corio_rt::run(async {
///     let slow = corio_rt::spawn(corio_io::time::sleep(Duration::from_secs(3600)));
///     // asyncio: `await asyncio.wait_for(task, 0.01)` cancels the task.
///     let timed_out =
///         corio_io::time::wait_for(slow.abort_on_drop(), Duration::from_millis(10)).await;
///     assert!(timed_out.is_err()); // the task was aborted when the wrapper was dropped
/// });
/// ```
#[must_use = "dropping an AbortOnDrop cancels its task at once"]
pub struct AbortOnDrop<T> {
    handle: Option<JoinHandle<T>>,
}

impl<T> AbortOnDrop<T> {
    pub(super) fn new(handle: JoinHandle<T>) -> AbortOnDrop<T> {
        AbortOnDrop {
            handle: Some(handle),
        }
    }

    fn handle(&self) -> &JoinHandle<T> {
        self.handle
            .as_ref()
            .expect("AbortOnDrop's handle is only taken by detach")
    }

    /// Cancels the task now (see [`JoinHandle::abort`]).
    pub fn abort(&self) {
        self.handle().abort();
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.handle().id()
    }

    /// Gives the plain handle back: dropping it then detaches the task again.
    ///
    /// ```
    /// corio_rt::run(async {
    ///     let guarded = corio_rt::spawn(async { 5 }).abort_on_drop();
    ///     let handle = guarded.detach();
    ///     assert_eq!(handle.await.unwrap(), 5);
    /// });
    /// ```
    pub fn detach(mut self) -> JoinHandle<T> {
        self.handle
            .take()
            .expect("AbortOnDrop's handle is only taken by detach")
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .as_mut()
            .expect("AbortOnDrop's handle is only taken by detach");
        Pin::new(handle).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            // A finished task ignores the abort and keeps its output.
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for AbortOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortOnDrop")
            .field("id", &self.handle.as_ref().map(JoinHandle::id))
            .finish()
    }
}
