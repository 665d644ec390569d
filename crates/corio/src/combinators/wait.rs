//! `wait(futures, ReturnWhen::...)`: wait until some or all of a set of
//! futures are done and hand back both halves (asyncio.wait).
//!
//! As in asyncio, `wait` never cancels anything: the futures still pending
//! come back to the caller unchanged, so they can be awaited again, passed to
//! another `wait`, or dropped. For [`JoinHandle`](crate::task::JoinHandle)s,
//! dropping one detaches its task rather than cancelling it; call `abort()`
//! to cancel.
//!
//! Why the conditions are types: `FirstException` must ask each output
//! whether it failed ([`Outcome`]), the other two need nothing of it. An
//! enum value cannot put a bound on the output type only for one of its
//! variants, so each condition is a type of its own
//! ([`FirstCompleted`](return_when::FirstCompleted),
//! [`FirstException`](return_when::FirstException),
//! [`AllCompleted`](return_when::AllCompleted)) and [`ReturnWhen`] names
//! them as constants: call sites read `ReturnWhen::FirstCompleted` as in
//! asyncio, `wait` accepts any output type for the two conditions that do
//! not look at it, and the condition is fixed at compile time.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::children::Children;
use super::outcome::Outcome;

/// When [`wait`] returns (asyncio's `return_when`): `ReturnWhen::FirstCompleted`,
/// `ReturnWhen::FirstException` or `ReturnWhen::AllCompleted`.
///
/// Each is a constant of its own type (see [`return_when`]), so the
/// condition is chosen at compile time and only `FirstException` asks the
/// outputs for [`Outcome`]. The type itself has no values.
///
/// ```
/// use corio::ReturnWhen;
/// # corio::run(async {
/// // Any output type works with FirstCompleted and AllCompleted.
/// struct Opaque(u8);
/// let futures = vec![Box::pin(async { Opaque(1) })];
/// let (done, pending) = corio::wait(futures, ReturnWhen::AllCompleted).await;
/// assert_eq!((done[0].0, pending.len()), (1, 0));
/// # });
/// ```
#[derive(Debug)]
pub struct ReturnWhen(());

#[allow(non_upper_case_globals)] // spelled as asyncio's constants, used like enum variants
impl ReturnWhen {
    /// Return as soon as at least one future is done (asyncio's
    /// `FIRST_COMPLETED`).
    pub const FirstCompleted: return_when::FirstCompleted = return_when::FirstCompleted;
    /// Return as soon as one future is done with an exception (an output
    /// whose [`Outcome::is_exception`] is true), or when all are done if
    /// none fails (asyncio's `FIRST_EXCEPTION`).
    pub const FirstException: return_when::FirstException = return_when::FirstException;
    /// Return when every future is done (asyncio's `ALL_COMPLETED`).
    pub const AllCompleted: return_when::AllCompleted = return_when::AllCompleted;
}

/// The conditions of [`wait`], one type each; name them as
/// `ReturnWhen::FirstCompleted` and so on.
pub mod return_when {
    use super::Outcome;

    /// See [`ReturnWhen::FirstCompleted`](crate::ReturnWhen::FirstCompleted).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FirstCompleted;

    /// See [`ReturnWhen::FirstException`](crate::ReturnWhen::FirstException).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FirstException;

    /// See [`ReturnWhen::AllCompleted`](crate::ReturnWhen::AllCompleted).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct AllCompleted;

    /// A condition [`wait`](crate::wait) can wait for, over outputs of type
    /// `T`. Sealed: the three conditions above are all there is.
    pub trait Condition<T>: sealed::Sealed + Copy {
        /// Whether `output`, just finished, ends the wait by itself.
        #[doc(hidden)]
        fn ends_on(&self, output: &T) -> bool;
        /// Whether `done` finished futures out of `total` end the wait.
        #[doc(hidden)]
        fn met(&self, done: usize, total: usize) -> bool;
    }

    impl<T> Condition<T> for FirstCompleted {
        fn ends_on(&self, _: &T) -> bool {
            true
        }
        fn met(&self, done: usize, _: usize) -> bool {
            done > 0
        }
    }

    impl<T: Outcome> Condition<T> for FirstException {
        fn ends_on(&self, output: &T) -> bool {
            output.is_exception()
        }
        fn met(&self, done: usize, total: usize) -> bool {
            done == total
        }
    }

    impl<T> Condition<T> for AllCompleted {
        fn ends_on(&self, _: &T) -> bool {
            false
        }
        fn met(&self, done: usize, total: usize) -> bool {
            done == total
        }
    }

    #[allow(unreachable_pub)] // the sealed-trait pattern: public in a private module
    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::FirstCompleted {}
        impl Sealed for super::FirstException {}
        impl Sealed for super::AllCompleted {}
    }
}

use return_when::Condition;

