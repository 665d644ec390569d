//! `gather!(a, b, c)` and `gather(iter)`: run futures concurrently inside the
//! caller and collect every output in argument order (asyncio.gather).
//!
//! Neither spawns anything: the children run inside the task that awaits the
//! gather, so dropping the gather drops every child that has not finished
//! (asyncio cancels the children when the gather is cancelled). For work on
//! other threads, gather [`JoinHandle`](crate::task::JoinHandle)s.
//!
//! `gather(iter)` is built for large N: it keeps its children in the shared
//! core ([`Children`]), so a wake-up polls only the children that were
//! woken, not all N.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::children::Children;

/// Runs futures concurrently inside the current task and evaluates to the
/// tuple of their outputs, in argument order (asyncio's `await gather(a, b)`).
///
/// Like `futures::join!`, the macro awaits by itself, so it can only be used
/// inside an `async` block or function, and it takes any number of futures
/// (or `IntoFuture` values). Every argument is evaluated first, left to
/// right; the futures then run together, and the macro finishes when the last
/// one does. Nothing is spawned: dropping the enclosing future drops every
/// unfinished child.
///
/// ```
/// # corio::run(async {
/// let (a, b, c) = corio::gather!(async { 1 }, async { "two" }, async { 3.0 });
/// assert_eq!((a, b, c), (1, "two", 3.0));
/// # });
/// ```
#[macro_export]
macro_rules! gather {
    () => {
        ()
    };
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_impl!(@name [] $($future,)+)
    };
}

/// The body of [`gather!`]: gives every argument a variable of its own, then
/// polls them all until each is done.
///
/// The `@name` rule runs once per argument; the identifier `slot` it writes is
/// a fresh binding each time thanks to macro hygiene (every expansion has its
/// own syntax context), so N arguments get N distinct variables without a
/// counter.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    (@name [$($done:tt)*] $head:expr, $($rest:expr,)*) => {
        $crate::__gather_impl!(@name [$($done)* (slot $head)] $($rest,)*)
    };
    (@name [$(($slot:ident $future:expr))+]) => {{
        $(
            let mut $slot = ::core::pin::pin!($crate::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($future),
            ));
        )+
        ::core::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                all_done &= $slot.as_mut().poll_done(cx).is_ready();
            )+
            if all_done {
                ::core::task::Poll::Ready(())
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await;
        ($(
            $slot.as_mut().take_output().expect("gather!: output taken once"),
        )+)
    }};
}

/// Runs every future of `futures` concurrently inside the current task and
/// resolves to their outputs in input order (asyncio's `gather(*aws)`).
///
/// Nothing is spawned: the children run inside the task awaiting the
/// returned [`Gather`], and dropping it drops every unfinished child. A
/// wake-up polls only the children that were woken, so this stays cheap for
/// tens of thousands of children. An empty input resolves at once to an empty
/// `Vec`.
///
/// ```
/// # corio::run(async {
/// let squares = corio::gather((1..=4).map(|i| async move { i * i })).await;
/// assert_eq!(squares, [1, 4, 9, 16]);
/// # });
/// ```
pub fn gather<I>(futures: I) -> Gather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    Gather {
        children: Children::new(futures.into_iter().map(IntoFuture::into_future)),
    }
}

/// The future returned by [`gather()`]; resolves to `Vec<F::Output>` in input
/// order.
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    children: Children<F>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = &mut self.children;
        let ControlFlow::Continue(()) =
            children.poll_pass(cx, |_, _| ControlFlow::<Infallible>::Continue(()));
        if children.remaining() > 0 {
            return Poll::Pending;
        }
        let outputs: Vec<_> = children.take_outputs().collect();
        assert_eq!(
            outputs.len(),
            children.len(),
            "Gather polled after it completed"
        );
        Poll::Ready(outputs)
    }
}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("len", &self.children.len())
            .field("remaining", &self.children.remaining())
            .finish()
    }
}
