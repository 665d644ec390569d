//! The task core driven by hand, with a mock scheduler: every path a task
//! can take (poll, wake by value and by reference from another thread,
//! complete, abort when queued, idle or running, join before and after
//! completion, drop the handle, panic in poll and in drop, shutdown).
//!
//! These run under Miri in CI (`.ci/run`, Stacked and Tree Borrows), which is
//! what they are for: the whole runtime cannot run under Miri (its
//! dependencies stop it first), but the task core reached through the
//! scheduler's own entry points (`new_task`, `Notified::run`, the waker
//! vtable, the `JoinHandle`, `task::shutdown`) can. So they are small, use
//! only std's primitives and threads, and end with every task freed: Miri
//! reports a leaked task as an error.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use super::{new_task, shutdown, JoinError, JoinHandle, Notified, RawTask, Schedule};

/// A scheduler that only queues: the test decides when tasks run. It also
/// keeps a registry of live tasks, like the real one, so that completion
/// releases its reference and shutdown can drain it.
#[derive(Default)]
struct Mock {
    queue: Mutex<VecDeque<Notified>>,
    registry: Mutex<Vec<RawTask>>,
    /// A task handed back by `run` (it yielded) is run to its end by another
    /// thread before the runner goes on.
    run_elsewhere_on_yield: AtomicBool,
    yields: AtomicUsize,
}

/// The handle stored in each task cell.
struct Sched(Arc<Mock>);

impl Schedule for Sched {
    fn schedule(&self, task: Notified) {
        self.0.queue.lock().unwrap().push_back(task);
    }

    fn release(&self, task: RawTask) -> bool {
        let mut reg = self.0.registry.lock().unwrap();
        match reg.iter().position(|t| *t == task) {
            Some(i) => {
                reg.swap_remove(i);
                true
            }
            None => false,
        }
    }
}

impl Mock {
    fn new() -> Arc<Mock> {
        Arc::new(Mock::default())
    }

    /// Allocates, registers and queues a task, as `Shared::spawn` does.
    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (notified, join, raw) = new_task(future, Sched(self.clone()), None, Location::caller());
        self.registry.lock().unwrap().push(raw);
        self.queue.lock().unwrap().push_back(notified);
        join
    }

    fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    fn registered(&self) -> usize {
        self.registry.lock().unwrap().len()
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    fn run_all(self: &Arc<Self>) -> usize {
        let mut n = 0;
        loop {
            let next = self.queue.lock().unwrap().pop_front();
            match next {
                Some(task) => {
                    if let Some(task) = task.run() {
                        self.requeue_yielded(task);
                    }
                    n += 1;
                }
                None => return n,
            }
        }
    }

    /// What a worker does with a task `run` handed back: queue it again.
    fn requeue_yielded(self: &Arc<Self>, task: Notified) {
        self.queue.lock().unwrap().push_back(task);
        if self.run_elsewhere_on_yield.load(Ordering::SeqCst) {
            let mock = self.clone();
            thread::spawn(move || mock.run_all()).join().unwrap();
        }
        self.yields.fetch_add(1, Ordering::SeqCst);
    }

    /// Runtime shutdown: cancels every registered task, then drops what is
    /// left in the queue (as `Shared::shutdown` does).
    fn shutdown(&self) {
        let tasks = std::mem::take(&mut *self.registry.lock().unwrap());
        for raw in tasks {
            shutdown(raw);
        }
        let queued = std::mem::take(&mut *self.queue.lock().unwrap());
        drop(queued);
    }

    /// Every test ends here: nothing queued, nothing registered.
    fn assert_empty(&self) {
        assert_eq!(self.queued(), 0, "tasks left in the queue");
        assert_eq!(self.registered(), 0, "tasks left in the registry");
    }
}

/// Counts wakes; the JoinHandle's waker in these tests.
#[derive(Default)]
struct CountWake(AtomicUsize);

impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountWake {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn counting_waker() -> (Arc<CountWake>, Waker) {
    let c = Arc::new(CountWake::default());
    (c.clone(), Waker::from(c))
}

/// Polls a JoinHandle once with `waker`.
fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// Counts drops of a value carried by a future or returned as an output.
#[derive(Clone, Default)]
struct Drops(Arc<AtomicUsize>);

impl Drops {
    fn token(&self) -> Token {
        Token(self.0.clone())
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending until opened; keeps the waker of its last poll where the test
/// can take it.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(bool, Option<Waker>)>>);

impl Gate {
    fn wait(&self) -> GateWait {
        GateWait(self.clone())
    }
    /// Opens the gate and hands back the stored waker (not woken).
    fn open(&self) -> Waker {
        let mut g = self.0.lock().unwrap();
        g.0 = true;
        g.1.take().expect("the gate's future was never polled")
    }
}

struct GateWait(Gate);

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut g = (self.0).0.lock().unwrap();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A future that panics when dropped (and, optionally, finishes at once).
struct PanicOnDrop {
    ready: bool,
}

impl Future for PanicOnDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        if self.ready {
            Poll::Ready(7)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("boom in drop");
    }
}

/// Runs `f` with the default panic message silenced (the panics in these
/// tests are expected and caught by the task core). One at a time, so that
/// the hooks of parallel tests nest.
fn quiet<R>(f: impl FnOnce() -> R) -> R {
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let prev = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(prev);
    r.unwrap_or_else(|p| panic::resume_unwind(p))
}

#[test]
fn the_simplest_path_frees_the_task_inside_run() {
    // The reproduction: allocate, drop the registry reference and
    // the JoinHandle, then run the Notified once. The run completes the task
    // and frees it while the harness is still on the stack.
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let (notified, join, raw) = new_task(
        async move { token },
        Sched(mock.clone()),
        None,
        Location::caller(),
    );
    raw.drop_ref();
    drop(join);
    assert!(notified.run().is_none());
    assert_eq!(drops.count(), 1, "the output is dropped by the completer");
    mock.assert_empty();
}

#[test]
fn ready_then_join_after_completion() {
    let mock = Mock::new();
    let mut join = mock.spawn(async { 41 + 1 });
    assert_eq!(mock.run_all(), 1);
    assert!(join.is_finished());
    let (count, waker) = counting_waker();
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Ok(42))));
    assert_eq!(count.count(), 0);
    drop(join);
    mock.assert_empty();
}

#[test]
fn join_before_completion_is_woken() {
    let mock = Mock::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(async move {
        wait.await;
        "done"
    });
    let (count, waker) = counting_waker();
    assert!(poll_join(&mut join, &waker).is_pending());
    // Polled again with the same waker: nothing changes.
    assert!(poll_join(&mut join, &waker).is_pending());
    assert_eq!(mock.run_all(), 1);
    assert!(poll_join(&mut join, &waker).is_pending());
    gate.open().wake();
    assert_eq!(mock.run_all(), 1);
    assert_eq!(count.count(), 1, "completion wakes the joiner once");
    assert!(matches!(
        poll_join(&mut join, &waker),
        Poll::Ready(Ok("done"))
    ));
    drop(join);
    mock.assert_empty();
}

#[test]
fn join_waker_replaced_by_a_new_one() {
    let mock = Mock::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(wait);
    let (first, w1) = counting_waker();
    let (second, w2) = counting_waker();
    assert!(poll_join(&mut join, &w1).is_pending());
    assert!(poll_join(&mut join, &w2).is_pending());
    mock.run_all();
    gate.open().wake();
    mock.run_all();
    assert_eq!(first.count(), 0, "the replaced waker is not woken");
    assert_eq!(second.count(), 1);
    assert!(matches!(poll_join(&mut join, &w2), Poll::Ready(Ok(()))));
    drop(join);
    mock.assert_empty();
}

