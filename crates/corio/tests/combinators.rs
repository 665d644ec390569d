//! The combinators on their own, without a runtime: order, first-error
//! semantics, cancellation by drop, and the per-child wake-up bookkeeping.

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use corio::__private::block_on_simple as block_on;
use corio::{as_completed, gather, try_gather, wait, ReturnWhen};

/// Returns `value` after yielding `yields` times; counts its polls.
struct YieldThen<T> {
    yields: usize,
    value: Option<T>,
    polls: Arc<AtomicUsize>,
}

fn yield_then<T>(yields: usize, value: T, polls: &Arc<AtomicUsize>) -> YieldThen<T> {
    YieldThen {
        yields,
        value: Some(value),
        polls: polls.clone(),
    }
}

impl<T: Unpin> Future for YieldThen<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.yields == 0 {
            return Poll::Ready(self.value.take().expect("polled after completion"));
        }
        self.yields -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A future that never finishes and records its drop.
fn forever(flag: &Arc<AtomicBool>) -> impl Future<Output = i32> + Send + Unpin + 'static {
    let guard = DropFlag(flag.clone());
    Box::pin(async move {
        let _guard = guard;
        pending::<i32>().await
    })
}

/// A value handed over by another thread: `Signal::set` completes the future.
#[derive(Clone)]
struct Signal<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);

impl<T> Signal<T> {
    fn new() -> Self {
        Signal(Arc::new(Mutex::new((None, None))))
    }
    fn set(&self, value: T) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = Some(value);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Signal<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.0.lock().unwrap();
        match state.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[test]
fn gather_macro_keeps_argument_order() {
    let polls = Arc::new(AtomicUsize::new(0));
    let out = block_on(async {
        corio::gather!(
            yield_then(5, 'a', &polls),
            yield_then(0, 'b', &polls),
            async { "c" },
            yield_then(2, 4u8, &polls),
        )
    });
    assert_eq!(out, ('a', 'b', "c", 4u8));
}

#[test]
fn gather_macro_takes_many_arguments() {
    let out = block_on(async {
        corio::gather!(
            async { 1 },
            async { 2 },
            async { 3 },
            async { 4 },
            async { 5 },
            async { 6 },
            async { 7 },
            async { 8 },
            async { 9 },
            async { 10 },
            async { 11 },
            async { 12 },
            async { 13 },
            async { 14 },
        )
    });
    // Tuples this long have no PartialEq: compare as an array.
    let (a, b, c, d, e, f, g, h, i, j, k, l, m, n) = out;
    assert_eq!(
        [a, b, c, d, e, f, g, h, i, j, k, l, m, n],
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    );
    let single = block_on(async { corio::gather!(async { "one" }) });
    assert_eq!(single, ("one",));
}

#[test]
fn dropping_gather_macro_drops_unfinished_children() {
    let dropped = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let mut fut = Box::pin(async {
        corio::gather!(yield_then(0, 1, &polls), forever(&dropped));
    });
    let waker = Waker::noop();
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(waker))
        .is_pending());
    assert!(!dropped.load(Ordering::SeqCst));
    drop(fut);
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn gather_keeps_input_order_whatever_the_completion_order() {
    let polls = Arc::new(AtomicUsize::new(0));
    // Child i finishes after (20 - i) yields: last in, first done.
    let out = block_on(gather((0..20).map(|i| yield_then(20 - i, i, &polls))));
    assert_eq!(out, (0..20).collect::<Vec<_>>());
    assert!(block_on(gather(Vec::<YieldThen<u8>>::new())).is_empty());
}

#[test]
fn gather_polls_only_the_children_that_were_woken() {
    // 10,000 children, one of which yields 1,000 times: polling everyone on
    // every wake-up would take ten million polls.
    let polls = Arc::new(AtomicUsize::new(0));
    let children = (0..10_000).map(|i| yield_then(if i == 1234 { 1_000 } else { 0 }, i, &polls));
    let out = block_on(gather(children));
    assert_eq!(out.len(), 10_000);
    assert!(out.iter().enumerate().all(|(i, &v)| i == v));
    assert_eq!(polls.load(Ordering::SeqCst), 10_000 + 1_000);
}

