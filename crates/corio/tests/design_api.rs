//! DESIGN.md's public API, as written there: one test per section
//! (Runtime, Tasks, Combinators, Sync, I/O, Debug mode, Streams, Signals,
//! Subprocess, the rest of the task toolbox, metrics).
//!
//! Each test spells every name and call shape the way DESIGN.md does, so a
//! rename or a changed signature fails to compile here first, and checks
//! briefly that the call does what DESIGN.md says. The deeper behaviour of
//! each item is tested in its own file; this one is the conformance list.
//!
//! Parts that need a fresh process (environment defaults, debug-mode
//! reports on stderr, signals sent to the process) run this test binary
//! again as a child, with `CHILD` naming the part (see `child_process`).
//!
//! No timing assertions: every wait is on a signal, bounded by `BOUND`.

use std::future::Future;
use std::io::{BufRead, Write as _};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::{pin, Pin};
use std::process::Stdio as StdStdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio::sync::Event;

/// How long any single wait in these tests may take before it counts as hung.
const BOUND: Duration = Duration::from_secs(60);

/// Set (to the part's name) in the environment of the child process.
const CHILD: &str = "CORIO_DESIGN_API_CHILD";

/// Sets its flag when dropped: shows that a future was cancelled.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A future that never finishes and sets `flag` when dropped.
fn pending_with_flag<T>(flag: &Arc<AtomicBool>) -> impl Future<Output = T> + Send + 'static {
    let guard = DropFlag(flag.clone());
    async move {
        let _guard = guard;
        std::future::pending::<T>().await
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Waits (bounded) until the task behind `handle` has finished.
async fn finished<T>(handle: &corio::JoinHandle<T>) {
    let deadline = std::time::Instant::now() + BOUND;
    while !handle.is_finished() {
        assert!(std::time::Instant::now() < deadline, "task never finished");
        corio::yield_now().await;
    }
}

/// Waits (bounded, on the calling thread) until `cond` holds.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + BOUND;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn assert_send_sync<T: Send + Sync>() {}
fn assert_clone_send<T: Clone + Send>() {}
fn assert_stream_of<S: futures_lite::Stream<Item = T>, T>(_: &S) {}

// ---------------------------------------------------------------------------
// Runtime (asyncio.run / loop.run_until_complete)
// ---------------------------------------------------------------------------

#[corio::main]
async fn main_default() -> u32 {
    corio::spawn(async { 1 }).await.unwrap()
}

#[corio::main(worker_threads = 4)]
async fn main_four_workers() -> usize {
    corio::runtime::Handle::current().metrics().num_workers
}

#[corio::test]
async fn corio_test_runs_on_a_runtime() {
    assert_eq!(corio::spawn(async { 2 }).await.unwrap(), 2);
}

#[test]
fn runtime() {
    // corio::run(fut) -> T
    assert_eq!(corio::run(async { 6 * 7 }), 42);

    // Runtime::new() -> io::Result<Runtime>
    let rt: corio::Runtime = corio::Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { "new" }), "new");
    drop(rt);

    // Builder::new().worker_threads(n).max_blocking_threads(n).thread_name(s)
    //     .debug(bool).slow_poll_threshold(Duration).build() -> io::Result<Runtime>
    let rt: std::io::Result<corio::Runtime> = corio::Builder::new()
        .worker_threads(2)
        .max_blocking_threads(1)
        .thread_name("design-api")
        .debug(false)
        .slow_poll_threshold(Duration::from_millis(100))
        .build();
    let rt = rt.unwrap();

    // rt.spawn(fut), rt.block_on(fut) -> T; thread_name names the threads.
    let worker_name = rt.spawn(async { std::thread::current().name().map(str::to_owned) });
    let name = rt.block_on(worker_name).unwrap().unwrap();
    assert!(name.starts_with("design-api"), "{name}");

    // max_blocking_threads(1): never two blocking closures at once.
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let out = rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                corio::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        corio::gather(jobs).await
    });
    assert_eq!(
        out.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(most.load(Ordering::SeqCst), 1);

    // rt.handle() -> Handle (Clone, Send); Handle::current().
    assert_clone_send::<corio::Handle>();
    let handle: corio::Handle = rt.handle();
    let from_thread = std::thread::spawn(move || handle.block_on(async { 5 }))
        .join()
        .unwrap();
    assert_eq!(from_thread, 5);
    let same = rt.block_on(async {
        let current = corio::runtime::Handle::current();
        current.spawn(async { 6 }).await.unwrap()
    });
    assert_eq!(same, 6);

    // rt.metrics(): a snapshot (fields are checked in `metrics`).
    assert_eq!(rt.metrics().num_workers, 2);

    // rt.shutdown_timeout(Duration): returns although a blocking closure
    // still runs (the closure is released only after it returned).
    let release = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    {
        let (release, started) = (release.clone(), started.clone());
        drop(rt.spawn_blocking(move || {
            started.store(true, Ordering::SeqCst);
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }));
    }
    eventually("the blocking closure started", || {
        started.load(Ordering::SeqCst)
    });
    rt.shutdown_timeout(Duration::from_millis(10));
    release.store(true, Ordering::SeqCst);

    // worker_threads(0) is an error, not a hang.
    let zero = corio::Builder::new().worker_threads(0).build();
    assert_eq!(
        zero.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::InvalidInput)
    );

    // #[corio::main], #[corio::main(worker_threads = 4)] (#[corio::test]
    // is `corio_test_runs_on_a_runtime` above).
    assert_eq!(main_default(), 1);
    assert_eq!(main_four_workers(), 4);

    // Env CORIO_WORKER_THREADS and CORIO_DEBUG=1 set the defaults (in a
    // child process, whose environment is its own).
    let child = ChildTest::start(
        "env_defaults",
        &[("CORIO_WORKER_THREADS", "3"), ("CORIO_DEBUG", "1")],
    );
    let stderr = child.finish();
    assert!(
        stderr.contains("workers=3"),
        "CORIO_WORKER_THREADS ignored:\n{stderr}"
    );
    assert!(
        stderr.contains("slow poll") && stderr.contains("\"env-slow\""),
        "CORIO_DEBUG=1 did not turn debug mode on:\n{stderr}"
    );
}

/// Child part "env_defaults": the default runtime as the environment sets it.
fn child_env_defaults() {
    let rt = corio::Runtime::new().unwrap();
    eprintln!("workers={}", rt.metrics().num_workers);
    rt.block_on(async {
        // Longer than the default slow_poll_threshold (100 ms).
        corio::task::Builder::new()
            .name("env-slow")
            .spawn(async { std::thread::sleep(Duration::from_millis(150)) })
            .await
            .unwrap();
    });
}

