//! The facade end to end: the runtime entry points under their asyncio names,
//! and the combinators applied to real tasks running in parallel.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::Event;
use corio::time::{sleep, wait_for};
use corio::ReturnWhen;

const BOUND: Duration = Duration::from_secs(30);

/// Waits (bounded) until the task behind `handle` has finished.
async fn finished<T>(handle: &corio::task::JoinHandle<T>) {
    let deadline = std::time::Instant::now() + BOUND;
    while !handle.is_finished() {
        assert!(std::time::Instant::now() < deadline, "task never finished");
        corio::yield_now().await;
    }
}

#[test]
fn run_returns_the_value() {
    assert_eq!(corio::run(async { 6 * 7 }), 42);
}

#[test]
fn runtime_builder_block_on_and_handle() {
    let rt = corio::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let handle = rt.handle();
    let from_outside = handle.spawn(async { "outside" });
    let out = rt.block_on(async move {
        let inside = corio::runtime::Handle::current().spawn(async { "inside" });
        (from_outside.await.unwrap(), inside.await.unwrap())
    });
    assert_eq!(out, ("outside", "inside"));
}

#[test]
fn zero_workers_is_an_error() {
    assert!(corio::runtime::Builder::new()
        .worker_threads(0)
        .build()
        .is_err());
}

#[corio::test]
async fn to_thread_runs_blocking_work() {
    let main_thread = std::thread::current().id();
    let (value, thread) = corio::to_thread(move || (7, std::thread::current().id()))
        .await
        .unwrap();
    assert_eq!(value, 7);
    assert_ne!(thread, main_thread);
    let v = corio::spawn_blocking(|| 8).await.unwrap();
    assert_eq!(v, 8);
}

#[corio::test]
async fn task_id_and_name_inside_a_task() {
    let handle = corio::task::Builder::new()
        .name("named")
        .spawn(async { corio::task::name() });
    assert_eq!(handle.await.unwrap().as_deref(), Some("named"));

    let handle = corio::spawn(async { corio::task::id() });
    let id = handle.id();
    assert_eq!(handle.await.unwrap(), id);
}

#[corio::test]
async fn yield_now_lets_others_run() {
    let flag = Arc::new(AtomicBool::new(false));
    let other = {
        let flag = flag.clone();
        corio::spawn(async move { flag.store(true, Ordering::SeqCst) })
    };
    let deadline = std::time::Instant::now() + BOUND;
    while !flag.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        corio::yield_now().await;
    }
    assert!(flag.load(Ordering::SeqCst));
    other.await.unwrap();
}

#[corio::test]
async fn gather_handles_keeps_spawn_order() {
    let handles: Vec<_> = (0..100u64)
        .map(|i| {
            corio::spawn(async move {
                sleep(Duration::from_millis(100 - i)).await;
                i
            })
        })
        .collect();
    let out: Vec<u64> = corio::gather(handles)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..100).collect::<Vec<_>>());

    let (a, b) = corio::gather!(corio::spawn(async { 1 }), async { 2 });
    assert_eq!((a.unwrap(), b), (1, 2));
}

#[corio::test]
async fn try_gather_over_tasks() {
    let ok: Result<Vec<u32>, String> =
        corio::try_gather((0..10).map(|i| async move { Ok(i) })).await;
    assert_eq!(ok.unwrap(), (0..10).collect::<Vec<_>>());

    let failing = corio::try_gather(vec![
        corio::spawn(async { Ok::<u32, &str>(1) }),
        corio::spawn(async { Err("bad") }),
    ])
    .await;
    // The outer Result is the JoinHandle's: both tasks ran fine.
    assert!(failing.is_ok());
    let inner: Vec<Result<u32, &str>> = failing.unwrap();
    assert_eq!(inner, [Ok(1), Err("bad")]);
}

#[corio::test]
async fn wait_first_completed_leaves_pending_tasks_running() {
    let release = Arc::new(Event::new());
    let slow = {
        let release = release.clone();
        corio::spawn(async move {
            release.wait().await;
            "slow"
        })
    };
    let fast = corio::spawn(async { "fast" });
    let (done, pending) = corio::wait(vec![slow, fast], ReturnWhen::FirstCompleted).await;
    assert_eq!(
        done.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["fast"]
    );
    assert_eq!(pending.len(), 1);
    // Not cancelled: it finishes once released.
    release.set();
    let slow = pending.into_iter().next().unwrap();
    assert_eq!(wait_for(slow, BOUND).await.unwrap().unwrap(), "slow");
}

