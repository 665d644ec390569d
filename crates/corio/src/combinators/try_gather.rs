//! `try_gather(iter)`: like [`gather`](super::gather::gather) for futures
//! returning `Result`, stopping at the first `Err`.
//!
//! asyncio's `gather` lets the other children run on after an exception;
//! in Rust the children live inside the gather, and the point of stopping
//! early is not to wait for the rest, so the first `Err` drops every other
//! child at once (their `Drop` runs before `try_gather` returns).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::children::Children;

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
    TryGather {
        children: Children::new(futures.into_iter().map(IntoFuture::into_future)),
        finished: false,
    }
}

/// The future returned by [`try_gather`]; resolves to `Result<Vec<T>, E>`.
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future> {
    children: Children<F>,
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
        let failed = this.children.poll_pass(cx, |_, mut child| {
            if matches!(child.output(), Some(Err(_))) {
                if let Some(Err(error)) = child.as_mut().take_output() {
                    return ControlFlow::Break(error);
                }
            }
            ControlFlow::Continue(())
        });
        if let ControlFlow::Break(error) = failed {
            // Drop every other child now, in place.
            this.children.clear();
            this.finished = true;
            return Poll::Ready(Err(error));
        }
        if this.children.remaining() > 0 {
            return Poll::Pending;
        }
        this.finished = true;
        let outputs = this
            .children
            .take_outputs()
            .map(|output| match output {
                Ok(value) => value,
                Err(_) => unreachable!("every child finished with Ok"),
            })
            .collect();
        Poll::Ready(Ok(outputs))
    }
}

impl<F: Future> fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("len", &self.children.len())
            .field("remaining", &self.children.remaining())
            .finish()
    }
}
