//! `as_completed(iter)`: the outputs of many futures in the order they finish
//! (asyncio.as_completed).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::stream::{FusedStream, Stream};

use super::children::Children;

/// Runs the futures of `futures` concurrently inside the current task and
/// yields each output as soon as its future finishes, in completion order.
///
/// The result is a [`futures_core::Stream`]; without a `StreamExt` at hand,
/// use the inherent [`AsCompleted::next`]. Nothing is spawned: dropping the
/// stream drops the futures that have not finished. A wake-up polls only the
/// futures that were woken.
///
/// ```
/// # corio::run(async {
/// let mut outputs = corio::as_completed((0..3).map(|i| async move { i * 10 }));
/// let mut seen = Vec::new();
/// while let Some(value) = outputs.next().await {
///     seen.push(value);
/// }
/// seen.sort();
/// assert_eq!(seen, [0, 10, 20]);
/// # });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    AsCompleted {
        children: Children::new(futures.into_iter().map(IntoFuture::into_future)),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    children: Children<F>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to finish, or `None` once every output was yielded.
    ///
    /// The same as `StreamExt::next`, for callers without a stream-extension
    /// crate.
    pub async fn next(&mut self) -> Option<F::Output> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// How many outputs are still to come.
    pub fn len(&self) -> usize {
        self.children.remaining()
    }

    /// Whether every output was yielded.
    pub fn is_empty(&self) -> bool {
        self.children.remaining() == 0
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let children = &mut self.children;
        if children.remaining() == 0 {
            return Poll::Ready(None);
        }
        // The first child to finish gives its output; the other woken
        // children wait for the next call.
        match children.poll_pass(cx, |_, child| match child.take_output() {
            Some(output) => ControlFlow::Break(output),
            None => ControlFlow::Continue(()),
        }) {
            ControlFlow::Break(output) => Poll::Ready(Some(output)),
            ControlFlow::Continue(()) => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.children.remaining();
        (remaining, Some(remaining))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.children.remaining() == 0
    }
}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.children.len())
            .field("remaining", &self.children.remaining())
            .finish()
    }
}
