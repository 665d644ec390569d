//! Scheduler behaviour: scale, fairness, stranding, misuse, configuration.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;

#[test]
fn a_million_tiny_tasks_all_complete() {
    let rt = rt(2);
    const N: usize = 1_000_000;
    let left = Arc::new(AtomicUsize::new(N));
    let (tx, rx) = mpsc::channel();
    rt.block_on({
        let left = left.clone();
        async move {
            corio_rt::spawn(async move {
                for _ in 0..N {
                    let left = left.clone();
                    let tx = tx.clone();
                    corio_rt::spawn(async move {
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            tx.send(()).unwrap();
                        }
                    });
                }
            })
            .await
            .unwrap();
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("all tasks ran");
    assert_eq!(left.load(Ordering::SeqCst), 0);
}

#[test]
fn spawns_from_outside_spread_over_workers() {
    let rt = rt(2);
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let (tx, rx) = mpsc::channel::<()>();
    let hs: Vec<_> = (0..200)
        .map(|_| {
            let threads = threads.clone();
            let rx_done = tx.clone();
            rt.spawn(async move {
                threads.lock().unwrap().insert(std::thread::current().id());
                // Hold the worker briefly so the other one must pick up work.
                std::thread::sleep(Duration::from_millis(2));
                drop(rx_done);
            })
        })
        .collect();
    drop(tx);
    for h in hs {
        rt.block_on(h).unwrap();
    }
    assert!(rx.recv_timeout(PATIENCE).is_err());
    assert_eq!(
        threads.lock().unwrap().len(),
        2,
        "both workers should have run tasks"
    );
}

fn wait_for_other_worker_parked() {
    let h = corio_rt::Handle::current();
    wait_until(|| {
        let m = h.metrics();
        m.num_unparked_workers == 1 && m.num_searching_workers == 0
    });
}

/// Y is woken into the LIFO slot of the worker running X, and X then blocks
/// that worker in `std::thread::sleep`. Y must run on the other worker while
/// X still blocks.
#[test]
fn task_woken_into_lifo_slot_of_a_blocked_worker_still_runs() {
    let rt = rt(2);
    let gate = Gate::new();
    let y_ran = Arc::new(AtomicBool::new(false));
    let y = rt.spawn({
        let gate = gate.clone();
        let y_ran = y_ran.clone();
        async move {
            gate.wait().await;
            y_ran.store(true, Ordering::SeqCst);
        }
    });
    wait_until(|| gate.has_waiter());
    let x = rt.spawn({
        let y_ran = y_ran.clone();
        async move {
            // Wait until the other worker is parked and nobody searches, so
            // nothing but the scheduler's own stranding guard can rescue Y.
            wait_for_other_worker_parked();
            // Wake Y from this worker: it lands in this worker's LIFO slot.
            gate.open();
            // Now block the worker, for up to PATIENCE, until Y has run elsewhere.
            let start = std::time::Instant::now();
            while !y_ran.load(Ordering::SeqCst) && start.elapsed() < PATIENCE {
                std::thread::sleep(Duration::from_millis(50));
            }
            y_ran.load(Ordering::SeqCst)
        }
    });
    assert!(
        rt.block_on(x).unwrap(),
        "Y stayed stranded behind the blocked worker"
    );
    rt.block_on(y).unwrap();
}

/// Same with a spawn instead of a wake.
#[test]
fn task_spawned_by_a_blocking_task_still_runs() {
    let rt = rt(2);
    let x = rt.spawn(async {
        wait_for_other_worker_parked();
        let ran = Arc::new(AtomicBool::new(false));
        let _y = corio_rt::spawn({
            let ran = ran.clone();
            async move { ran.store(true, Ordering::SeqCst) }
        });
        let start = std::time::Instant::now();
        while !ran.load(Ordering::SeqCst) && start.elapsed() < PATIENCE {
            std::thread::sleep(Duration::from_millis(50));
        }
        ran.load(Ordering::SeqCst)
    });
    assert!(rt.block_on(x).unwrap());
}

/// Two tasks waking each other through the LIFO slot must not starve a
/// task waiting in the same worker's deque: after the ping-pong is under
/// way, player 0 spawns a task that ends the game. Without the cap on
/// consecutive LIFO polls it would wait until the round limit.
#[test]
fn lifo_ping_pong_does_not_starve_the_queue() {
    use std::sync::Mutex;
    use std::task::{Poll, Waker};

    struct Table {
        turn: Mutex<(usize, [Option<Waker>; 2])>,
        rounds: AtomicUsize,
        stop: AtomicBool,
    }
    const LIMIT: usize = 200_000;

    async fn player(me: usize, t: Arc<Table>) -> bool {
        loop {
            std::future::poll_fn(|cx| {
                let mut g = t.turn.lock().unwrap();
                if g.0 == me {
                    Poll::Ready(())
                } else {
                    g.1[me] = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
            let n = t.rounds.fetch_add(1, Ordering::SeqCst);
            if me == 0 && n == 100 {
                let t2 = t.clone();
                corio_rt::spawn(async move { t2.stop.store(true, Ordering::SeqCst) });
            }
            let stopped = t.stop.load(Ordering::SeqCst);
            if n > LIMIT {
                t.stop.store(true, Ordering::SeqCst);
            }
            let other = {
                let mut g = t.turn.lock().unwrap();
                g.0 = 1 - me;
                g.1[1 - me].take()
            };
            if let Some(w) = other {
                w.wake();
            }
            if stopped || n > LIMIT {
                return stopped && n <= LIMIT;
            }
        }
    }

    let rt = rt(1);
    let t = Arc::new(Table {
        turn: Mutex::new((0, [None, None])),
        rounds: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let (a, b) = rt.block_on(async move {
        corio_rt::spawn(async move {
            let a = corio_rt::spawn(player(0, t.clone()));
            let b = corio_rt::spawn(player(1, t));
            (a.await.unwrap(), b.await.unwrap())
        })
        .await
        .unwrap()
    });
    assert!(a && b, "the queued task was starved by the LIFO ping-pong");
}

#[test]
fn ten_thousand_panicking_tasks_and_the_runtime_serves_on() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let rt = rt(2);
    let panics = rt.block_on(async {
        let hs: Vec<_> = (0..10_000)
            .map(|i| {
                corio_rt::spawn(async move {
                    if std::hint::black_box(i) >= 0 {
                        panic!("task {i} panics");
                    }
                })
            })
            .collect();
        let mut panics = 0;
        for h in hs {
            if h.await.unwrap_err().is_panic() {
                panics += 1;
            }
        }
        panics
    });
    std::panic::set_hook(prev);
    assert_eq!(panics, 10_000);
    // Both workers are alive and serve new work.
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    for _ in 0..100 {
        let threads = threads.clone();
        rt.block_on(rt.spawn(async move {
            threads.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(Duration::from_millis(1));
        }))
        .unwrap();
    }
    assert!(!threads.lock().unwrap().is_empty());
    assert_eq!(rt.block_on(rt.spawn(async { 1 + 1 })).unwrap(), 2);
}

#[test]
fn block_on_inside_a_worker_panics_with_a_clear_message() {
    let rt = rt(2);
    let h = rt.spawn(async {
        let handle = corio_rt::Handle::current();
        handle.block_on(async {});
    });
    let err = rt.block_on(h).unwrap_err();
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        msg.contains("block_on called from a corio worker thread"),
        "{msg}"
    );
}

#[test]
fn block_on_is_allowed_on_blocking_threads() {
    let rt = rt(2);
    let v = rt.block_on(async {
        let handle = corio_rt::Handle::current();
        corio_rt::spawn_blocking(move || {
            handle.block_on(async { corio_rt::spawn(async { 3 }).await.unwrap() })
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 3);
}

#[test]
fn zero_workers_is_an_error_not_a_hang() {
    let err = corio_rt::Builder::new()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"));
    assert!(corio_rt::Builder::new()
        .max_blocking_threads(0)
        .build()
        .is_err());
}

#[test]
#[should_panic(expected = "outside of a corio runtime")]
fn spawn_outside_a_runtime_panics() {
    drop(corio_rt::spawn(async {}));
}

#[test]
fn handle_current_and_metrics() {
    let rt = corio_rt::Builder::new().worker_threads(3).build().unwrap();
    assert!(corio_rt::Handle::try_current().is_none());
    let in_task = rt.block_on(async {
        corio_rt::spawn(async { corio_rt::Handle::try_current().is_some() }).await
    });
    assert!(in_task.unwrap());
    assert_eq!(rt.metrics().num_workers, 3);
    // The task leaves the registry just after publishing its output.
    wait_until(|| rt.metrics().num_alive_tasks == 0);
}

#[test]
fn shutdown_timeout_returns_despite_a_stuck_blocking_closure() {
    let rt = rt(1);
    let (tx, rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let _h = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = rx.recv_timeout(PATIENCE);
    });
    started_rx.recv_timeout(PATIENCE).unwrap();
    rt.shutdown_timeout(Duration::from_millis(50));
    // The closure is still blocked; release it so the thread can end.
    tx.send(()).unwrap();
}

#[test]
fn runtime_threads_are_named() {
    let rt = corio_rt::Builder::new()
        .worker_threads(1)
        .thread_name("named-rt")
        .build()
        .unwrap();
    let name = rt
        .block_on(rt.spawn(async { std::thread::current().name().map(String::from) }))
        .unwrap();
    assert_eq!(name.as_deref(), Some("named-rt-worker-0"));
}

#[test]
fn dropping_a_runtime_on_its_own_worker_panics_instead_of_hanging() {
    let slot = Arc::new(std::sync::Mutex::new(None::<corio_rt::Runtime>));
    let rt = rt(1);
    let handle = rt.handle();
    *slot.lock().unwrap() = Some(rt);
    let (tx, rx) = mpsc::channel();
    drop(handle.spawn(async move {
        let rt = slot.lock().unwrap().take().unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(rt)));
        let msg = match r {
            Ok(()) => String::from("no panic"),
            Err(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        };
        tx.send(msg).unwrap();
    }));
    let msg = rx.recv_timeout(PATIENCE).expect("the drop hung");
    assert!(msg.contains("on one of its own worker threads"), "{msg}");
}
