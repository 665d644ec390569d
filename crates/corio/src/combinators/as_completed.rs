//! `as_completed(iter)`: the outputs of many futures in the order they finish
//! (asyncio.as_completed).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::stream::{FusedStream, Stream};

use super::maybe_done::{pin_index, MaybeDone};
use super::ready_set::ReadySet;

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
    let slots: Box<[_]> = futures
        .into_iter()
        .map(|f| MaybeDone::new(f.into_future()))
        .collect();
    let len = slots.len();
    AsCompleted {
        slots: Box::into_pin(slots),
        ready: ReadySet::new(len),
        polling: Vec::new(),
        remaining: len,
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    slots: Pin<Box<[MaybeDone<F>]>>,
    ready: ReadySet,
    /// Woken children drained from `ready` but not polled yet: a poll that
    /// returns an output leaves the rest here for the next poll.
    polling: Vec<usize>,
    /// Futures whose output was not yielded yet.
    remaining: usize,
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
        self.remaining
    }

    /// Whether every output was yielded.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// Polls the woken children in `polling`; the first to finish gives its
    /// output.
    fn poll_woken(&mut self) -> Option<F::Output> {
        while let Some(index) = self.polling.pop() {
            let mut slot = pin_index(self.slots.as_mut(), index);
            if slot.is_done() {
                continue;
            }
            let mut child_cx = Context::from_waker(self.ready.waker(index));
            if slot.as_mut().poll_done(&mut child_cx).is_ready() {
                self.remaining -= 1;
                return slot.take_output();
            }
        }
        None
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = &mut *self;
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        // Leftovers from the previous poll first, then one fresh drain (one
        // only: a child that wakes itself must not keep us here forever).
        if let Some(output) = this.poll_woken() {
            return Poll::Ready(Some(output));
        }
        this.ready.drain(cx.waker(), &mut this.polling);
        match this.poll_woken() {
            Some(output) => Poll::Ready(Some(output)),
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.remaining == 0
    }
}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.slots.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}
