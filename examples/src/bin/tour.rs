//! A guided tour of corio that runs on defaults and says what it does.
//!
//! `cargo run --release -p corio-examples --bin tour`
//!
//! Needs no network peer (its TCP step talks to itself over loopback) and exits
//! within a few seconds. Each step prints what it is about to show, then what
//! happened. The asyncio name of each piece is given in brackets.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::sync::{Lock, Queue, Semaphore};
use corio::task::TaskGroup;
use corio::time::{sleep, wait_for};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

fn main() -> io::Result<()> {
    let start = Instant::now();
    println!("corio tour: asyncio's toolbox on a work-stealing runtime");
    // [asyncio.run(main())]
    corio::run(tour())?;
    debug_mode()?;
    println!("\ntour finished in {:.0?}", start.elapsed());
    Ok(())
}

corio::task_local! {
    // [contextvars.ContextVar]
    static REQUEST_ID: u32;
}

/// Logs with the request id of the task-local scope it runs in.
fn log(message: &str) -> String {
    match REQUEST_ID.try_with(|id| *id) {
        Ok(id) => format!("[request {id}] {message}"),
        Err(_) => format!("[no request] {message}"),
    }
}

async fn tour() -> io::Result<()> {
    step(
        1,
        "spawn tasks [asyncio.create_task], await their JoinHandles",
    );
    let handles: Vec<_> = (1..=4u64)
        .map(|n| {
            corio::spawn(async move {
                let sum: u64 = (1..=n * 1_000_000).sum();
                (n, sum, std::thread::current().name().map(str::to_owned))
            })
        })
        .collect();
    for handle in handles {
        let (n, sum, thread) = handle.await.expect("task does not panic");
        let thread = thread.unwrap_or_else(|| "?".into());
        println!("   task {n}: sum 1..={n}M = {sum} (ran on thread {thread})");
    }

    step(
        2,
        "gather! and gather(iter): run futures together, results in order",
    );
    let t = Instant::now();
    let (a, b) = corio::gather!(
        async {
            sleep(Duration::from_millis(100)).await;
            "slow"
        },
        async {
            sleep(Duration::from_millis(50)).await;
            "fast"
        },
    );
    println!(
        "   gather!(slow 100 ms, fast 50 ms) = ({a:?}, {b:?}) in {:.0?}, not 150 ms",
        t.elapsed()
    );
    let squares = corio::gather((1..=5u32).map(|i| async move {
        sleep(Duration::from_millis(u64::from(6 - i) * 10)).await;
        i * i
    }))
    .await;
    println!("   gather(5 futures finishing in reverse order) = {squares:?}");

    step(3, "wait_for: a deadline on any future [asyncio.wait_for]");
    let slow = wait_for(sleep(Duration::from_secs(10)), Duration::from_millis(50)).await;
    let slow = slow.map_err(|e| e.to_string());
    println!("   10 s sleep with a 50 ms timeout: {slow:?} (the sleep was dropped)");
    let quick = wait_for(async { 42 }, Duration::from_secs(1)).await;
    println!("   a ready future with a 1 s timeout: {quick:?}");

    step(4, "TaskGroup: structured concurrency [asyncio.TaskGroup]");
    let group: TaskGroup<u32, String> = TaskGroup::new();
    for i in 1..=3 {
        group.spawn(async move {
            sleep(Duration::from_millis(10 * u64::from(i))).await;
            Ok(i * 10)
        });
    }
    println!(
        "   3 children that succeed: {:?}",
        group.join().await.map_err(|e| e.len())
    );
    let cancelled = Arc::new(AtomicUsize::new(0));
    let group: TaskGroup<(), String> = TaskGroup::new();
    for i in 0..3 {
        let cancelled = cancelled.clone();
        group.spawn(async move {
            let _on_cancel = OnDrop(move || {
                cancelled.fetch_add(1, Ordering::SeqCst);
            });
            sleep(Duration::from_secs(10 + i)).await;
            Ok(())
        });
    }
    group.spawn(async {
        sleep(Duration::from_millis(20)).await;
        Err("child 4 failed".to_string())
    });
    let t = Instant::now();
    match group.join().await {
        Ok(_) => println!("   unexpected: the group succeeded"),
        Err(e) => println!(
            "   one child fails: errors {:?}, {} sleeping siblings cancelled after {:.0?}",
            e.errors(),
            cancelled.load(Ordering::SeqCst),
            t.elapsed()
        ),
    }

    step(
        5,
        "Lock, Semaphore, Queue [asyncio.Lock / Semaphore / Queue]",
    );
    let counter = Arc::new(Lock::new(0u64));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            corio::spawn(async move {
                for _ in 0..1000 {
                    let mut n = counter.acquire().await;
                    *n += 1;
                    if *n % 100 == 0 {
                        corio::yield_now().await; // hold the lock across a suspension
                    }
                }
            })
        })
        .collect();
    for w in corio::gather(workers).await {
        w.expect("worker does not panic");
    }
    println!(
        "   4 tasks x 1000 increments under a Lock: {}",
        *counter.acquire().await
    );

    let permits = Arc::new(Semaphore::new(3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..10)
        .map(|_| {
            let (permits, running, peak) = (permits.clone(), running.clone(), peak.clone());
            corio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("not closed");
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                sleep(Duration::from_millis(10)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    corio::gather(jobs).await;
    println!(
        "   10 jobs under Semaphore(3): at most {} ran at once",
        peak.load(Ordering::SeqCst)
    );

    let queue = Arc::new(Queue::new(2));
    let consumer = {
        let queue = queue.clone();
        corio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(item) = queue.get().await {
                got.push(item);
                queue.task_done().expect("one task_done per get");
            }
            got
        })
    };
    for item in ["a", "b", "c", "d", "e"] {
        // maxsize 2: put waits while the queue is full.
        queue.put(item).await.expect("not shut down");
    }
    queue.join().await; // every item processed
    queue.shutdown(false); // the consumer's next get fails: it returns
    let got = consumer.await.expect("consumer does not panic");
    println!("   producer -> Queue(maxsize 2) -> consumer: {got:?}, then join() and shutdown()");

    step(
        6,
        "to_thread: blocking work off the workers [asyncio.to_thread]",
    );
    let t = Instant::now();
    let (blocking, ticks) = corio::gather!(
        corio::to_thread(|| {
            std::thread::sleep(Duration::from_millis(200)); // a blocking call
            std::thread::current().name().unwrap_or("?").to_owned()
        }),
        async {
            // Meanwhile the runtime keeps running tasks.
            let mut ticks = 0;
            while t.elapsed() < Duration::from_millis(150) {
                sleep(Duration::from_millis(10)).await;
                ticks += 1;
            }
            ticks
        },
    );
    println!(
        "   a 200 ms blocking call ran on thread {:?} while a task ticked {ticks} times",
        blocking.expect("does not panic")
    );

    step(
        7,
        "TCP: a loopback echo server and a client [asyncio.start_server / open_connection]",
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("   server listening on {addr}");
    let server = corio::spawn(async move {
        let (mut stream, peer) = listener.accept().await?;
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return io::Result::Ok(peer);
            }
            stream.write_all(&buf[..n]).await?;
        }
    });
    let mut client = TcpStream::connect(addr).await?;
    let message = b"hello from corio";
    client.write_all(message).await?;
    let mut reply = vec![0u8; message.len()];
    wait_for(client.read_exact(&mut reply), Duration::from_secs(30)).await??;
    drop(client); // end of stream: the server's read returns 0
    let peer = server
        .await
        .map_err(|e| io::Error::other(e.to_string()))??;
    println!(
        "   client {peer} sent {:?}, got back {:?}",
        String::from_utf8_lossy(message),
        String::from_utf8_lossy(&reply)
    );

    step(
        8,
        "race, select!, eager tasks, task-locals, a rescheduled timeout [asyncio 3.11-3.12]",
    );
    let primary = async {
        let _on_cancel = OnDrop(|| println!("   race: the slower primary was dropped (cancelled)"));
        sleep(Duration::from_millis(80)).await;
        "primary"
    };
    let replica = async {
        sleep(Duration::from_millis(20)).await;
        "replica"
    };
    let winner = corio::race(primary, replica).await;
    println!("   race(primary 80 ms, replica 20 ms) = {winner:?}");

    let jobs = Queue::new(0);
    jobs.put_nowait(7u32).expect("unbounded");
    let picked = corio::select! {
        job = jobs.get() => format!("job {}", job.expect("not shut down")),
        _ = sleep(Duration::from_secs(10)) => "timed out".to_string(),
    };
    println!("   select!{{ queue.get() => .., sleep(10 s) => .. }} = {picked:?}");

    // [asyncio.create_task(coro, eager_start=True)]
    let ready = corio::task::Builder::new()
        .eager(true)
        .spawn(async { 6 * 7 });
    println!(
        "   eager task with a ready future: finished when spawn returned = {}, output {}",
        ready.is_finished(),
        ready.await.expect("does not panic")
    );
    let steps = Arc::new(AtomicUsize::new(0));
    let waiting = {
        let steps = steps.clone();
        corio::task::Builder::new().eager(true).spawn(async move {
            steps.fetch_add(1, Ordering::SeqCst); // runs inside spawn
            sleep(Duration::from_millis(5)).await;
            steps.fetch_add(1, Ordering::SeqCst); // runs later, as a task
        })
    };
    println!(
        "   eager task that sleeps: {} step done when spawn returned, the rest later",
        steps.load(Ordering::SeqCst)
    );
    waiting.await.expect("does not panic");

    let lines = REQUEST_ID
        .scope(17, async {
            let here = log("handled in the scope");
            let nested = corio::gather!(async { log("in a gather! child") }).0;
            let spawned = corio::spawn(async { log("in a spawned task") })
                .await
                .expect("does not panic");
            [here, nested, spawned]
        })
        .await;
    for line in lines {
        println!("   task_local: {line}");
    }

    // [async with asyncio.timeout(t) as cm: cm.reschedule(later)]
    let mut job = std::pin::pin!(wait_for(
        sleep(Duration::from_millis(30)),
        Duration::from_millis(10)
    ));
    job.as_mut()
        .reschedule(Instant::now() + Duration::from_secs(1));
    println!(
        "   a 30 ms job under a 10 ms timeout, rescheduled to 1 s: {:?}",
        job.await.map_err(|e| e.to_string())
    );
    Ok(())
}

/// Debug mode [PYTHONASYNCIODEBUG=1]: a task that blocks its worker longer
/// than the slow-poll threshold is reported on stderr (no tracing
/// subscriber is installed here) with its name and spawn location.
fn debug_mode() -> io::Result<()> {
    step(
        9,
        "debug mode: a slow poll reported on stderr [asyncio debug mode]",
    );
    let rt = corio::runtime::Builder::new()
        .worker_threads(1)
        .debug(true) // or CORIO_DEBUG=1
        .slow_poll_threshold(Duration::from_millis(50))
        .build()?;
    let sluggish = corio::task::Builder::new().name("sluggish").spawn_on(
        async { std::thread::sleep(Duration::from_millis(80)) },
        &rt.handle(),
    );
    rt.block_on(sluggish)
        .map_err(|e| io::Error::other(e.to_string()))?;
    drop(rt);
    println!("   (the report above, on stderr, names the task and where it was spawned)");
    Ok(())
}

/// Runs a closure when dropped: here, when TaskGroup cancels a child.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}