#[test]
fn gather_with_wakes_from_other_threads() {
    let signals: Vec<Signal<usize>> = (0..64).map(|_| Signal::new()).collect();
    let setters = signals.clone();
    let thread = std::thread::spawn(move || {
        // Complete them in a scrambled order.
        for k in 0..64 {
            let i = (k * 37) % 64;
            setters[i].set(i * 10);
        }
    });
    let out = block_on(gather(signals));
    thread.join().unwrap();
    assert_eq!(out, (0..64).map(|i| i * 10).collect::<Vec<_>>());
}

#[test]
fn try_gather_returns_every_ok_in_order() {
    let polls = Arc::new(AtomicUsize::new(0));
    let out: Result<Vec<usize>, ()> = block_on(try_gather(
        (0..10).map(|i| yield_then(10 - i, Ok(i), &polls)),
    ));
    assert_eq!(out, Ok((0..10).collect()));
}

#[test]
fn try_gather_first_error_in_time_wins_and_drops_the_rest() {
    let polls = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let children: Vec<BoxFut<Result<i32, &str>>> = vec![
        Box::pin(yield_then(10, Err("late"), &polls)),
        Box::pin(async move {
            let _guard = DropFlag(flag);
            pending().await
        }),
        Box::pin(yield_then(3, Err("early"), &polls)),
        Box::pin(yield_then(0, Ok(1), &polls)),
    ];
    let out = block_on(try_gather(children));
    assert_eq!(out, Err("early"));
    // Dropped before try_gather returned.
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn wait_first_completed_returns_the_rest_unharmed() {
    let slow = Signal::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let futures: Vec<BoxFut<i32>> = vec![
        Box::pin(slow.clone()),
        Box::pin(async { 7 }),
        Box::pin(forever(&dropped)),
    ];
    let (done, mut pending) = block_on(wait(futures, ReturnWhen::FirstCompleted));
    assert_eq!(done, [7]);
    assert_eq!(pending.len(), 2);
    assert!(!dropped.load(Ordering::SeqCst), "wait must not cancel");
    // The pending ones keep working after wait returned.
    slow.set(3);
    let first = pending.remove(0);
    assert_eq!(block_on(first), 3);
    drop(pending);
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn wait_first_exception_stops_at_the_first_err() {
    let polls = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let never = forever(&dropped);
    let futures: Vec<BoxFut<Result<i32, String>>> = vec![
        Box::pin(yield_then(0, Ok(1), &polls)),
        Box::pin(yield_then(5, Err("bad".to_owned()), &polls)),
        Box::pin(async move { Ok(never.await) }),
    ];
    let (done, pending) = block_on(wait(futures, ReturnWhen::FirstException));
    assert_eq!(done, [Ok(1), Err("bad".to_owned())]);
    assert_eq!(pending.len(), 1);

    // Without any exception, FirstException waits for everything.
    let futures = (0..5).map(|i| yield_then(i, Ok::<_, ()>(i), &polls));
    let (done, pending) = block_on(wait(futures, ReturnWhen::FirstException));
    assert_eq!(done, (0..5).map(Ok).collect::<Vec<_>>());
    assert!(pending.is_empty());
}

#[test]
fn wait_all_completed_returns_done_in_completion_order() {
    let polls = Arc::new(AtomicUsize::new(0));
    // Future i finishes after 8 - i yields: the last listed finishes first.
    let futures = (0..8).map(|i| yield_then(8 - i, i, &polls));
    let (done, pending) = block_on(wait(futures, ReturnWhen::AllCompleted));
    assert_eq!(done, (0..8).rev().collect::<Vec<_>>());
    assert!(pending.is_empty());
}

#[test]
fn wait_on_nothing_returns_two_empty_lists_at_once() {
    // asyncio raises ValueError; DESIGN's `(done, pending)` has no error
    // channel, so: nothing done, nothing pending, for every condition, at
    // the first poll (polled by hand: a wait that never ends cannot hang
    // the test).
    fn first_poll<C>(return_when: C) -> (Vec<i32>, usize)
    where
        C: corio::return_when::Condition<i32>,
    {
        let none: Vec<BoxFut<i32>> = Vec::new();
        let mut waiting = wait(none, return_when);
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut waiting).poll(&mut cx) {
            Poll::Ready((done, pending)) => (done, pending.len()),
            Poll::Pending => panic!("an empty wait is pending"),
        }
    }
    assert_eq!(first_poll(ReturnWhen::FirstCompleted), (vec![], 0));
    assert_eq!(first_poll(ReturnWhen::FirstException), (vec![], 0));
    assert_eq!(first_poll(ReturnWhen::AllCompleted), (vec![], 0));
}

/// An output type with no `Outcome` impl (nor any other trait).
struct Opaque(u32);

#[test]
fn wait_takes_any_output_type_for_first_and_all_completed() {
    let polls = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let never = forever(&dropped);
    let futures: Vec<BoxFut<Opaque>> = vec![
        Box::pin(yield_then(3, Opaque(3), &polls)),
        Box::pin(async move { Opaque(never.await as u32) }),
        Box::pin(yield_then(1, Opaque(1), &polls)),
    ];
    let (done, pending) = block_on(wait(futures, ReturnWhen::FirstCompleted));
    assert_eq!(done.iter().map(|o| o.0).collect::<Vec<_>>(), [1]);
    assert_eq!(pending.len(), 2, "the pending come back, in input order");
    assert!(!dropped.load(Ordering::SeqCst), "wait must not cancel");
    // The first pending one is the 3-yield future: it still works.
    let mut pending = pending.into_iter();
    assert_eq!(block_on(pending.next().unwrap()).0, 3);

    let futures = (0..4).map(|i| yield_then(4 - i, Opaque(i as u32), &polls));
    let (done, pending) = block_on(wait(futures, ReturnWhen::AllCompleted));
    assert_eq!(done.iter().map(|o| o.0).collect::<Vec<_>>(), [3, 2, 1, 0]);
    assert!(pending.is_empty());
    drop(pending);
}

/// FirstCompleted returns every future that finished in the same pass, not
/// only the first, in the order they finished.
#[test]
fn wait_first_completed_returns_all_done_at_that_moment() {
    let signals: Vec<Signal<u32>> = (0..4).map(|_| Signal::new()).collect();
    let mut waiting = wait(signals.clone(), ReturnWhen::FirstCompleted);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut waiting).poll(&mut cx).is_pending());
    signals[3].set(30);
    signals[1].set(10);
    let Poll::Ready((done, pending)) = Pin::new(&mut waiting).poll(&mut cx) else {
        panic!("wait did not return after two futures finished");
    };
    assert_eq!(done, [30, 10], "completion order, not input order");
    assert_eq!(pending.len(), 2);
}