#[test]
fn wake_by_value_from_another_thread() {
    let mock = Mock::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(async move {
        wait.await;
        5
    });
    mock.run_all();
    let waker = gate.open();
    thread::spawn(move || waker.wake()).join().unwrap();
    assert_eq!(mock.queued(), 1, "the wake queued the task");
    mock.run_all();
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Ok(5))));
    drop(join);
    mock.assert_empty();
}

#[test]
fn wake_by_ref_from_another_thread_and_a_late_waker() {
    let mock = Mock::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let join = mock.spawn(wait);
    mock.run_all();
    let waker = gate.open();
    let waker = thread::spawn(move || {
        waker.wake_by_ref();
        // A second wake while queued: still one queue entry.
        waker.wake_by_ref();
        waker
    })
    .join()
    .unwrap();
    assert_eq!(mock.queued(), 1, "a task is queued at most once");
    mock.run_all();
    drop(join);
    // The waker outlived the task's completion: waking does nothing, and
    // dropping it (on another thread) frees the task.
    waker.wake_by_ref();
    assert_eq!(mock.queued(), 0);
    thread::spawn(move || drop(waker)).join().unwrap();
    mock.assert_empty();
}

#[test]
fn wake_during_poll_requeues_once() {
    let mock = Mock::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let mut join = mock.spawn(std::future::poll_fn(move |cx| {
        if p.fetch_add(1, Ordering::SeqCst) == 0 {
            // Woken while running: re-queued after this poll, by value and
            // by reference alike.
            cx.waker().wake_by_ref();
            #[allow(clippy::waker_clone_wake)] // the by-value path, on purpose
            cx.waker().clone().wake();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }));
    assert_eq!(mock.run_all(), 2);
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    let (_, w) = counting_waker();
    assert!(poll_join(&mut join, &w).is_ready());
    drop(join);
    mock.assert_empty();
}

#[test]
fn a_yielded_task_comes_back_and_may_end_elsewhere_at_once() {
    // The task wakes itself while running, so `run` hands it back and the
    // runner queues it again; another thread runs it to completion and
    // drops every other reference at once, while the first runner is still
    // inside its loop. Nothing of the task may be touched after the hand-back
    // (with the scheduler called from inside the task instead, its `&S` was
    // still live here, which Miri reports).
    let mock = Mock::new();
    mock.run_elsewhere_on_yield.store(true, Ordering::SeqCst);
    let mut first = true;
    let join = mock.spawn(std::future::poll_fn(move |cx| {
        if std::mem::take(&mut first) {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }));
    drop(join);
    assert_eq!(mock.run_all(), 1);
    assert_eq!(mock.yields.load(Ordering::SeqCst), 1);
    mock.assert_empty();
}

#[test]
fn handle_dropped_while_pending_then_completes() {
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let gate = Gate::default();
    let wait = gate.wait();
    let join = mock.spawn(async move {
        wait.await;
        token
    });
    mock.run_all();
    drop(join);
    gate.open().wake();
    mock.run_all();
    assert_eq!(drops.count(), 1);
    mock.assert_empty();
}

#[test]
fn handle_dropped_after_completion_drops_the_output() {
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let join = mock.spawn(async move { token });
    mock.run_all();
    assert_eq!(drops.count(), 0, "the output waits for the handle");
    drop(join);
    assert_eq!(drops.count(), 1);
    mock.assert_empty();
}

#[test]
fn abort_queued_drops_the_future_unpolled() {
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let polled = Arc::new(AtomicUsize::new(0));
    let p = polled.clone();
    let mut join = mock.spawn(async move {
        p.fetch_add(1, Ordering::SeqCst);
        drop(token);
    });
    join.abort();
    assert_eq!(
        mock.queued(),
        1,
        "abort of a queued task queues nothing more"
    );
    mock.run_all();
    assert_eq!(polled.load(Ordering::SeqCst), 0);
    assert_eq!(drops.count(), 1);
    let (_, w) = counting_waker();
    match poll_join(&mut join, &w) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        _ => panic!("expected a cancelled JoinError"),
    }
    drop(join);
    mock.assert_empty();
}

#[test]
fn abort_idle_queues_the_cancel() {
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(async move {
        let _t = token;
        wait.await;
    });
    let (count, w) = counting_waker();
    assert!(poll_join(&mut join, &w).is_pending());
    mock.run_all();
    join.abort();
    join.abort();
    assert_eq!(mock.queued(), 1, "abort of an idle task queues it once");
    mock.run_all();
    assert_eq!(drops.count(), 1);
    assert_eq!(count.count(), 1);
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    // The gate's stored waker still holds a reference: drop it, freeing.
    drop(gate.open());
    drop(join);
    mock.assert_empty();
}

#[test]
fn abort_while_running_on_another_thread() {
    let mock = Mock::new();
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut join = mock.spawn(std::future::poll_fn(move |_| {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        Poll::<()>::Pending
    }));
    let task = mock.queue.lock().unwrap().pop_front().unwrap();
    let runner = thread::spawn(move || assert!(task.run().is_none()));
    started_rx.recv().unwrap();
    // Mid-poll: the abort only marks the task; the runner cancels after.
    join.abort();
    assert_eq!(mock.queued(), 0);
    go_tx.send(()).unwrap();
    runner.join().unwrap();
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    drop(join);
    mock.assert_empty();
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let mock = Mock::new();
    let mut join = mock.spawn(async { 3 });
    mock.run_all();
    join.abort();
    assert_eq!(mock.queued(), 0);
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Ok(3))));
    drop(join);
    mock.assert_empty();
}