// ---------------------------------------------------------------------------
// Tasks (create_task, Task, to_thread)
// ---------------------------------------------------------------------------

fn assert_join_handle<T, H: Future<Output = Result<T, corio::JoinError>>>(_: &H) {}

#[corio::test]
async fn tasks() {
    // corio::spawn(fut) -> JoinHandle<T>; JoinHandle: Future<Output = Result<T, JoinError>>.
    let handle: corio::JoinHandle<u8> = corio::spawn(async { 3 });
    assert_join_handle::<u8, _>(&handle);
    let id: corio::task::Id = handle.id();
    finished(&handle).await;
    assert!(handle.is_finished());
    assert_eq!(handle.await.unwrap(), 3);

    // .id() matches corio::task::id() inside the task.
    let handle = corio::spawn(async { corio::task::id() });
    let expected = handle.id();
    assert_eq!(handle.await.unwrap(), expected);
    assert_ne!(expected, id);

    // .abort() -> JoinError::is_cancelled(); the future is dropped.
    let dropped = Arc::new(AtomicBool::new(false));
    let handle = corio::spawn(pending_with_flag::<()>(&dropped));
    handle.abort();
    let error: corio::JoinError = handle.await.unwrap_err();
    assert!(error.is_cancelled() && !error.is_panic());
    assert!(dropped.load(Ordering::SeqCst));

    // A panic: JoinError::is_panic(), into_panic() gives the payload.
    let handle = corio::spawn(async {
        if std::hint::black_box(true) {
            panic!("task panic");
        }
    });
    let error = handle.await.unwrap_err();
    assert!(error.is_panic() && !error.is_cancelled());
    let payload = error.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task panic"));

    // Dropping the handle detaches the task (asyncio.shield): it runs on.
    let (go, done) = (Arc::new(Event::new()), Arc::new(Event::new()));
    {
        let (go, done) = (go.clone(), done.clone());
        drop(corio::spawn(async move {
            go.wait().await;
            done.set();
        }));
    }
    go.set();
    corio::time::wait_for(done.wait(), BOUND).await.unwrap();

    // corio::task::Builder::new().name("x").spawn(fut); task::name() inside.
    let named = corio::task::Builder::new()
        .name("x")
        .spawn(async { corio::task::name() });
    assert_eq!(named.await.unwrap().as_deref(), Some("x"));
    let unnamed = corio::spawn(async { corio::task::name() });
    assert_eq!(unnamed.await.unwrap(), None);

    // corio::spawn_blocking(f), its alias corio::to_thread(f): another thread.
    let here = std::thread::current().id();
    let there: corio::JoinHandle<std::thread::ThreadId> =
        corio::spawn_blocking(|| std::thread::current().id());
    assert_ne!(there.await.unwrap(), here);
    let there = corio::to_thread(|| std::thread::current().id());
    assert_ne!(there.await.unwrap(), here);

    // corio::yield_now(): another task gets to run meanwhile.
    let flag = Arc::new(AtomicBool::new(false));
    let other = {
        let flag = flag.clone();
        corio::spawn(async move { flag.store(true, Ordering::SeqCst) })
    };
    let deadline = std::time::Instant::now() + BOUND;
    while !flag.load(Ordering::SeqCst) {
        assert!(std::time::Instant::now() < deadline);
        corio::yield_now().await;
    }
    other.await.unwrap();
}

// ---------------------------------------------------------------------------
// Combinators
// ---------------------------------------------------------------------------

/// Finishes after `yields` polls, with `value`.
async fn after_yields<T>(yields: usize, value: T) -> T {
    for _ in 0..yields {
        corio::yield_now().await;
    }
    value
}

