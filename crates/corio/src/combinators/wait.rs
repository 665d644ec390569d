//! `wait(futures, ReturnWhen)`: wait until some or all of a set of futures
//! are done and hand back both halves (asyncio.wait).
//!
//! As in asyncio, `wait` never cancels anything: the futures still pending
//! come back to the caller unchanged, so they can be awaited again, passed to
//! another `wait`, or dropped. For [`JoinHandle`](crate::task::JoinHandle)s,
//! dropping one detaches its task rather than cancelling it; call `abort()`
//! to cancel.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::ready_set::ReadySet;

/// When [`wait`] returns (asyncio's `return_when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as at least one future is done.
    FirstCompleted,
    /// As soon as one future is done with an exception (see [`Outcome`]), or
    /// when all are done if none fails.
    FirstException,
    /// When every future is done.
    AllCompleted,
}

/// Tells [`ReturnWhen::FirstException`] whether an output is a failure,
/// asyncio's "the task raised".
///
/// A `Result` is a failure when it is an `Err`, or when its `Ok` value is
/// itself a failure: so a [`JoinHandle<Result<T, E>>`](crate::task::JoinHandle)
/// whose task panicked, was cancelled, or returned `Err` all count. Plain
/// values (numbers, strings, `()`, collections, tuples, sockets, files, boxes
/// of those) never fail. Implement this for your own output types to use them
/// with `wait` (returning `false` is always a valid choice); for a foreign
/// type without an implementation, map the output into a one-element tuple
/// `(value,)`.
///
/// ```
/// use corio::Outcome;
/// assert!(Err::<i32, &str>("boom").is_exception());
/// assert!(Ok::<Result<(), &str>, ()>(Err("inner")).is_exception());
/// assert!(!Ok::<i32, ()>(7).is_exception());
/// assert!(!42u8.is_exception());
/// ```
pub trait Outcome {
    /// Whether this output is a failure.
    fn is_exception(&self) -> bool;
}

impl<T: Outcome, E> Outcome for Result<T, E> {
    fn is_exception(&self) -> bool {
        match self {
            Ok(value) => value.is_exception(),
            Err(_) => true,
        }
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn is_exception(&self) -> bool {
        self.as_ref().is_some_and(Outcome::is_exception)
    }
}

impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_exception(&self) -> bool {
        (**self).is_exception()
    }
}