#[test]
fn panic_in_poll_is_the_join_error() {
    let mock = Mock::new();
    let drops = Drops::default();
    let token = drops.token();
    let mut join = mock.spawn(async move {
        let _t = token;
        panic!("boom in poll");
    });
    quiet(|| mock.run_all());
    assert_eq!(drops.count(), 1);
    let (_, w) = counting_waker();
    match poll_join(&mut join, &w) {
        Poll::Ready(Err(e)) => {
            assert!(e.is_panic());
            let p = e.into_panic();
            assert_eq!(p.downcast_ref::<&str>(), Some(&"boom in poll"));
        }
        _ => panic!("expected a panic JoinError"),
    }
    drop(join);
    mock.assert_empty();
}

#[test]
fn panic_in_poll_with_the_handle_gone() {
    let mock = Mock::new();
    let join = mock.spawn(async { panic!("nobody listens") });
    drop(join);
    quiet(|| mock.run_all());
    mock.assert_empty();
}

#[test]
fn panic_in_drop_when_cancelled_is_the_join_error() {
    let mock = Mock::new();
    let mut join = mock.spawn(PanicOnDrop { ready: false });
    mock.run_all();
    join.abort();
    quiet(|| mock.run_all());
    let (_, w) = counting_waker();
    match poll_join(&mut join, &w) {
        Poll::Ready(Err(e)) => assert!(e.is_panic(), "{e:?}"),
        _ => panic!("expected a panic JoinError"),
    }
    drop(join);
    mock.assert_empty();
}

#[test]
fn panic_in_drop_after_ready_keeps_the_output() {
    let mock = Mock::new();
    let mut join = mock.spawn(PanicOnDrop { ready: true });
    quiet(|| mock.run_all());
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Ok(7))));
    drop(join);
    mock.assert_empty();
}

#[test]
fn panic_in_the_outputs_drop_is_contained() {
    struct Loud;
    impl Drop for Loud {
        fn drop(&mut self) {
            panic!("boom in the output's drop");
        }
    }
    let mock = Mock::new();
    // Dropped by the handle (complete first) and by the completer (handle
    // gone first): neither panic escapes.
    let first = mock.spawn(async { Loud });
    quiet(|| mock.run_all());
    quiet(|| drop(first));
    let second = mock.spawn(async { Loud });
    drop(second);
    quiet(|| mock.run_all());
    mock.assert_empty();
}