#[corio::test]
async fn wait_first_exception_on_tasks() {
    let never = corio::spawn(async {
        std::future::pending::<()>().await;
        Ok::<(), String>(())
    });
    let ok = corio::spawn(async { Ok(()) });
    finished(&ok).await;
    let failing = corio::spawn(async {
        sleep(Duration::from_millis(5)).await;
        Err("failed".to_owned())
    });
    let (done, pending) = corio::wait(vec![never, ok, failing], ReturnWhen::FirstException).await;
    assert_eq!(pending.len(), 1);
    assert!(done
        .iter()
        .any(|r| matches!(r, Ok(Err(e)) if e == "failed")));
    pending[0].abort();

    // A panic is an exception too.
    let never = corio::spawn(std::future::pending::<()>());
    let panics = corio::spawn(async { panic!("boom") });
    let (done, pending) = corio::wait(vec![never, panics], ReturnWhen::FirstException).await;
    assert!(done[0].as_ref().unwrap_err().is_panic());
    pending[0].abort();
}

#[corio::test]
async fn wait_all_completed_on_tasks() {
    let handles: Vec<_> = (0..20).map(|i| corio::spawn(async move { i })).collect();
    let (done, pending) = corio::wait(handles, ReturnWhen::AllCompleted).await;
    assert!(pending.is_empty());
    // In completion order, which tasks on several workers do not fix.
    let mut done: Vec<_> = done.into_iter().map(Result::unwrap).collect();
    done.sort();
    assert_eq!(done, (0..20).collect::<Vec<_>>());
}

#[corio::test]
async fn wait_timeout_returns_what_finished() {
    let slow = corio::spawn(sleep(Duration::from_secs(600)));
    let fast = corio::spawn(async {});
    // Done before the short timeout starts, however loaded the machine.
    finished(&fast).await;
    let (done, pending) = corio::wait_timeout(
        vec![slow, fast],
        ReturnWhen::AllCompleted,
        Duration::from_millis(20),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(pending.len(), 1);
    assert!(!pending[0].is_finished());
    pending[0].abort();
}

#[corio::test]
async fn as_completed_over_tasks() {
    let handles: Vec<_> = (0..10u64)
        .map(|i| {
            corio::spawn(async move {
                // Far apart, so completion order is certain.
                sleep(Duration::from_millis(30 * (10 - i))).await;
                i
            })
        })
        .collect();
    let mut stream = corio::as_completed(handles);
    let mut order = Vec::new();
    while let Some(r) = stream.next().await {
        order.push(r.unwrap());
    }
    assert_eq!(order.len(), 10);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, (0..10).collect::<Vec<_>>());
}

#[corio::test]
async fn dropping_a_handle_detaches_like_shield() {
    let finished = Arc::new(Event::new());
    let count = Arc::new(AtomicUsize::new(0));
    drop({
        let (finished, count) = (finished.clone(), count.clone());
        corio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            count.fetch_add(1, Ordering::SeqCst);
            finished.set();
        })
    });
    wait_for(finished.wait(), BOUND)
        .await
        .expect("detached task never ran");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[corio::test]
async fn abort_cancels_a_task() {
    let handle = corio::spawn(std::future::pending::<()>());
    handle.abort();
    let error = wait_for(handle, BOUND).await.unwrap().unwrap_err();
    assert!(error.is_cancelled());
}

#[test]
fn runtime_types_at_the_root() {
    let rt = corio::Runtime::new().expect("runtime");
    let handle: corio::Handle = rt.handle();
    let join: corio::JoinHandle<u8> = handle.spawn(async { 3 });
    assert_eq!(rt.block_on(join).unwrap(), 3);
    let rt2 = corio::Builder::new().worker_threads(1).build().unwrap();
    rt2.shutdown_timeout(Duration::from_secs(5));
}

#[corio::test(worker_threads = 2)]
async fn tcp_echo_between_tasks() {
    use corio::io::{AsyncReadExt, AsyncWriteExt};
    use corio::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = corio::spawn(async move {
        // Serve 8 clients, each on its own task.
        let mut sessions = Vec::new();
        for _ in 0..8 {
            let (mut stream, _) = listener.accept().await.unwrap();
            sessions.push(corio::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            }));
        }
        for session in corio::gather(sessions).await {
            session.unwrap();
        }
    });
    let clients = (0..8u8).map(|i| {
        corio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let message = [i; 32];
            stream.write_all(&message).await.unwrap();
            let mut back = [0u8; 32];
            stream.read_exact(&mut back).await.unwrap();
            back == message
        })
    });
    let echoed = wait_for(corio::gather(clients), BOUND).await.expect("hung");
    assert!(echoed.into_iter().all(|ok| ok.unwrap()));
    wait_for(server, BOUND).await.expect("server hung").unwrap();
}