/// Types whose values are never failures.
macro_rules! never_fails {
    ($($ty:ty),* $(,)?) => {
        $(impl Outcome for $ty {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    str,
    String,
    std::ffi::OsString,
    std::path::PathBuf,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::net::SocketAddr,
    std::net::IpAddr,
    std::fs::File,
    std::process::ExitStatus,
    std::process::Output,
    std::net::TcpStream,
    std::net::TcpListener,
    std::net::UdpSocket,
    corio_io::net::TcpStream,
    corio_io::net::TcpListener,
    corio_io::net::UdpSocket,
    corio_io::net::UnixStream,
    corio_io::net::UnixListener,
);

/// Generic containers whose values are never failures (their contents are
/// not inspected).
macro_rules! never_fails_generic {
    ($(<$($param:ident $(: ?$sized:ident)?),+> $ty:ty),* $(,)?) => {
        $(impl<$($param $(: ?$sized)?),+> Outcome for $ty {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails_generic!(
    <T> Vec<T>,
    <T> std::collections::VecDeque<T>,
    <K, V> std::collections::HashMap<K, V>,
    <T> std::collections::HashSet<T>,
    <K, V> std::collections::BTreeMap<K, V>,
    <T> std::collections::BTreeSet<T>,
    <T> std::collections::BinaryHeap<T>,
    <T: ?Sized> std::sync::Arc<T>,
    <T: ?Sized> std::rc::Rc<T>,
    <T: ?Sized> std::marker::PhantomData<T>,
);

impl<T, const N: usize> Outcome for [T; N] {
    fn is_exception(&self) -> bool {
        false
    }
}

impl<T: Outcome + ?Sized> Outcome for &T {
    fn is_exception(&self) -> bool {
        (**self).is_exception()
    }
}

/// Tuples never fail (their parts are not inspected); wrapping an output in a
/// one-element tuple is the way to use a foreign type with [`wait`].
macro_rules! never_fails_tuple {
    ($(($($name:ident),+))*) => {
        $(impl<$($name),+> Outcome for ($($name,)+) {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails_tuple!((A)(A, B)(A, B, C)(A, B, C, D)(A, B, C, D, E)(
    A, B, C, D, E, G
)(A, B, C, D, E, G, H)(A, B, C, D, E, G, H, I));

/// Waits for the futures of `futures` until `return_when` is met and resolves
/// to `(done, pending)` (asyncio's `wait`).
///
/// - `done`: the outputs of the futures that finished, in input order;
/// - `pending`: the futures that did not finish, in input order, untouched
///   (never cancelled) and ready to be awaited again.
///
/// The futures must be `Unpin` to be handed back: [`JoinHandle`]s are; pin
/// other futures with `Box::pin`. They run inside the task awaiting the
/// [`Wait`]; a wake-up polls only the futures that were woken.
///
/// # Panics
///
/// Panics right away if `futures` is empty (asyncio raises `ValueError`):
/// waiting on nothing is a bug, and there would be no sensible answer for
/// `FirstCompleted`.
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
/// # });
/// ```
pub fn wait<I>(futures: I, return_when: ReturnWhen) -> Wait<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Unpin,
    <I::Item as IntoFuture>::Output: Outcome,
{
    let futures: Vec<_> = futures.into_iter().map(|f| Some(f.into_future())).collect();
    assert!(
        !futures.is_empty(),
        "corio::wait called with an empty set of futures"
    );
    let len = futures.len();
    Wait {
        outputs: (0..len).map(|_| None).collect(),
        futures,
        ready: ReadySet::new(len),
        scratch: Vec::new(),
        return_when,
        done: 0,
        failed: false,
        finished: false,
    }
}

/// [`wait`] with a time limit: resolves when `return_when` is met or when
/// `timeout` has passed, whichever comes first (asyncio's `wait(aws,
/// timeout=...)`).
///
/// Reaching the timeout is not an error: the futures that finished are in
/// `done`, the others in `pending`, none cancelled.
///
/// # Panics
///
/// Panics right away if `futures` is empty, like [`wait`].
///
/// ```
/// use std::time::Duration;
/// use corio::ReturnWhen;
/// # corio::run(async {
/// let slow = corio::spawn(corio::time::sleep(Duration::from_secs(60)));
/// let fast = corio::spawn(async {});
/// # while !fast.is_finished() { corio::yield_now().await; }
/// let (done, pending) =
///     corio::wait_timeout([fast, slow], ReturnWhen::AllCompleted, Duration::from_millis(20)).await;
/// assert_eq!((done.len(), pending.len()), (1, 1));
/// pending[0].abort(); // wait never cancels: cancel explicitly if wanted
/// # });
/// ```
pub fn wait_timeout<I>(
    futures: I,
    return_when: ReturnWhen,
    timeout: Duration,
) -> impl Future<Output = WaitOutput<<I::Item as IntoFuture>::IntoFuture>>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Unpin,
    <I::Item as IntoFuture>::Output: Outcome,
{
    let mut waiting = wait(futures, return_when);
    async move {
        let mut timer = std::pin::pin!(corio_io::time::sleep(timeout));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = Pin::new(&mut waiting).poll(cx) {
                return Poll::Ready(output);
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(waiting.finish_now());
            }
            Poll::Pending
        })
        .await
    }
}

/// What [`wait`] and [`wait_timeout`] resolve to: the outputs of the futures
/// that finished and the futures that did not, each in input order.
pub type WaitOutput<F> = (Vec<<F as Future>::Output>, Vec<F>);

/// The future returned by [`wait`]; resolves to `(done outputs, pending
/// futures)`.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<F: Future> {
    /// `futures[i]` is `None` once future `i` finished.
    futures: Vec<Option<F>>,
    /// `outputs[i]` holds future `i`'s output once it finished.
    outputs: Vec<Option<F::Output>>,
    ready: ReadySet,
    scratch: Vec<usize>,
    return_when: ReturnWhen,
    /// How many futures finished.
    done: usize,
    /// Whether a finished output is an exception.
    failed: bool,
    finished: bool,
}

impl<F> Wait<F>
where
    F: Future + Unpin,
    F::Output: Outcome,
{
    /// Polls the futures that were woken; true once `return_when` is met.
    fn poll_progress(&mut self, cx: &mut Context<'_>) -> bool {
        assert!(!self.finished, "Wait polled after it completed");
        self.ready.drain(cx.waker(), &mut self.scratch);
        while let Some(index) = self.scratch.pop() {
            let Some(future) = self.futures[index].as_mut() else {
                continue;
            };
            let mut child_cx = Context::from_waker(self.ready.waker(index));
            if let Poll::Ready(output) = Pin::new(future).poll(&mut child_cx) {
                self.failed |= output.is_exception();
                self.outputs[index] = Some(output);
                self.futures[index] = None;
                self.done += 1;
            }
        }
        let all = self.done == self.futures.len();
        match self.return_when {
            ReturnWhen::FirstCompleted => self.done > 0,
            ReturnWhen::FirstException => self.failed || all,
            ReturnWhen::AllCompleted => all,
        }
    }

    /// Splits into `(done outputs, pending futures)`, both in input order.
    fn split(&mut self) -> (Vec<F::Output>, Vec<F>) {
        self.finished = true;
        let done = self.outputs.drain(..).flatten().collect();
        let pending = self.futures.drain(..).flatten().collect();
        (done, pending)
    }

    /// Stops waiting and splits what finished so far from what did not,
    /// like asyncio's `wait` reaching its timeout. Used by
    /// [`wait_timeout`](crate::wait_timeout).
    fn finish_now(&mut self) -> (Vec<F::Output>, Vec<F>) {
        self.split()
    }
}

// Nothing in a `Wait` is ever pinned: the futures are `Unpin` by the bound on
// `poll` and the outputs are plain values, so a `Wait` may move freely.
impl<F: Future> Unpin for Wait<F> {}

impl<F> Future for Wait<F>
where
    F: Future + Unpin,
    F::Output: Outcome,
{
    type Output = (Vec<F::Output>, Vec<F>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.poll_progress(cx) {
            Poll::Ready(this.split())
        } else {
            Poll::Pending
        }
    }
}

impl<F: Future> fmt::Debug for Wait<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("len", &self.futures.len())
            .field("done", &self.done)
            .field("return_when", &self.return_when)
            .finish()
    }
}
