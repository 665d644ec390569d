//! `try_gather(iter)`: like [`gather`](super::gather::gather) for futures
//! returning `Result`, stopping at the first `Err`.
//!
//! asyncio's `gather` lets the other children run on after an exception;
//! in Rust the children live inside the gather, and the point of stopping
//! early is not to wait for the rest, so the first `Err` drops every other
//! child at once (their `Drop` runs before `try_gather` returns).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::maybe_done::{pin_index, MaybeDone};
use super::ready_set::ReadySet;

/// Runs fallible futures concurrently inside the current task; resolves to
/// every `Ok` value in input order, or to the first `Err` to happen, in which
/// case the unfinished children are dropped at once.
///
/// "First" means first in time, not in input order. Nothing is spawned.
///
/// ```
/// # corio::run(async {
/// let all: Result<Vec<i32>, String> =
///     corio::try_gather((1..=3).map(|i| async move { Ok(i) })).await;
/// assert_eq!(all, Ok(vec![1, 2, 3]));
///
/// let failed = corio::try_gather(vec![
///     Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
///     Box::pin(async { Err("boom") }),
///     Box::pin(std::future::pending()), // dropped once the Err arrives
/// ])
/// .await;
/// assert_eq!(failed, Err("boom"));
/// # });
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let slots: Box<[_]> = futures
        .into_iter()
        .map(|f| MaybeDone::new(f.into_future()))
        .collect();
    let len = slots.len();
    TryGather {
        slots: Box::into_pin(slots),
        ready: ReadySet::new(len),
        scratch: Vec::new(),
        remaining: len,
        finished: false,
    }
}

/// The future returned by [`try_gather`]; resolves to `Result<Vec<T>, E>`.
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future> {
    slots: Pin<Box<[MaybeDone<F>]>>,
    ready: ReadySet,
    scratch: Vec<usize>,
    remaining: usize,
    finished: bool,
}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(!this.finished, "TryGather polled after it completed");
        if this.remaining > 0 {
            this.ready.drain(cx.waker(), &mut this.scratch);
            while let Some(index) = this.scratch.pop() {
                let mut slot = pin_index(this.slots.as_mut(), index);
                if slot.is_done() {
                    continue;
                }
                let mut child_cx = Context::from_waker(this.ready.waker(index));
                if slot.as_mut().poll_done(&mut child_cx).is_pending() {
                    continue;
                }
                this.remaining -= 1;
                if matches!(&*slot, MaybeDone::Done(Err(_))) {
                    let Some(Err(error)) = slot.take_output() else {
                        unreachable!("checked to be Done(Err) above")
                    };
                    // Drop every other child now, in place.
                    this.slots = Box::into_pin(Box::new([]));
                    this.finished = true;
                    return Poll::Ready(Err(error));
                }
            }
            if this.remaining > 0 {
                return Poll::Pending;
            }
        }
        this.finished = true;
        let outputs = (0..this.slots.len())
            .map(
                |index| match pin_index(this.slots.as_mut(), index).take_output() {
                    Some(Ok(value)) => value,
                    _ => unreachable!("every child finished with Ok"),
                },
            )
            .collect();
        Poll::Ready(Ok(outputs))
    }
}

impl<F: Future> fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("len", &self.slots.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}