#[corio::test]
async fn combinators() {
    // corio::gather!(a, b, c) -> (A, B, C)
    let (a, b, c): (u8, &str, Vec<u8>) = corio::gather!(
        after_yields(3, 1u8),
        async { "b" },
        after_yields(1, vec![3u8])
    );
    assert_eq!((a, b, c), (1, "b", vec![3]));

    // corio::gather(iter) -> Vec<T> in input order (not completion order).
    let all: Vec<usize> = corio::gather((0..5).map(|i| after_yields(5 - i, i))).await;
    assert_eq!(all, [0, 1, 2, 3, 4]);
    let handles: Vec<_> = (0..3).map(|i| corio::spawn(async move { i * 2 })).collect();
    let outputs: Vec<Result<i32, corio::JoinError>> = corio::gather(handles).await;
    assert_eq!(
        outputs.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [0, 2, 4]
    );

    // corio::try_gather(iter) -> Result<Vec<T>, E>: first error wins, the
    // rest are dropped.
    let ok: Result<Vec<u8>, String> =
        corio::try_gather((1..=3).map(|i| async move { Ok(i) })).await;
    assert_eq!(ok, Ok(vec![1, 2, 3]));
    let dropped = Arc::new(AtomicBool::new(false));
    type BoxedResult = Pin<Box<dyn Future<Output = Result<u8, &'static str>> + Send>>;
    let failed = corio::try_gather(vec![
        Box::pin(after_yields(5, Err("late"))) as BoxedResult,
        Box::pin(after_yields(1, Err("first"))),
        Box::pin(pending_with_flag(&dropped)),
    ])
    .await;
    assert_eq!(failed, Err("first"));
    assert!(dropped.load(Ordering::SeqCst), "the rest are dropped");

    // corio::wait(handles, ReturnWhen::{FirstCompleted, FirstException,
    // AllCompleted}) -> (Vec<done>, Vec<pending>)
    let release = Arc::new(Event::new());
    let slow = {
        let release = release.clone();
        corio::spawn(async move {
            release.wait().await;
            "slow"
        })
    };
    let fast = corio::spawn(async { "fast" });
    let handles = vec![slow, fast];
    let (done, pending) = corio::wait(handles, corio::ReturnWhen::FirstCompleted).await;
    let done: Vec<Result<&str, corio::JoinError>> = done;
    let pending: Vec<corio::JoinHandle<&str>> = pending;
    assert_eq!(
        done.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["fast"]
    );
    assert_eq!(pending.len(), 1, "wait never cancels the pending");
    release.set();
    let (done, pending) = corio::wait(pending, corio::ReturnWhen::AllCompleted).await;
    assert_eq!(done.into_iter().next().unwrap().unwrap(), "slow");
    assert!(pending.is_empty());

    // FirstException: returns at the first failed output (Err or panic).
    let never = corio::spawn(async {
        std::future::pending::<()>().await;
        Ok::<(), String>(())
    });
    let failing = corio::spawn(async { Err::<(), _>("failed".to_owned()) });
    let (done, pending) =
        corio::wait(vec![never, failing], corio::ReturnWhen::FirstException).await;
    assert!(matches!(&done[..], [Ok(Err(e))] if e == "failed"));
    assert_eq!(pending.len(), 1);
    pending[0].abort();

    // Any output type for FirstCompleted and AllCompleted; done in
    // completion order.
    struct Opaque(usize);
    let futures: Vec<Pin<Box<dyn Future<Output = Opaque> + Send>>> = (0..4)
        .map(|i| {
            Box::pin(after_yields(4 - i, Opaque(i))) as Pin<Box<dyn Future<Output = _> + Send>>
        })
        .collect();
    let (done, pending) = corio::wait(futures, corio::ReturnWhen::AllCompleted).await;
    assert_eq!(done.iter().map(|o| o.0).collect::<Vec<_>>(), [3, 2, 1, 0]);
    assert!(pending.is_empty());

    // An empty input: two empty vectors at once (the tuple has no error).
    let none: Vec<corio::JoinHandle<()>> = Vec::new();
    let (done, pending) = corio::wait(none, corio::ReturnWhen::FirstCompleted).await;
    assert!(done.is_empty() && pending.is_empty());

    // corio::as_completed(iter): a Stream of outputs in completion order.
    let mut stream = corio::as_completed((0..4).map(|i| after_yields(4 - i, i)));
    assert_stream_of::<_, usize>(&stream);
    let mut order = Vec::new();
    while let Some(v) = futures_lite::StreamExt::next(&mut stream).await {
        order.push(v);
    }
    assert_eq!(order, [3, 2, 1, 0]);

    // corio::time::{sleep, sleep_until, interval, wait_for, Instant}
    use corio::time::{interval, sleep, sleep_until, wait_for, Instant};
    let start: Instant = Instant::now();
    sleep(Duration::from_millis(1)).await;
    sleep_until(Instant::now() + Duration::from_millis(1)).await;
    let mut ticks = interval(Duration::from_millis(1));
    let first = ticks.tick().await;
    let second = ticks.tick().await;
    assert!(second > first && first >= start);

    // wait_for(fut, dur) -> Result<T, TimeoutError>; drops fut on timeout.
    let ok: Result<u8, corio::time::TimeoutError> = wait_for(async { 9 }, BOUND).await;
    assert_eq!(ok, Ok(9));
    let dropped = Arc::new(AtomicBool::new(false));
    let timed_out = wait_for(pending_with_flag::<u8>(&dropped), Duration::from_millis(5)).await;
    assert!(timed_out.is_err());
    assert!(
        dropped.load(Ordering::SeqCst),
        "wait_for drops fut on timeout"
    );

    // corio::task::TaskGroup: the first Err cancels the siblings; join
    // returns every error (TaskGroupError); Ok gives the values.
    let group: corio::task::TaskGroup<u8, String> = corio::task::TaskGroup::new();
    for i in 0..3u8 {
        group.spawn(async move { Ok(i) });
    }
    let mut values = group.join().await.unwrap();
    values.sort();
    assert_eq!(values, [0, 1, 2]);

    let sibling_dropped = Arc::new(AtomicBool::new(false));
    let group = corio::TaskGroup::<(), String>::new();
    group.spawn(pending_with_flag(&sibling_dropped));
    group.spawn(async { Err("boom".to_owned()) });
    let error: corio::TaskGroupError<String> = group.join().await.unwrap_err();
    assert_eq!(error.errors(), ["boom".to_owned()]);
    assert!(sibling_dropped.load(Ordering::SeqCst), "siblings cancelled");

    // A panic cancels the siblings too and is carried in the error.
    let sibling_dropped = Arc::new(AtomicBool::new(false));
    let group = corio::TaskGroup::<(), String>::new();
    group.spawn(pending_with_flag(&sibling_dropped));
    group.spawn(async {
        if std::hint::black_box(true) {
            panic!("child panic");
        }
        Ok(())
    });
    let error = group.join().await.unwrap_err();
    assert_eq!(error.panics().len(), 1);
    assert!(sibling_dropped.load(Ordering::SeqCst));

    // Dropping the group cancels what is left: no orphan tasks.
    let orphan_dropped = Arc::new(AtomicBool::new(false));
    let gone = Arc::new(Event::new());
    let group = corio::TaskGroup::<(), ()>::new();
    {
        struct SetOnDrop(Arc<AtomicBool>, Arc<Event>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
                self.1.set();
            }
        }
        // Made outside the future: dropped with it even if it never ran.
        let guard = SetOnDrop(orphan_dropped.clone(), gone.clone());
        group.spawn(async move {
            let _guard = guard;
            std::future::pending::<Result<(), ()>>().await
        });
    }
    drop(group);
    wait_for(gone.wait(), BOUND).await.unwrap();
    assert!(orphan_dropped.load(Ordering::SeqCst));
}

// ---------------------------------------------------------------------------
// Sync (corio::sync): FIFO, no barging, cancel-safe hand-off, Send + Sync
// ---------------------------------------------------------------------------

