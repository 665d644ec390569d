//! loom models of the task state machine (corio-rt `task/state.rs`): wake,
//! poll, abort, completion and the JoinHandle racing each other. Each model
//! checks that the future and the output are dropped exactly once, the task
//! is freed exactly once, a task is never queued twice, and the joiner is
//! never left without its wakeup.
#![cfg(loom)]

use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use corio_rt::__model::{new_task, Notified, RawTask, Schedule};
use corio_rt::JoinHandle;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

#[derive(Clone, Default)]
struct Counters {
    freed: Arc<AtomicUsize>,
    future_dropped: Arc<AtomicUsize>,
    output_dropped: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
    max_queued: Arc<AtomicUsize>,
}

struct Sched {
    q: Arc<Mutex<VecDeque<Notified>>>,
    c: Counters,
}

impl Drop for Sched {
    fn drop(&mut self) {
        // The scheduler handle lives in the task cell: dropped on free.
        self.c.freed.fetch_add(1, Ordering::SeqCst);
    }
}

impl Schedule for Sched {
    fn schedule(&self, task: Notified) {
        let mut q = self.q.lock().unwrap();
        q.push_back(task);
        self.c.max_queued.fetch_max(q.len(), Ordering::SeqCst);
    }
    fn release(&self, _task: RawTask) -> bool {
        false
    }
}

struct Output(Counters);
impl Drop for Output {
    fn drop(&mut self) {
        self.0.output_dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending on the first poll (leaving its waker in `slot`), ready on the second.
struct TwoStep {
    c: Counters,
    slot: Arc<Mutex<Option<Waker>>>,
}

impl Future for TwoStep {
    type Output = Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let n = self.c.polls.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            *self.slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(Output(self.c.clone()))
        }
    }
}

impl Drop for TwoStep {
    fn drop(&mut self) {
        self.c.future_dropped.fetch_add(1, Ordering::SeqCst);
    }
}

struct Setup {
    c: Counters,
    q: Arc<Mutex<VecDeque<Notified>>>,
    slot: Arc<Mutex<Option<Waker>>>,
}

fn spawn() -> (Setup, Notified, JoinHandle<Output>) {
    let c = Counters::default();
    let q = Arc::new(Mutex::new(VecDeque::new()));
    let slot = Arc::new(Mutex::new(None));
    let fut = TwoStep {
        c: c.clone(),
        slot: slot.clone(),
    };
    let (n, jh, registry_ref) = new_task(
        fut,
        Sched {
            q: q.clone(),
            c: c.clone(),
        },
        None,
        Location::caller(),
    );
    registry_ref.drop_ref();
    (Setup { c, q, slot }, n, jh)
}

/// Runs one step as a worker does: a task that woke itself while running
/// comes back from `run`, and is queued again (at most once: one task).
fn run(n: Notified, q: &Mutex<VecDeque<Notified>>) {
    if let Some(n) = n.run() {
        let mut q = q.lock().unwrap();
        q.push_back(n);
        assert!(q.len() <= 1, "queued twice");
    }
}

fn drain(q: &Mutex<VecDeque<Notified>>) {
    loop {
        let next = q.lock().unwrap().pop_front();
        match next {
            Some(n) => run(n, q),
            None => return,
        }
    }
}

fn counting_waker(count: Arc<AtomicUsize>) -> Waker {
    // Each function's `# Safety`: `p` came from `Arc::into_raw` of an
    // `Arc<AtomicUsize>` the waker owns.
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: see above; the clone is forgotten so the count stays.
        let a = unsafe { Arc::from_raw(p as *const AtomicUsize) };
        let b = a.clone();
        std::mem::forget(a);
        RawWaker::new(Arc::into_raw(b) as *const (), &VT)
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: see above.
        unsafe {
            wake_by_ref(p);
            drop_w(p);
        }
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: see above.
        unsafe { &*(p as *const AtomicUsize) }.fetch_add(1, Ordering::SeqCst);
    }
    unsafe fn drop_w(p: *const ()) {
        // SAFETY: see above; this waker's count is released.
        drop(unsafe { Arc::from_raw(p as *const AtomicUsize) });
    }
    static VT: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_w);
    // SAFETY: the vtable above upholds the RawWaker contract for an Arc.
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(count) as *const (), &VT)) }
}