#[test]
fn as_completed_yields_in_completion_order() {
    let polls = Arc::new(AtomicUsize::new(0));
    let mut stream = as_completed((0..10).map(|i| yield_then(3 * (10 - i), i, &polls)));
    assert_eq!(stream.len(), 10);
    let out = block_on(async {
        let mut out = Vec::new();
        while let Some(v) = stream.next().await {
            out.push(v);
        }
        out
    });
    assert_eq!(out, (0..10).rev().collect::<Vec<_>>());
    assert!(stream.is_empty());
}

#[test]
fn as_completed_is_a_stream() {
    use futures_core::Stream;
    let signals: Vec<Signal<u32>> = (0..3).map(|_| Signal::new()).collect();
    let mut stream = as_completed(signals.clone());
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    assert_eq!(stream.size_hint(), (3, Some(3)));
    assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
    signals[2].set(2);
    signals[0].set(0);
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(2))
    );
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(0))
    );
    assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
    signals[1].set(1);
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(1))
    );
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn dropping_as_completed_drops_unfinished_futures() {
    let dropped = Arc::new(AtomicBool::new(false));
    let futures: Vec<BoxFut<i32>> = vec![Box::pin(async { 1 }), Box::pin(forever(&dropped))];
    let mut stream = as_completed(futures);
    assert_eq!(block_on(stream.next()), Some(1));
    drop(stream);
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn race_returns_the_first_and_drops_the_loser_at_once() {
    let polls = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let mut race = corio::race(forever(&dropped), yield_then(2, 7, &polls));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut race).poll(&mut cx).is_pending());
    assert!(Pin::new(&mut race).poll(&mut cx).is_pending());
    assert!(!dropped.load(Ordering::SeqCst));
    assert_eq!(Pin::new(&mut race).poll(&mut cx), Poll::Ready(7));
    // Dropped when the winner finished, while the Race itself still lives.
    assert!(
        dropped.load(Ordering::SeqCst),
        "the loser outlived the race"
    );
    drop(race);

    // The first argument may win too.
    let dropped = Arc::new(AtomicBool::new(false));
    let out = block_on(corio::race(yield_then(1, 1, &polls), forever(&dropped)));
    assert_eq!(out, 1);
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn race_prefers_the_first_when_both_are_ready() {
    let polls_a = Arc::new(AtomicUsize::new(0));
    let polls_b = Arc::new(AtomicUsize::new(0));
    let out = block_on(corio::race(
        yield_then(0, "a", &polls_a),
        yield_then(0, "b", &polls_b),
    ));
    assert_eq!(out, "a");
    assert_eq!(
        polls_b.load(Ordering::SeqCst),
        0,
        "b is not polled once a won"
    );
}