#[corio::test]
async fn sync() {
    use corio::sync::{
        oneshot, Barrier, BoundedSemaphore, BrokenBarrier, Closed, Condition, LifoQueue, Lock,
        LockGuard, Permit, PriorityQueue, Queue, QueueEmpty, QueueFull, Semaphore,
    };

    assert_send_sync::<Lock<u8>>();
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Event>();
    assert_send_sync::<Condition>();
    assert_send_sync::<Barrier>();
    assert_send_sync::<Queue<u8>>();
    assert_send_sync::<PriorityQueue<u8>>();
    assert_send_sync::<LifoQueue<u8>>();

    // Lock<T>: new, acquire().await -> LockGuard (Deref/DerefMut, releases
    // on drop), try_acquire() -> Option, locked(), acquire_owned(Arc<Self>),
    // into_inner().
    let lock = Lock::new(0);
    {
        let mut guard: LockGuard<'_, i32> = lock.acquire().await;
        *guard += 1;
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none());
    }
    assert!(!lock.locked());
    assert_eq!(*lock.try_acquire().unwrap(), 1);

    // FIFO and no barging; a handed-over lock dropped unpolled passes on.
    let holder = lock.try_acquire().unwrap();
    let mut first = Box::pin(lock.acquire());
    let mut second = Box::pin(lock.acquire());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    drop(holder); // handed to `first`
    assert!(lock.try_acquire().is_none(), "a new caller never barges");
    drop(first); // cancelled after the hand-off: passes it on to `second`
    let Poll::Ready(mut guard) = poll_once(second.as_mut()) else {
        panic!("the lock was not passed on to the next waiter");
    };
    *guard = 5;
    drop(guard);
    drop(second);

    let shared = Arc::new(Lock::new(String::from("owned")));
    let owned = Lock::acquire_owned(shared.clone()).await;
    let moved = corio::spawn(async move { owned.len() });
    assert_eq!(moved.await.unwrap(), 5);
    assert!(!shared.locked());
    assert_eq!(lock.into_inner(), 5);

    // Semaphore: new(permits), acquire().await -> Result<Permit, Closed>,
    // acquire_many(n), try_acquire(), release() (+1), available_permits(),
    // locked(), close(), acquire_owned, Permit::forget().
    let sem = Semaphore::new(2);
    let permit: Result<Permit<'_>, Closed> = sem.acquire().await;
    let permit = permit.unwrap();
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok()); // dropped at once: back to 1
    assert_eq!(sem.available_permits(), 1);
    // A waiter for two is not overtaken by a later waiter for one.
    let mut two = Box::pin(sem.acquire_many(2));
    assert!(poll_once(two.as_mut()).is_pending());
    assert!(
        sem.try_acquire().is_err(),
        "no barging past the waiter for two"
    );
    drop(permit);
    let Poll::Ready(Ok(both)) = poll_once(two.as_mut()) else {
        panic!("acquire_many(2) did not get its permits");
    };
    assert!(sem.locked());
    drop(both);
    drop(two);
    sem.release(); // asyncio's release: one more permit
    assert_eq!(sem.available_permits(), 3);
    sem.acquire().await.unwrap().forget(); // forget: the permit is gone
    assert_eq!(sem.available_permits(), 2);
    let owned_sem = Arc::new(Semaphore::new(1));
    let owned_permit = Semaphore::acquire_owned(owned_sem.clone()).await.unwrap();
    assert_eq!(owned_sem.available_permits(), 0);
    drop(owned_permit);
    sem.close();
    assert_eq!(sem.acquire().await.err(), Some(Closed));

    // BoundedSemaphore: release() past the initial value is Err.
    let bounded = BoundedSemaphore::new(1);
    let permit = bounded.acquire().await.unwrap();
    permit.forget();
    assert!(bounded.release().is_ok());
    assert!(bounded.release().is_err(), "asyncio's ValueError");

    // Event: new(), set(), clear(), is_set(), wait().await
    let event = Arc::new(Event::new());
    let waiter = {
        let event = event.clone();
        corio::spawn(async move { event.wait().await })
    };
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    waiter.await.unwrap();
    event.clear();
    assert!(!event.is_set());

    // Condition: wait(guard).await -> guard, wait_for(guard, pred),
    // notify(n), notify_all(); works with LockGuard.
    let state = Arc::new((Lock::new(0u32), Condition::new()));
    let waiter = {
        let state = state.clone();
        corio::spawn(async move {
            let (lock, cond) = &*state;
            let guard = cond.wait_for(lock.acquire().await, |n| *n >= 2).await;
            *guard
        })
    };
    for _ in 0..2 {
        let (lock, cond) = &*state;
        *lock.acquire().await += 1;
        cond.notify(1);
        corio::yield_now().await;
    }
    state.1.notify_all();
    assert_eq!(
        corio::time::wait_for(waiter, BOUND).await.unwrap().unwrap(),
        2
    );
    {
        let (lock, cond) = &*state;
        let mut wait = Box::pin(cond.wait(lock.acquire().await));
        assert!(poll_once(wait.as_mut()).is_pending());
        assert!(!lock.locked(), "the lock is released while waiting");
        cond.notify_all();
        let guard: LockGuard<'_, u32> = wait.await;
        assert_eq!(*guard, 2);
    }

    // Barrier: new(parties), wait().await -> Result<usize, BrokenBarrier>,
    // reset(), abort(), n_waiting(), broken().
    let barrier = Arc::new(Barrier::new(2));
    let other = {
        let barrier = barrier.clone();
        corio::spawn(async move { barrier.wait().await })
    };
    let mine: Result<usize, BrokenBarrier> = barrier.wait().await;
    let mut indices = [mine.unwrap(), other.await.unwrap().unwrap()];
    indices.sort();
    assert_eq!(indices, [0, 1]);
    let mut lone = Box::pin(barrier.wait());
    assert!(poll_once(lone.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    barrier.abort();
    assert!(barrier.broken());
    assert_eq!(lone.await, Err(BrokenBarrier));
    barrier.reset();
    assert!(!barrier.broken());

    // Queue<T> / PriorityQueue<T: Ord> (smallest first) / LifoQueue<T>.
    let q: Queue<u32> = Queue::new(2);
    q.put(1).await.unwrap();
    assert_eq!(q.put_nowait(2), Ok(()));
    assert!(q.full());
    assert_eq!(q.put_nowait(3), Err(QueueFull(3)));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get().await, Ok(1)); // FIFO
    assert_eq!(q.get_nowait(), Ok(2));
    assert!(q.empty());
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    // task_done() and join().await: join waits until every item put was
    // marked done.
    let mut join = Box::pin(q.join());
    assert!(poll_once(join.as_mut()).is_pending(), "two items not done");
    q.task_done().unwrap();
    assert!(poll_once(join.as_mut()).is_pending(), "one item not done");
    q.task_done().unwrap();
    join.await;
    assert!(q.task_done().is_err(), "more task_done() calls than items");
    // shutdown(immediate = false): put fails, get drains, then fails.
    q.put_nowait(8).unwrap();
    q.shutdown(false);
    assert!(q.put(9).await.is_err());
    assert_eq!(q.get().await, Ok(8));
    assert!(q.get().await.is_err());
    // shutdown(immediate = true): gets fail at once.
    let q = Queue::new(0);
    q.put_nowait("left").unwrap();
    q.shutdown(true);
    assert!(q.get().await.is_err());

    let pq = PriorityQueue::new(0); // 0 = unbounded
    for x in [3, 1, 2] {
        pq.put(x).await.unwrap();
    }
    assert_eq!(pq.get().await, Ok(1));
    let lq = LifoQueue::new(0);
    lq.put_nowait('a').unwrap();
    lq.put_nowait('b').unwrap();
    assert_eq!(lq.get().await, Ok('b'));

    // A get handed an item, then cancelled before it ran: the item goes to
    // the next getter.
    let q = Queue::new(0);
    let mut first = Box::pin(q.get());
    let mut second = Box::pin(q.get());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    q.put_nowait(42).unwrap(); // handed to `first`
    drop(first);
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok(42)));

    // oneshot::channel()
    let (tx, rx) = oneshot::channel();
    corio::spawn(async move { tx.send("sent").unwrap() });
    assert_eq!(rx.await, Ok("sent"));
}