fn poll_join(jh: &mut JoinHandle<Output>, w: &Waker) -> Poll<Result<Output, corio_rt::JoinError>> {
    Pin::new(jh).poll(&mut Context::from_waker(w))
}

/// A wake from another thread while the first poll is running.
#[test]
fn wake_races_first_poll() {
    loom::model(|| {
        let (s, n, mut jh) = spawn();
        let q = s.q.clone();
        let runner = thread::spawn(move || run(n, &q));
        let slot = s.slot.clone();
        let waker_thread = thread::spawn(move || {
            let w = slot.lock().unwrap().take();
            if let Some(w) = w {
                w.wake();
                true
            } else {
                false
            }
        });
        runner.join().unwrap();
        let woke = waker_thread.join().unwrap();
        if !woke {
            let w = s.slot.lock().unwrap().take().unwrap();
            w.wake();
        }
        assert!(s.c.max_queued.load(Ordering::SeqCst) <= 1, "queued twice");
        drain(&s.q);
        let w = counting_waker(Arc::new(AtomicUsize::new(0)));
        match poll_join(&mut jh, &w) {
            Poll::Ready(Ok(out)) => drop(out),
            other => panic!(
                "expected output, got pending or error: {}",
                other.is_pending()
            ),
        }
        drop(jh);
        assert_eq!(s.c.polls.load(Ordering::SeqCst), 2);
        assert_eq!(s.c.future_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.output_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.freed.load(Ordering::SeqCst), 1);
    });
}

/// Abort and wake race on an idle task; the future is dropped exactly once
/// and the handle sees either the output or a cancellation.
#[test]
fn abort_races_wake() {
    loom::model(|| {
        let (s, n, jh) = spawn();
        run(n, &s.q); // first poll: idle, waker in the slot
        let w = s.slot.lock().unwrap().take().unwrap();
        let jh2 = thread::spawn(move || {
            jh.abort();
            jh
        });
        let waker = thread::spawn(move || w.wake());
        waker.join().unwrap();
        let mut jh = jh2.join().unwrap();
        assert!(s.c.max_queued.load(Ordering::SeqCst) <= 1, "queued twice");
        drain(&s.q);
        let cw = counting_waker(Arc::new(AtomicUsize::new(0)));
        match poll_join(&mut jh, &cw) {
            Poll::Ready(Ok(out)) => drop(out),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("task neither completed nor cancelled"),
        }
        drop(jh);
        assert_eq!(s.c.future_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.freed.load(Ordering::SeqCst), 1);
    });
}

/// The JoinHandle registers its waker (or is dropped) while the task
/// completes on another thread: no lost join wakeup, output dropped once.
#[test]
fn join_races_completion() {
    loom::model(|| {
        let (s, n, mut jh) = spawn();
        run(n, &s.q); // idle after the first poll
        let w = s.slot.lock().unwrap().take().unwrap();
        w.wake(); // queued for the second poll
        let q = s.q.clone();
        let runner = thread::spawn(move || drain(&q));
        let count = Arc::new(AtomicUsize::new(0));
        let cw = counting_waker(count.clone());
        let first = poll_join(&mut jh, &cw);
        runner.join().unwrap();
        match first {
            Poll::Ready(Ok(out)) => drop(out),
            Poll::Ready(Err(e)) => panic!("unexpected {e:?}"),
            Poll::Pending => {
                assert!(count.load(Ordering::SeqCst) >= 1, "join wakeup lost");
                match poll_join(&mut jh, &cw) {
                    Poll::Ready(Ok(out)) => drop(out),
                    _ => panic!("woken but not ready"),
                }
            }
        }
        drop(jh);
        assert_eq!(s.c.output_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.freed.load(Ordering::SeqCst), 1);
    });
}

/// The JoinHandle is dropped while the task completes: whoever ends up
/// owning the output drops it, exactly once.
#[test]
fn join_drop_races_completion() {
    loom::model(|| {
        let (s, n, jh) = spawn();
        run(n, &s.q);
        let w = s.slot.lock().unwrap().take().unwrap();
        w.wake();
        let q = s.q.clone();
        let runner = thread::spawn(move || drain(&q));
        drop(jh);
        runner.join().unwrap();
        assert_eq!(s.c.output_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.future_dropped.load(Ordering::SeqCst), 1);
        assert_eq!(s.c.freed.load(Ordering::SeqCst), 1);
    });
}
