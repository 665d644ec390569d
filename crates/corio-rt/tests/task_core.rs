//! The task core: completion, wakes, aborts in every state, panics, drops.
//! Sizes are moderate so this binary also runs under valgrind in CI.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;

fn scale(n: usize) -> usize {
    // Under valgrind (CORIO_TEST_SMALL=1) everything runs ~50x slower.
    if std::env::var_os("CORIO_TEST_SMALL").is_some() {
        (n / 20).max(1)
    } else {
        n
    }
}

#[test]
fn many_tasks_complete_with_outputs() {
    let rt = rt(2);
    let n = scale(20_000);
    let sum = rt.block_on(async move {
        let handles: Vec<_> = (0..n)
            .map(|i| corio_rt::spawn(async move { i as u64 }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..n as u64).sum::<u64>());
}

#[test]
fn nested_spawns_form_a_tree() {
    fn tree(depth: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> {
        Box::pin(async move {
            if depth == 0 {
                return 1;
            }
            let l = corio_rt::spawn(tree(depth - 1));
            let r = corio_rt::spawn(tree(depth - 1));
            l.await.unwrap() + r.await.unwrap() + 1
        })
    }
    let rt = rt(2);
    let depth = if std::env::var_os("CORIO_TEST_SMALL").is_some() {
        6
    } else {
        11
    };
    assert_eq!(rt.block_on(tree(depth)), (1u64 << (depth + 1)) - 1);
}

#[test]
fn wake_from_a_foreign_thread() {
    let rt = rt(2);
    let gate = Gate::new();
    let h = rt.spawn({
        let gate = gate.clone();
        async move {
            gate.wait().await;
            "woken"
        }
    });
    wait_until(|| gate.has_waiter());
    let t = std::thread::spawn({
        let gate = gate.clone();
        move || gate.open()
    });
    t.join().unwrap();
    assert_eq!(rt.block_on(h).unwrap(), "woken");
}

#[test]
fn wake_after_completion_is_harmless() {
    let rt = rt(2);
    let gate = Gate::new();
    let kept = Arc::new(std::sync::Mutex::new(None));
    let polls = Arc::new(AtomicUsize::new(0));
    let h = rt.spawn({
        let gate = gate.clone();
        let kept = kept.clone();
        let polls = polls.clone();
        async move {
            std::future::poll_fn(|cx| {
                *kept.lock().unwrap() = Some(cx.waker().clone());
                std::task::Poll::Ready(())
            })
            .await;
            std::future::poll_fn(|cx| {
                polls.fetch_add(1, Ordering::SeqCst);
                std::pin::Pin::new(&mut gate.wait()).poll(cx)
            })
            .await;
            7
        }
    });
    wait_until(|| gate.has_waiter());
    gate.open();
    assert_eq!(rt.block_on(h).unwrap(), 7);
    let polls_at_completion = polls.load(Ordering::SeqCst);
    let w = kept.lock().unwrap().take().expect("waker kept");
    // The task is complete: waking it must not run or queue it again.
    w.wake_by_ref();
    #[allow(clippy::waker_clone_wake)] // exercises wake-by-value on purpose
    w.clone().wake();
    drop(w);
    // A round trip through both workers' queues after the wakes.
    for _ in 0..4 {
        rt.block_on(rt.spawn(async { corio_rt::yield_now().await }))
            .unwrap();
    }
    assert_eq!(
        polls.load(Ordering::SeqCst),
        polls_at_completion,
        "a completed task was polled again"
    );
    // The registry lets go of it (just after the output was published).
    wait_until(|| rt.metrics().num_alive_tasks == 0);
    assert_eq!(rt.metrics().injector_depth, 0);
}

#[test]
fn abort_idle_task_drops_future_on_a_worker() {
    let rt = rt(2);
    let drops = Drops::default();
    let gate = Gate::new();
    let polled_after = Arc::new(AtomicBool::new(false));
    let h = rt.spawn({
        let g = DropGuard(drops.clone());
        let gate = gate.clone();
        let polled_after = polled_after.clone();
        async move {
            let _g = g;
            gate.wait().await;
            polled_after.store(true, Ordering::SeqCst);
        }
    });
    wait_until(|| gate.has_waiter());
    h.abort();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(!polled_after.load(Ordering::SeqCst));
    assert_eq!(drops.count.load(Ordering::SeqCst), 1);
    assert_eq!(
        drops.off_runtime.load(Ordering::SeqCst),
        0,
        "future dropped off the runtime"
    );
}

#[test]
fn abort_queued_task_never_polls_it() {
    let rt = rt(1);
    let (block_tx, block_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    // Occupy the only worker.
    let blocker = rt.spawn(async move {
        started_tx.send(()).unwrap();
        block_rx.recv_timeout(PATIENCE).unwrap();
    });
    started_rx.recv_timeout(PATIENCE).unwrap();
    let polled = Arc::new(AtomicBool::new(false));
    let h = rt.spawn({
        let polled = polled.clone();
        async move {
            polled.store(true, Ordering::SeqCst);
        }
    });
    h.abort();
    block_tx.send(()).unwrap();
    rt.block_on(blocker).unwrap();
    assert!(rt.block_on(h).unwrap_err().is_cancelled());
    assert!(!polled.load(Ordering::SeqCst));
}

#[test]
fn abort_running_task_cancels_after_its_poll() {
    let rt = rt(2);
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let polls = Arc::new(AtomicUsize::new(0));
    let h = rt.spawn({
        let polls = polls.clone();
        async move {
            let go_rx = std::sync::Mutex::new(go_rx);
            std::future::poll_fn(move |cx| {
                polls.fetch_add(1, Ordering::SeqCst);
                started_tx.send(()).ok();
                go_rx.lock().unwrap().recv_timeout(PATIENCE).ok();
                // Ask to be polled again: abort must win over the re-queue.
                cx.waker().wake_by_ref();
                std::task::Poll::<()>::Pending
            })
            .await
        }
    });
    started_rx.recv_timeout(PATIENCE).unwrap();
    h.abort();
    assert!(!h.is_finished(), "a running task finishes its poll first");
    go_tx.send(()).unwrap();
    assert!(rt.block_on(h).unwrap_err().is_cancelled());
    assert_eq!(polls.load(Ordering::SeqCst), 1);
}

#[test]
fn abort_completed_task_keeps_output() {
    let rt = rt(2);
    let h = rt.spawn(async { 5 });
    wait_until(|| h.is_finished());
    h.abort();
    assert_eq!(rt.block_on(h).unwrap(), 5);
}

#[test]
fn dropping_join_handle_detaches() {
    let rt = rt(2);
    let (tx, rx) = mpsc::channel();
    let gate = Gate::new();
    drop(rt.spawn({
        let gate = gate.clone();
        async move {
            gate.wait().await;
            tx.send(42).unwrap();
        }
    }));
    wait_until(|| gate.has_waiter());
    gate.open();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), 42);
}

#[test]
fn join_handle_awaited_from_another_task_and_thread() {
    let rt = rt(2);
    let gate = Gate::new();
    let inner = rt.spawn({
        let gate = gate.clone();
        async move {
            gate.wait().await;
            String::from("done")
        }
    });
    let outer = rt.spawn(async move { inner.await.unwrap() });
    let opener = std::thread::spawn({
        let gate = gate.clone();
        move || {
            wait_until(|| gate.has_waiter());
            gate.open();
        }
    });
    assert_eq!(rt.block_on(outer).unwrap(), "done");
    opener.join().unwrap();
}

#[test]
fn shutdown_drops_every_task_exactly_once_on_a_runtime_thread() {
    let drops = Drops::default();
    let n = scale(2_000);
    let parked_wakers = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let rt = rt(2);
        let gate = Gate::new();
        rt.block_on({
            let drops = drops.clone();
            let parked = parked_wakers.clone();
            let gate = gate.clone();
            async move {
                for i in 0..n {
                    let g = DropGuard(drops.clone());
                    let parked = parked.clone();
                    let gate = gate.clone();
                    // A third wait forever with their waker parked in a list
                    // nobody will use; a third on a gate; a third spin with
                    // yields so they are queued or running at shutdown.
                    drop(corio_rt::spawn(async move {
                        let _g = g;
                        match i % 3 {
                            0 => {
                                std::future::poll_fn(|cx| {
                                    parked.lock().unwrap().push(cx.waker().clone());
                                    std::task::Poll::<()>::Pending
                                })
                                .await
                            }
                            1 => gate.wait().await,
                            _ => loop {
                                corio_rt::yield_now().await;
                            },
                        }
                    }));
                }
            }
        });
        // Some of them have run by now; others are still queued.
        drop(rt);
    }
    assert_eq!(
        drops.count.load(Ordering::SeqCst),
        n,
        "every future dropped exactly once"
    );
    assert_eq!(
        drops.off_runtime.load(Ordering::SeqCst),
        0,
        "futures dropped off the runtime"
    );
    // The parked wakers outlive the runtime; waking them must be harmless.
    for w in parked_wakers.lock().unwrap().drain(..) {
        w.wake();
    }
}

#[test]
fn spawn_in_a_destructor_during_shutdown_is_cancelled_not_leaked() {
    struct SpawnOnDrop(Drops, Arc<AtomicBool>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let d = DropGuard(self.0.clone());
            let h = corio_rt::spawn(async move {
                let _d = d;
            });
            // The registry is closed: the new task is cancelled on the spot.
            self.1.store(h.is_finished(), Ordering::SeqCst);
        }
    }
    let drops = Drops::default();
    let finished_at_once = Arc::new(AtomicBool::new(false));
    {
        let rt = rt(2);
        let s = SpawnOnDrop(drops.clone(), finished_at_once.clone());
        let gate = Gate::new();
        let _h = rt.spawn(async move {
            let _s = s;
            gate.wait().await;
        });
        wait_until(|| rt.metrics().num_alive_tasks == 1);
    }
    assert_eq!(drops.count.load(Ordering::SeqCst), 1);
    assert!(finished_at_once.load(Ordering::SeqCst));
}