// ---------------------------------------------------------------------------
// I/O (corio::net, corio::io, corio::time)
// ---------------------------------------------------------------------------

fn assert_fds<T: AsFd + AsRawFd>(_: &T) {}
fn assert_read_write<T: futures_io::AsyncRead + futures_io::AsyncWrite>() {}

#[corio::test]
async fn io() {
    use corio::io::{AsyncReadExt, AsyncWriteExt};
    use corio::net::{
        Async, TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
    };

    // TcpListener::bind, .accept(), .incoming() (Stream), .local_addr()
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (mut server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    let _second = TcpStream::connect(addr).await.unwrap();
    let mut incoming = listener.incoming();
    assert_stream_of::<_, std::io::Result<TcpStream>>(&incoming);
    let accepted = futures_lite::StreamExt::next(&mut incoming).await.unwrap();
    assert!(accepted.is_ok());

    // TcpStream: AsyncRead + AsyncWrite (also on &TcpStream), set_nodelay(),
    // peer_addr(), split(), shutdown().
    assert_read_write::<TcpStream>();
    assert_read_write::<&TcpStream>();
    client.set_nodelay(true).unwrap();
    assert_eq!(client.peer_addr().unwrap(), addr);
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    let mut by_ref = &server;
    by_ref.write_all(b"pong").await.unwrap();
    client.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
    {
        let (mut read_half, mut write_half) = server.split();
        write_half.write_all(b"half").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"half");
        client.write_all(b"back").await.unwrap();
        read_half.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
    }
    client.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "EOF after the peer's shutdown");

    // TcpStream::connect with a host name (resolved off the workers).
    let by_name = TcpStream::connect(("localhost", addr.port())).await;
    assert!(by_name.is_ok(), "{by_name:?}");

    // Net types implement AsFd and AsRawFd.
    assert_fds(&listener);
    assert_fds(&client);

    // TcpSocket: new_v4()/new_v6(), setters on &self, bind(SocketAddr),
    // listen(backlog) -> TcpListener, connect(addr).await -> TcpStream.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.set_reuseport(true).unwrap();
    socket.set_keepalive(true).unwrap();
    socket.set_send_buffer_size(64 * 1024).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    assert_fds(&socket);
    let from_socket: TcpListener = socket.listen(128).unwrap();
    let target = from_socket.local_addr().unwrap();
    let connected: TcpStream = TcpSocket::new_v4().unwrap().connect(target).await.unwrap();
    let (accepted, _) = from_socket.accept().await.unwrap();
    assert_eq!(
        accepted.peer_addr().unwrap(),
        connected.local_addr().unwrap()
    );
    if let Ok(v6) = TcpSocket::new_v6() {
        // A host without IPv6 may refuse the bind; the constructor exists.
        let _ = v6.bind("[::1]:0".parse().unwrap());
    }

    // UdpSocket
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.send_to(b"datagram", b.local_addr().unwrap())
        .await
        .unwrap();
    let mut dgram = [0u8; 16];
    let (n, from) = b.recv_from(&mut dgram).await.unwrap();
    assert_eq!(
        (&dgram[..n], from),
        (&b"datagram"[..], a.local_addr().unwrap())
    );
    assert_fds(&a);

    // UnixListener / UnixStream / UnixDatagram
    let dir = std::env::temp_dir().join(format!("corio-design-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sock");
    let _ = std::fs::remove_file(&path);
    let unix_listener = UnixListener::bind(&path).unwrap();
    let mut unix_client = UnixStream::connect(&path).await.unwrap();
    let (mut unix_server, _) = unix_listener.accept().await.unwrap();
    unix_client.write_all(b"unix").await.unwrap();
    unix_server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"unix");
    assert_fds(&unix_server);
    let (d1, d2) = UnixDatagram::pair().unwrap();
    d1.send(b"dgram").await.unwrap();
    let n = d2.recv(&mut dgram).await.unwrap();
    assert_eq!(&dgram[..n], b"dgram");
    assert_fds(&d1);
    drop(unix_listener);
    let _ = std::fs::remove_dir_all(&dir);

    // Async<T> (T: AsFd; DESIGN.md says AsRawFd) with readable(), writable()
    // for any other descriptor.
    let (left, right) = std::os::unix::net::UnixStream::pair().unwrap();
    let left = Async::new(left).unwrap();
    let right = Async::new(right).unwrap();
    left.writable().await.unwrap();
    std::io::Write::write_all(&mut left.get_ref(), b"fd").unwrap();
    right.readable().await.unwrap();
    let mut two = [0u8; 2];
    std::io::Read::read_exact(&mut right.get_ref(), &mut two).unwrap();
    assert_eq!(&two, b"fd");

    // Timers: a dropped Sleep frees its wheel entry.
    let before = corio_timer_entries();
    let mut far = Box::pin(corio::time::sleep(Duration::from_secs(3600)));
    assert!(poll_once(far.as_mut()).is_pending()); // armed
    assert!(corio_timer_entries() > before);
    drop(far);
    eventually_async("the dropped Sleep's entry is freed", || {
        corio_timer_entries() <= before
    })
    .await;
}

/// Timer entries armed in the driver's wheel (process-wide).
fn corio_timer_entries() -> usize {
    corio::time::timer_entries()
}