/// Waits for the futures of `futures` until `return_when` is met and resolves
/// to `(done, pending)` (asyncio's `done, pending = await wait(aws,
/// return_when=...)`).
///
/// - `done`: the outputs of the futures that finished, **in the order they
///   finished** (asyncio returns a set; the order is extra information);
/// - `pending`: the futures that did not finish, in input order, untouched
///   (never cancelled) and ready to be awaited again.
///
/// `return_when` is `ReturnWhen::FirstCompleted`, `ReturnWhen::AllCompleted`
/// (any output type) or `ReturnWhen::FirstException` (outputs implementing
/// [`Outcome`]); see [`ReturnWhen`].
///
/// The futures must be `Unpin` to be handed back: [`JoinHandle`]s are; pin
/// other futures with `Box::pin`. They run inside the task awaiting the
/// [`Wait`]; a wake-up polls only the futures that were woken.
///
/// An empty `futures` resolves at once to two empty vectors. asyncio raises
/// `ValueError` there, but `wait`'s `(done, pending)` has no error channel,
/// and with nothing to wait for, nothing done and nothing pending is the
/// true answer (a `while pending` loop simply ends); it never waits forever.
///
/// [`JoinHandle`]: crate::task::JoinHandle
///
/// ```
/// use corio::ReturnWhen;
/// # corio::run(async {
/// let futures = vec![
///     Box::pin(async { 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
///     Box::pin(std::future::pending()),
/// ];
/// let (done, pending) = corio::wait(futures, ReturnWhen::FirstCompleted).await;
/// assert_eq!(done, [1]);
/// assert_eq!(pending.len(), 1);
///
/// // Nothing to wait for: nothing done, nothing pending, at once.
/// let none: Vec<corio::JoinHandle<()>> = Vec::new();
/// let (done, pending) = corio::wait(none, ReturnWhen::FirstCompleted).await;
/// assert!(done.is_empty() && pending.is_empty());
/// # });
/// ```
pub fn wait<I, C>(futures: I, return_when: C) -> Wait<<I::Item as IntoFuture>::IntoFuture, C>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Unpin,
    C: Condition<<I::Item as IntoFuture>::Output>,
{
    Wait {
        children: Children::new(futures.into_iter().map(IntoFuture::into_future)),
        order: Vec::new(),
        return_when,
        ended: false,
        finished: false,
    }
}

/// [`wait`] with a time limit: resolves when `return_when` is met or when
/// `timeout` has passed, whichever comes first (asyncio's `wait(aws,
/// timeout=...)`).
///
/// Reaching the timeout is not an error: the futures that finished are in
/// `done`, the others in `pending`, none cancelled. An empty `futures`
/// resolves at once to two empty vectors, like [`wait`].
///
/// ```
/// use std::time::Duration;
/// use corio::ReturnWhen;
/// # corio::run(async {
/// let slow = corio::spawn(corio::time::sleep(Duration::from_secs(60)));
/// let fast = corio::spawn(async {});
/// # while !fast.is_finished() { corio::yield_now().await; }
/// let (done, pending) =
///     corio::wait_timeout([fast, slow], ReturnWhen::AllCompleted, Duration::from_millis(20))
///         .await;
/// assert_eq!((done.len(), pending.len()), (1, 1));
/// pending[0].abort(); // wait never cancels: cancel explicitly if wanted
/// # });
/// ```
pub fn wait_timeout<I, C>(
    futures: I,
    return_when: C,
    timeout: Duration,
) -> impl Future<Output = WaitOutput<<I::Item as IntoFuture>::IntoFuture>>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Unpin,
    C: Condition<<I::Item as IntoFuture>::Output>,
{
    let mut waiting = wait(futures, return_when);
    async move {
        if waiting.children.len() == 0 {
            return waiting.split();
        }
        let mut timer = std::pin::pin!(corio_io::time::sleep(timeout));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = Pin::new(&mut waiting).poll(cx) {
                return Poll::Ready(output);
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(waiting.split());
            }
            Poll::Pending
        })
        .await
    }
}

/// What [`wait`] and [`wait_timeout`] resolve to: the outputs of the futures
/// that finished, in completion order, and the futures that did not, in
/// input order.
pub type WaitOutput<F> = (Vec<<F as Future>::Output>, Vec<F>);

/// The future returned by [`wait`]; resolves to `(done outputs, pending
/// futures)`, two empty vectors for an empty input.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<F: Future, C> {
    children: Children<F>,
    /// Indices of the finished children, in completion order.
    order: Vec<usize>,
    return_when: C,
    /// Whether an output ended the wait by itself (FirstException's error).
    ended: bool,
    finished: bool,
}

impl<F: Future + Unpin, C> Wait<F, C> {
    /// Splits into `(done outputs in completion order, pending futures)`.
    fn split(&mut self) -> WaitOutput<F> {
        self.finished = true;
        let done = self
            .order
            .drain(..)
            .map(|index| {
                self.children
                    .slot(index)
                    .take_output()
                    .expect("a finished child's output is taken once")
            })
            .collect();
        (done, self.children.take_pending())
    }
}

impl<F, C> Future for Wait<F, C>
where
    F: Future + Unpin,
    C: Condition<F::Output>,
{
    type Output = WaitOutput<F>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(!this.finished, "Wait polled after it completed");
        if this.children.len() == 0 {
            // Nothing to wait for (asyncio raises ValueError; see `wait`).
            return Poll::Ready(this.split());
        }
        let (order, return_when, ended) = (&mut this.order, this.return_when, &mut this.ended);
        // Every woken child is polled, so `done` holds all that finished by
        // now (asyncio's `done` set), not only the first.
        let ControlFlow::Continue(()) = this.children.poll_pass(cx, |index, child| {
            order.push(index);
            if let Some(output) = child.output() {
                *ended |= return_when.ends_on(output);
            }
            ControlFlow::<Infallible>::Continue(())
        });
        let done = this.order.len();
        if this.ended || this.return_when.met(done, this.children.len()) {
            Poll::Ready(this.split())
        } else {
            Poll::Pending
        }
    }
}

// Nothing in a `Wait` is pinned in place: the futures are `Unpin` by the
// bound on `poll`, so a `Wait` may move freely.
impl<F: Future, C> Unpin for Wait<F, C> {}

impl<F: Future, C: fmt::Debug> fmt::Debug for Wait<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("len", &self.children.len())
            .field("done", &self.order.len())
            .field("return_when", &self.return_when)
            .finish()
    }
}