#[test]
fn select_runs_the_first_branch_after_dropping_the_others() {
    let polls = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let out = block_on(async {
        corio::select! {
            n = forever(&dropped) => format!("never {n}"),
            (text, count) = yield_then(3, ("ready", 2usize), &polls) => {
                // The loser is gone before this branch runs.
                assert!(dropped.load(Ordering::SeqCst), "loser still alive in the branch");
                text.repeat(count)
            }
            _ = yield_then(9, 0u8, &polls) => "late".to_string(),
        }
    });
    assert_eq!(out, "readyready");
}

#[test]
fn select_branches_may_await_and_return() {
    async fn first_even(a: Signal<u32>, b: Signal<i64>) -> Result<u32, String> {
        let value = corio::select! {
            x = a => {
                if x % 2 == 1 {
                    return Err(format!("odd {x}"));
                }
                x
            }
            y = b => u32::try_from(y).map_err(|e| e.to_string())?,
        };
        // A branch may await: here after the select.
        let doubled = corio::gather!(async { value * 2 }).0;
        Ok(doubled)
    }
    let (a, b) = (Signal::new(), Signal::new());
    b.set(21i64);
    assert_eq!(block_on(first_even(a, b)), Ok(42));
    let (a, b) = (Signal::new(), Signal::<i64>::new());
    a.set(3u32);
    assert_eq!(block_on(first_even(a, b)), Err("odd 3".to_string()));
    let (a, b) = (Signal::<u32>::new(), Signal::new());
    b.set(-1i64);
    assert!(block_on(first_even(a, b)).is_err());
}

#[test]
fn select_with_one_branch_and_a_trailing_comma() {
    let polls = Arc::new(AtomicUsize::new(0));
    let out = block_on(async {
        corio::select! {
            v = yield_then(1, 5, &polls) => v + 1,
        }
    });
    assert_eq!(out, 6);
}