/// Waits (bounded, yielding) until `cond` holds.
async fn eventually_async(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + BOUND;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        corio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---------------------------------------------------------------------------
// Debug mode
// ---------------------------------------------------------------------------

#[test]
fn debug_mode() {
    // The child (part "debug_mode") runs Builder::debug(true) with a 50 ms
    // slow_poll_threshold and, without any tracing subscriber:
    // - blocks a worker in one poll until we have seen the stuck-worker
    //   report and the task queued behind it has run elsewhere;
    // - then lets that poll end (a slow poll: name, id, spawn location);
    // - drops the handle of a panicked task unread.
    let mut child = ChildTest::start("debug_mode", &[]);
    child.wait_for_line("the stuck-worker report", |l| {
        l.contains("corio debug: worker") && l.contains("stuck in one poll")
    });
    child.wait_for_line("the queued task ran on another worker", |l| {
        l == "queued task ran"
    });
    child.send_line("release");
    let stderr = child.finish();
    let slow = stderr
        .lines()
        .find(|l| l.contains("slow poll"))
        .unwrap_or_else(|| panic!("no slow-poll report:\n{stderr}"));
    assert!(slow.contains("\"debug-slow\""), "no task name: {slow}");
    assert!(slow.contains("design_api.rs:"), "no spawn location: {slow}");
    assert!(slow.contains("task "), "no task id: {slow}");
    let lost = stderr
        .lines()
        .find(|l| l.contains("exception never retrieved"))
        .unwrap_or_else(|| panic!("no unretrieved-panic report:\n{stderr}"));
    assert!(lost.contains("\"debug-lost\""), "{lost}");
}

/// Child part "debug_mode" (see `debug_mode`).
fn child_debug_mode() {
    std::panic::set_hook(Box::new(|_| {}));
    let rt = corio::Builder::new()
        .worker_threads(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(50))
        .build()
        .unwrap();
    rt.block_on(async {
        let slow = corio::task::Builder::new().name("debug-slow").spawn(async {
            // Queued behind this poll, on this worker: another worker
            // must take it.
            drop(corio::spawn(async { eprintln!("queued task ran") }));
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).unwrap();
            assert_eq!(line.trim(), "release");
        });
        slow.await.unwrap();

        let lost = corio::task::Builder::new().name("debug-lost").spawn(async {
            if std::hint::black_box(true) {
                panic!("nobody reads this");
            }
        });
        finished(&lost).await;
        drop(lost);
    });
}

// ---------------------------------------------------------------------------
// Streams (open_connection / start_server / StreamReader)
// ---------------------------------------------------------------------------

mod streams {
    // A user who also imports futures-lite's prelude hits no "multiple
    // applicable items" (E0034): corio::io's traits are futures-lite's.
    #[allow(unused_imports)]
    use futures_lite::prelude::*;

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use corio::io::{
        copy, copy_bidirectional, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader,
        BufWriter,
    };
    use corio::net::{
        lookup_host, open_connection, start_server, Server, StreamReader, StreamWriter,
        TcpListener, TcpStream, UnixStream,
    };

    use super::{pending_with_flag, BOUND};

    fn assert_buf_read<T: futures_io::AsyncBufRead>() {}
    fn assert_write<T: futures_io::AsyncWrite>() {}

    #[corio::test]
    async fn streams() {
        // BufReader / BufWriter over any AsyncRead / AsyncWrite;
        // AsyncBufReadExt: read_line, read_until, lines() (Stream of
        // io::Result<String>).
        let (a, b) = UnixStream::pair().unwrap();
        let mut writer = BufWriter::new(a);
        writer
            .write_all(b"first line\nsecond;third\nx\ny\n")
            .await
            .unwrap();
        writer.flush().await.unwrap();
        drop(writer);
        let mut reader = BufReader::new(b);
        let mut line = String::new();
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 11);
        assert_eq!(line, "first line\n");
        let mut until = Vec::new();
        reader.read_until(b';', &mut until).await.unwrap();
        assert_eq!(until, b"second;");
        let lines = reader.lines();
        super::assert_stream_of::<_, std::io::Result<String>>(&lines);
        let rest: Vec<String> = lines.try_collect().await.unwrap();
        assert_eq!(rest, ["third", "x", "y"]);