#[test]
fn shutdown_cancels_idle_and_queued_tasks() {
    let mock = Mock::new();
    let drops = Drops::default();
    let (t1, t2) = (drops.token(), drops.token());
    let gate = Gate::default();
    let wait = gate.wait();
    let mut idle = mock.spawn(async move {
        let _t = t1;
        wait.await;
    });
    mock.run_all();
    let mut queued = mock.spawn(async move {
        let _t = t2;
    });
    mock.shutdown();
    assert_eq!(drops.count(), 2, "both futures dropped by the shutdown");
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut idle, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    assert!(matches!(poll_join(&mut queued, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    // A wake after shutdown finds the task complete: nothing is queued.
    gate.open().wake();
    assert_eq!(mock.queued(), 0);
    drop((idle, queued));
    mock.assert_empty();
}

#[test]
fn shutdown_while_running_cancels_after_the_poll() {
    let mock = Mock::new();
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut join = mock.spawn(std::future::poll_fn(move |_| {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        Poll::<()>::Pending
    }));
    let task = mock.queue.lock().unwrap().pop_front().unwrap();
    let runner = thread::spawn(move || assert!(task.run().is_none()));
    started_rx.recv().unwrap();
    mock.shutdown();
    go_tx.send(()).unwrap();
    runner.join().unwrap();
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    drop(join);
    mock.assert_empty();
}

#[test]
fn shutdown_after_completion_and_a_detached_task() {
    let mock = Mock::new();
    let done = mock.spawn(async { 1 });
    mock.run_all();
    let gate = Gate::default();
    let wait = gate.wait();
    let detached = mock.spawn(wait);
    mock.run_all();
    drop(detached);
    mock.shutdown();
    drop(gate.open());
    drop(done);
    mock.assert_empty();
}

#[test]
fn dropping_the_handle_drops_the_join_waker_then() {
    let mock = Mock::new();
    // Dropped before completion.
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(wait);
    let (count, waker) = counting_waker();
    assert!(poll_join(&mut join, &waker).is_pending());
    mock.run_all();
    assert_eq!(Arc::strong_count(&count), 3, "ours, `waker` and the slot's");
    drop(join);
    assert_eq!(
        Arc::strong_count(&count),
        2,
        "the slot's clone went with the handle"
    );
    gate.open().wake();
    mock.run_all();
    mock.assert_empty();

    // Dropped after completion, without reading the output.
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(wait);
    assert!(poll_join(&mut join, &waker).is_pending());
    mock.run_all();
    gate.open().wake();
    mock.run_all();
    assert_eq!(count.count(), 1);
    assert_eq!(Arc::strong_count(&count), 3);
    drop(join);
    assert_eq!(Arc::strong_count(&count), 2);
    mock.assert_empty();
}

/// A waker whose `wake` panics: user code the completer must survive.
struct PanicWake;

impl Wake for PanicWake {
    fn wake(self: Arc<Self>) {
        panic!("the joiner's waker panicked");
    }
}

#[test]
fn a_panicking_join_waker_does_not_unwind_into_the_runner() {
    let mock = Mock::new();
    let gate = Gate::default();
    let wait = gate.wait();
    let mut join = mock.spawn(async move {
        wait.await;
        9
    });
    let bad = Waker::from(Arc::new(PanicWake));
    assert!(poll_join(&mut join, &bad).is_pending());
    mock.run_all();
    gate.open().wake();
    // `quiet` resumes a panic that escapes `run_all`, failing the test.
    quiet(|| mock.run_all());
    let (_, w) = counting_waker();
    assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Ok(9))));
    drop(join);
    mock.assert_empty();
}