#[test]
fn panics_become_join_errors() {
    let rt = rt(2);
    let h = rt.spawn(async {
        if std::hint::black_box(true) {
            panic!("boom");
        }
    });
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
}

#[test]
fn blocking_pool_runs_closures_and_reports_panics() {
    let rt = rt(2);
    let out = rt.block_on(async {
        let hs: Vec<_> = (0..16)
            .map(|i| corio_rt::spawn_blocking(move || i * 2))
            .collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await.unwrap());
        }
        v
    });
    assert_eq!(out, (0..16).map(|i| i * 2).collect::<Vec<_>>());
    let err = rt
        .block_on(rt.spawn_blocking(|| {
            if std::hint::black_box(true) {
                panic!("blocking boom")
            }
        }))
        .unwrap_err();
    assert!(err.is_panic());
}

#[test]
fn blocking_pool_respects_its_thread_limit() {
    let rt = corio_rt::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let live = live.clone();
            let peak = peak.clone();
            rt.spawn_blocking(move || {
                let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                live.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in hs {
        rt.block_on(h).unwrap();
    }
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    assert!(rt.metrics().num_blocking_threads <= 2);
}

#[test]
fn task_ids_and_names() {
    let rt = rt(2);
    let h = corio_rt::task::Builder::new().name("named").spawn_on(
        async { (corio_rt::task::id(), corio_rt::task::name()) },
        &rt.handle(),
    );
    let id = h.id();
    let (seen, name) = rt.block_on(h).unwrap();
    assert_eq!(seen, id);
    assert_eq!(name.as_deref(), Some("named"));
    assert!(corio_rt::task::try_id().is_none());
    let unnamed = rt
        .block_on(rt.spawn(async { corio_rt::task::name() }))
        .unwrap();
    assert_eq!(unnamed, None);
}

/// A waker whose `wake` panics.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("the joiner's waker panicked");
    }
}

#[test]
fn a_joiner_whose_waker_panics_does_not_kill_the_worker() {
    use std::pin::Pin;
    use std::task::{Context, Waker};

    // One worker: if completing the task kills it, nothing runs any more.
    let rt = rt(1);
    let gate = Gate::new();
    let wait = gate.wait();
    let mut join = rt.spawn(async move {
        wait.await;
        1
    });
    wait_until(|| gate.has_waiter());
    let bad = Waker::from(Arc::new(PanickingWaker));
    assert!(Pin::new(&mut join)
        .poll(&mut Context::from_waker(&bad))
        .is_pending());
    // The worker completes the task and wakes the joiner: the panic.
    gate.open();
    wait_until(|| join.is_finished());
    let (tx, rx) = mpsc::channel();
    let handle = rt.handle();
    std::thread::spawn(move || {
        let out = handle.block_on(async {
            let first = join.await.unwrap();
            first + corio_rt::spawn(async { 2 }).await.unwrap()
        });
        let _ = tx.send(out);
    });
    assert_eq!(
        rx.recv_timeout(PATIENCE)
            .expect("the worker stopped serving after the joiner's waker panicked"),
        3
    );
}