        // copy(reader, writer)
        let (mut src, src_peer) = UnixStream::pair().unwrap();
        let (dst_peer, mut dst) = UnixStream::pair().unwrap();
        src.write_all(b"copied").await.unwrap();
        src.close().await.unwrap();
        drop(src);
        let mut dst_writer = dst_peer;
        let n = copy(src_peer, &mut dst_writer).await.unwrap();
        assert_eq!(n, 6);
        drop(dst_writer);
        let mut got = Vec::new();
        dst.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"copied");

        // copy_bidirectional(a, b): client <-> (a | proxy | b) <-> server
        let (mut client, mut a) = UnixStream::pair().unwrap();
        let (mut b, mut server) = UnixStream::pair().unwrap();
        let proxy = corio::spawn(async move { copy_bidirectional(&mut a, &mut b).await });
        client.write_all(b"up").await.unwrap();
        let mut two = [0u8; 2];
        server.read_exact(&mut two).await.unwrap();
        server.write_all(b"dn").await.unwrap();
        client.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"dn");
        client.close().await.unwrap();
        server.close().await.unwrap();
        drop((client, server));
        let (up, down) = proxy.await.unwrap().unwrap();
        assert_eq!((up, down), (2, 2));

        // start_server(handler, addr).await -> io::Result<Server>; the
        // handler gets (StreamReader, StreamWriter), one task per connection.
        let server: Server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let mut line = String::new();
                while reader.read_line(&mut line).await? > 0 {
                    writer.write_all(line.to_uppercase().as_bytes()).await?;
                    writer.flush().await?; // asyncio's drain
                    line.clear();
                }
                std::io::Result::Ok(())
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();

        // open_connection(addr).await -> (StreamReader: AsyncBufRead,
        // StreamWriter: buffered AsyncWrite; flush = drain, close).
        assert_buf_read::<StreamReader>();
        assert_write::<StreamWriter>();
        let (mut reader, mut writer): (StreamReader, StreamWriter) =
            open_connection(addr).await.unwrap();
        writer.write_all(b"hello\n").await.unwrap();
        writer.flush().await.unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).await.unwrap();
        assert_eq!(reply, "HELLO\n");

        // close(): stop accepting; live connections go on.
        server.close();
        loop {
            match TcpStream::connect(addr).await {
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
                    break;
                }
                // Queued by the kernel before close: try again.
                Ok(_) => corio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        writer.write_all(b"still served\n").await.unwrap();
        writer.flush().await.unwrap();
        reply.clear();
        reader.read_line(&mut reply).await.unwrap();
        assert_eq!(reply, "STILL SERVED\n");
        // serve_forever() returns once the server is closed.
        corio::time::wait_for(server.serve_forever(), BOUND)
            .await
            .unwrap()
            .unwrap();
        writer.close().await.unwrap();
        drop((reader, writer));
        server.shutdown(BOUND).await;

        // shutdown(grace): close, wait up to grace, then cancel the rest.
        let handler_dropped = Arc::new(AtomicBool::new(false));
        let flag = handler_dropped.clone();
        let server = start_server(
            move |_reader, _writer| pending_with_flag::<()>(&flag),
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let serving = server.clone();
        let forever = corio::spawn(async move { serving.serve_forever().await });
        let (_r, mut w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        w.write_all(b"x").await.unwrap();
        w.flush().await.unwrap();
        super::eventually_async("the handler runs", || server.connections() == 1).await;
        server.shutdown(Duration::from_millis(10)).await;
        assert!(
            handler_dropped.load(Ordering::SeqCst),
            "cancelled after grace"
        );
        forever.await.unwrap().unwrap();

        // lookup_host(host_port).await, on the blocking pool.
        let addrs: Vec<std::net::SocketAddr> = lookup_host("localhost:80").await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        assert!(!addrs.is_empty());

        // The net facade still has corio-io's types.
        let _ = TcpListener::bind("127.0.0.1:0").await.unwrap();
    }
}

// ---------------------------------------------------------------------------
// Signals (loop.add_signal_handler)
// ---------------------------------------------------------------------------

#[test]
fn signals() {
    // In a child: the signals are sent to that process.
    let child = ChildTest::start("signals", &[]);
    let stderr = child.finish();
    assert!(stderr.contains("signals ok"), "{stderr}");
}

/// Sends `signal` (a `kill` name such as "HUP") to this process, through a
/// corio subprocess.
async fn kill_self(signal: &str) {
    let status = corio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{signal} {}", std::process::id()))
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// Child part "signals".
fn child_signals() {
    use corio::signal::{Signals, SIGHUP, SIGTERM};
    let result: std::io::Result<()> = corio::run(async {
        // Signals::new(&[SIGTERM, SIGHUP])? is a Stream of i32.
        let mut signals = Signals::new(&[SIGTERM, SIGHUP])?;
        assert_stream_of::<_, i32>(&signals);
        // Several listeners for one signal all see it.
        let mut also_hup = Signals::new(&[SIGHUP])?;
        // Both install their handler at the call, before the first poll: a
        // SIGINT sent now must not kill the process.
        let ctrl_c = corio::signal::ctrl_c();

        kill_self("HUP").await;
        let got = corio::time::wait_for(futures_lite::StreamExt::next(&mut signals), BOUND)
            .await
            .unwrap();
        assert_eq!(got, Some(SIGHUP));
        let got = corio::time::wait_for(also_hup.recv(), BOUND).await.unwrap();
        assert_eq!(got, Some(SIGHUP));

        kill_self("TERM").await;
        let got = corio::time::wait_for(futures_lite::StreamExt::next(&mut signals), BOUND)
            .await
            .unwrap();
        assert_eq!(got, Some(SIGTERM));

        kill_self("INT").await;
        let interrupted: std::io::Result<()> = corio::time::wait_for(ctrl_c, BOUND).await.unwrap();
        interrupted?;
        Ok(())
    });
    result.unwrap();
    eprintln!("signals ok");
}

// ---------------------------------------------------------------------------
// Subprocess (asyncio.create_subprocess_exec)
// ---------------------------------------------------------------------------

#[corio::test]
async fn subprocess() {
    use corio::io::{AsyncReadExt, AsyncWriteExt};
    use corio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};

    // Command mirrors std's: new, arg, args, env, current_dir,
    // stdin/stdout/stderr(Stdio), kill_on_drop; .output().await.
    let out = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "output() closes the child's stdin");

    let dir = std::env::temp_dir();
    let out = Command::new("sh")
        .arg("-c")
        .args(["echo \"$GREETING\" $(pwd); echo err >&2; exit 3"])
        .env("GREETING", "hi")
        .current_dir(&dir)
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let expected_dir = dir.canonicalize().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("hi {}\n", expected_dir.display())
    );
    assert_eq!(out.stderr, b"err\n");

    // .status().await
    assert!(Command::new("true").status().await.unwrap().success());
    assert!(!Command::new("false").status().await.unwrap().success());

    // .spawn() -> io::Result<Child>; Child: id(), wait().await, kill()
    // (synchronous), try_wait(); stdin/stdout/stderr: Option<ChildStdin /
    // ChildStdout / ChildStderr>, AsyncWrite / AsyncRead.
    let mut child: Child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(child.id() > 0);
    let mut stdin: ChildStdin = child.stdin.take().unwrap();
    let mut stdout: ChildStdout = child.stdout.take().unwrap();
    let stderr: Option<ChildStderr> = child.stderr.take();
    assert!(stderr.is_some());
    stdin.write_all(b"through cat").await.unwrap();
    drop(stdin);
    let mut echoed = String::new();
    stdout.read_to_string(&mut echoed).await.unwrap();
    assert_eq!(echoed, "through cat");
    assert!(child.wait().await.unwrap().success());

    let mut sleeper = Command::new("sleep").arg("3600").spawn().unwrap();
    assert!(sleeper.try_wait().unwrap().is_none());
    sleeper.kill().unwrap();
    let status = sleeper.wait().await.unwrap();
    assert!(!status.success());

    // kill_on_drop(true): dropping the Child kills it (and it is reaped).
    let child = Command::new("sleep")
        .arg("3600")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id();
    drop(child);
    eventually_async("the dropped child is gone", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
    .await;
}

// ---------------------------------------------------------------------------
// Tasks, the rest of asyncio's toolbox
// ---------------------------------------------------------------------------

corio::task_local! {
    static REQUEST_ID: u64;
}

