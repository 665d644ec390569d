//! `race(a, b)`: the first of two futures to finish; the other is dropped.
//!
//! asyncio has no `race`; the idiom is `asyncio.wait({a, b},
//! return_when=FIRST_COMPLETED)` and then cancelling the pending one. In Rust
//! the two futures live inside the `Race`, so cancelling the loser is
//! dropping it, which `Race` does the moment the winner finishes.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Runs `a` and `b` concurrently inside the current task and resolves to the
/// output of whichever finishes first; the other is dropped at that moment,
/// before `race` returns (its `Drop` runs, like a cancelled asyncio task).
///
/// `a` is polled before `b` on every poll, so if both are ready at the same
/// poll, `a` wins. For futures with different output types, use
/// [`select!`](crate::select!).
///
/// The asyncio equivalent is `wait({a, b}, return_when=FIRST_COMPLETED)`
/// followed by cancelling the pending one.
///
/// ```
/// use std::time::Duration;
/// # corio::run(async {
/// let fast = async {
///     corio::time::sleep(Duration::from_millis(5)).await;
///     "fast"
/// };
/// let slow = async {
///     corio::time::sleep(Duration::from_secs(60)).await;
///     "slow" // never reached: dropped when `fast` wins
/// };
/// assert_eq!(corio::race(slow, fast).await, "fast");
/// # });
/// ```
pub fn race<A, B>(a: A, b: B) -> Race<A::IntoFuture, B::IntoFuture>
where
    A: IntoFuture,
    B: IntoFuture<Output = A::Output>,
{
    Race {
        a: Some(a.into_future()),
        b: Some(b.into_future()),
    }
}

pin_project! {
    /// The future returned by [`race`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Race<A, B> {
        // Both `None` once one of them finished: the loser is dropped then.
        #[pin]
        a: Option<A>,
        #[pin]
        b: Option<B>,
    }
}

impl<A, B> Future for Race<A, B>
where
    A: Future,
    B: Future<Output = A::Output>,
{
    type Output = A::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<A::Output> {
        let mut this = self.project();
        let a = this.a.as_mut().as_pin_mut();
        let b = this.b.as_mut().as_pin_mut();
        let (Some(a), Some(b)) = (a, b) else {
            panic!("Race polled after it completed");
        };
        let output = match a.poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => match b.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
        };
        // Drop both in place: the winner is finished, the loser cancelled.
        this.a.set(None);
        this.b.set(None);
        Poll::Ready(output)
    }
}

impl<A, B> fmt::Debug for Race<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("finished", &self.a.is_none())
            .finish()
    }
}