#[corio::test]
async fn tasks_the_rest() {
    // corio::race(a, b).await: the first of two, the other dropped.
    let dropped = Arc::new(AtomicBool::new(false));
    let winner = corio::race(pending_with_flag::<&str>(&dropped), async { "ready" }).await;
    assert_eq!(winner, "ready");
    assert!(dropped.load(Ordering::SeqCst));

    // corio::select! for different types.
    let picked = corio::select! {
        n = after_yields(5, 1u8) => format!("number {n}"),
        s = after_yields(1, "text") => format!("string {s}"),
    };
    assert_eq!(picked, "string text");

    // WaitFor::reschedule(self: Pin<&mut Self>, deadline) and deadline().
    use corio::time::{wait_for, Instant, WaitFor};
    let far = Instant::now() + Duration::from_secs(3600);
    let mut timeout: Pin<&mut WaitFor<_>> = pin!(wait_for(
        std::future::pending::<()>(),
        Duration::from_secs(3600)
    ));
    assert!(timeout.deadline() <= far + Duration::from_secs(1));
    let now = Instant::now();
    timeout.as_mut().reschedule(now);
    assert_eq!(timeout.deadline(), now);
    assert!(timeout.await.is_err(), "rescheduled to now: times out");
    let mut later = pin!(wait_for(after_yields(3, 7), Duration::from_millis(1)));
    later.as_mut().reschedule(Instant::now() + BOUND);
    assert_eq!(later.await, Ok(7));

    // corio::task::Builder::new().eager(true).spawn(fut): polled once at
    // once on the caller; a future that completes there is finished on
    // return, without touching a queue.
    let eager = corio::task::Builder::new().eager(true).spawn(async { 11 });
    assert!(
        eager.is_finished(),
        "an eager ready future finishes on spawn"
    );
    assert_eq!(eager.await.unwrap(), 11);
    let seen = Arc::new(AtomicBool::new(false));
    let not_ready = {
        let seen = seen.clone();
        corio::task::Builder::new()
            .name("eager-pending")
            .eager(true)
            .spawn(async move {
                seen.store(true, Ordering::SeqCst);
                corio::yield_now().await;
                corio::task::name()
            })
    };
    assert!(
        seen.load(Ordering::SeqCst),
        "the first poll ran on the caller"
    );
    assert_eq!(not_ready.await.unwrap().as_deref(), Some("eager-pending"));

    // TaskGroup::spawn(&self, fut); handle() is Clone + Send and adds
    // siblings from inside a child; join() waits for those too.
    let group = corio::TaskGroup::<u32, ()>::new();
    let handle: corio::task::TaskGroupHandle<u32, ()> = group.handle();
    assert_clone_send::<corio::task::TaskGroupHandle<u32, ()>>();
    let group_ref: &corio::TaskGroup<u32, ()> = &group;
    group_ref.spawn(async move {
        for i in 1..=3 {
            let inner = handle.clone();
            inner.spawn(async move {
                corio::yield_now().await;
                Ok(i * 10)
            });
        }
        Ok(0)
    });
    let mut results = group.join().await.unwrap();
    results.sort();
    assert_eq!(results, [0, 10, 20, 30]);

    // corio::wait accepts any output type for FirstCompleted / AllCompleted
    // (checked in `combinators`).

    // task_local!: NAME.scope(value, fut).await, NAME.with(..),
    // NAME.try_with(..); scope covers the future it wraps.
    let inside = REQUEST_ID
        .scope(7, async {
            corio::yield_now().await;
            REQUEST_ID.with(|id| *id)
        })
        .await;
    assert_eq!(inside, 7);
    assert!(REQUEST_ID.try_with(|id| *id).is_err(), "outside the scope");
    let nested = REQUEST_ID
        .scope(1, async {
            let inner = REQUEST_ID.scope(2, async { REQUEST_ID.with(|v| *v) }).await;
            (inner, REQUEST_ID.try_with(|v| *v).unwrap())
        })
        .await;
    assert_eq!(nested, (2, 1));
}

// ---------------------------------------------------------------------------
// Runtime::metrics(): per-worker polls, steals, parks, LIFO hits, injector
// pulls, time busy, driver turns by workers vs the backup thread
// ---------------------------------------------------------------------------

#[test]
fn metrics() {
    // One worker: nobody to steal from; a task spawned from outside comes
    // through the injector, one spawned on the worker through its LIFO slot.
    let rt = corio::Builder::new().worker_threads(1).build().unwrap();
    let outer = rt.spawn(async {
        let inner = corio::spawn(async { corio::yield_now().await });
        inner.await.unwrap();
        corio::time::sleep(Duration::from_millis(1)).await;
    });
    rt.block_on(outer).unwrap();
    let m: corio::runtime::RuntimeMetrics = rt.metrics();
    assert_eq!(m.workers.len(), 1);
    let w: corio::runtime::WorkerMetrics = m.workers[0];
    assert!(w.polls >= 3, "{w:?}");
    assert_eq!(w.steals, 0, "{w:?}");
    assert!(w.injector_pulls >= 1, "{w:?}");
    assert!(w.lifo_hits >= 1, "{w:?}");
    let _: u64 = w.driver_turns;
    assert_eq!(m.driver_turns_by_workers, w.driver_turns);
    let _: u64 = m.driver_turns_by_backup;
    // Parks and busy time are counted when the worker parks, which it
    // does once it has nothing left to run.
    eventually("the idle worker parked and counted its busy time", || {
        let w = rt.metrics().workers[0];
        w.parks >= 1 && w.busy > Duration::ZERO
    });
    drop(rt);

    // Several workers: the per-worker list has one entry each.
    let rt = corio::Builder::new().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..100).map(|_| corio::spawn(corio::yield_now())).collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let m = rt.metrics();
    assert_eq!(m.workers.len(), 2);
    assert!(m.workers.iter().map(|w| w.polls).sum::<u64>() >= 100);
    assert_eq!(
        m.driver_turns_by_workers,
        m.workers.iter().map(|w| w.driver_turns).sum::<u64>()
    );
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

/// The child's entry point: does nothing unless `CHILD` names a part.
#[test]
fn child_process() {
    match std::env::var(CHILD).as_deref() {
        Ok("env_defaults") => child_env_defaults(),
        Ok("debug_mode") => child_debug_mode(),
        Ok("signals") => child_signals(),
        Ok(other) => panic!("unknown child part {other:?}"),
        Err(_) => {}
    }
}

/// This test binary running one part as a child process, its stderr read
/// line by line.
struct ChildTest {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ChildTest {
    fn start(part: &str, env: &[(&str, &str)]) -> ChildTest {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, part)
            .env_remove("CORIO_DEBUG")
            .env_remove("CORIO_WORKER_THREADS")
            .env_remove("RUST_LOG")
            .stdin(StdStdio::piped())
            .stdout(StdStdio::null())
            .stderr(StdStdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the child");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildTest {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a stderr line matching `pred`.
    fn wait_for_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        if self.seen.iter().any(|l| pred(l)) {
            return;
        }
        let deadline = std::time::Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    self.seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("the child never wrote {what}:\n{}", self.seen.join("\n"));
                }
            }
        }
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits (bounded) for the child to exit successfully; returns all of
    /// its stderr.
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + BOUND;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the child did not exit within {BOUND:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The reader thread ends at EOF, once the child has exited.
        while let Ok(line) = self.lines.recv_timeout(BOUND) {
            self.seen.push(line);
        }
        let text = self.seen.join("\n");
        assert!(status.success(), "the child failed: {status}\n{text}");
        text
    }
}
