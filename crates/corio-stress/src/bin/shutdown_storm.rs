//! Runtimes built and dropped in a loop while thousands of tasks wait.
//!
//! Each round builds a runtime (1 to 4 workers drawn from the seed, unless
//! `--workers` is given), spawns a few thousand tasks that wait on a held
//! `Lock`, an empty `Queue` (and a full one), a `Semaphore` without
//! permits, an `Event`, TCP and Unix socket reads, an `accept`, a UDP
//! receive, long sleeps and `wait_for`s, other tasks' `JoinHandle`s,
//! `to_thread` calls, or that keep yielding, waits until every one of
//! them is in place, and then drops the runtime (or calls
//! `shutdown_timeout`). Some futures spawn a new task from their `Drop`
//! (while the runtime shuts down).
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every future is dropped exactly once: each holds a token that counts
//!   its drop in its own slot, and every slot ends at 1 (`leak_future`: one
//!   task's future is leaked with `mem::forget`; `double_drop`: one token
//!   counts its drop twice);
//! - no thread left behind: `/proc/self/task` is back to its start value
//!   after each runtime is gone (`leak_thread`: one round starts a thread
//!   that outlives it);
//! - no descriptor left behind: `/proc/self/fd` is back to its start value
//!   (`leak_fd`: one socket is leaked with `mem::forget`).
//!
//! The process-wide I/O driver thread and its descriptors start with the
//! first runtime that does I/O and stay for the life of the process, so
//! the baselines are taken after a first warm-up runtime.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use corio::sync::{Event, Lock, Queue, Semaphore};
use corio::time::{sleep, wait_for};
use corio_stress::{fault, Common, Rng, Stress};
use futures_lite::AsyncReadExt;

const NAME: &str = "shutdown_storm";

/// Counts drops per future: slot `i` belongs to the `i`th future made.
#[derive(Debug)]
struct Tracker {
    slots: Vec<AtomicU8>,
    next: AtomicU64,
}

impl Tracker {
    fn new(capacity: usize) -> Arc<Tracker> {
        Arc::new(Tracker {
            slots: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
            next: AtomicU64::new(0),
        })
    }

    /// A token for a new future; `None` once every slot is taken.
    fn token(self: &Arc<Self>) -> Option<Token> {
        let slot = self.next.fetch_add(1, Ordering::SeqCst) as usize;
        (slot < self.slots.len()).then(|| Token {
            tracker: self.clone(),
            slot,
            respawn: false,
        })
    }

    /// Futures made, and (slots dropped zero times, more than once).
    fn tally(&self) -> (usize, Vec<usize>, Vec<usize>) {
        let made = (self.next.load(Ordering::SeqCst) as usize).min(self.slots.len());
        let mut never = Vec::new();
        let mut twice = Vec::new();
        for (i, s) in self.slots[..made].iter().enumerate() {
            match s.load(Ordering::SeqCst) {
                0 => never.push(i),
                1 => {}
                _ => twice.push(i),
            }
        }
        (made, never, twice)
    }
}

/// Held by a future; counts its drop. With `respawn`, its drop also spawns
/// a new task (during shutdown, that task must be cancelled and dropped).
#[derive(Debug)]
struct Token {
    tracker: Arc<Tracker>,
    slot: usize,
    respawn: bool,
}

impl Drop for Token {
    fn drop(&mut self) {
        let n = if self.slot == 1 && fault("double_drop") {
            2
        } else {
            1
        };
        self.tracker.slots[self.slot].fetch_add(n, Ordering::SeqCst);
        if self.respawn {
            if let (Some(handle), Some(token)) =
                (corio::runtime::Handle::try_current(), self.tracker.token())
            {
                drop(handle.spawn(async move {
                    let _token = token;
                    sleep(Duration::from_secs(600)).await;
                }));
            }
        }
    }
}

/// What the waiting tasks wait on; shared by every task of a round.
struct Targets {
    lock: Arc<Lock<u64>>,
    empty: Arc<Queue<u64>>,
    full: Arc<Queue<u64>>,
    semaphore: Arc<Semaphore>,
    event: Arc<Event>,
    listener: Arc<TcpListener>,
    udp: Arc<UdpSocket>,
}

/// One waiting task's future, of the kind `kind`. `ready` is released once
/// the task is (about to be) waiting.
fn waiter(
    kind: u64,
    token: Token,
    t: &Targets,
    tcp: Option<TcpStream>,
    unix: Option<UnixStream>,
    ready: Arc<Semaphore>,
    rng: &mut Rng,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    let blocking_ms = rng.below(5);
    let (lock, empty, full, semaphore, event, listener, udp) = (
        t.lock.clone(),
        t.empty.clone(),
        t.full.clone(),
        t.semaphore.clone(),
        t.event.clone(),
        t.listener.clone(),
        t.udp.clone(),
    );
    Box::pin(async move {
        let _token = token;
        ready.release();
        match kind {
            0 => drop(lock.acquire().await),
            1 => drop(empty.get().await),
            2 => drop(full.put(1).await),
            3 => drop(semaphore.acquire().await),
            4 => event.wait().await,
            5 => {
                let mut buf = [0u8; 16];
                if let Some(mut s) = tcp {
                    let _ = s.read(&mut buf).await;
                }
            }
            6 => {
                let mut buf = [0u8; 16];
                if let Some(mut s) = unix {
                    let _ = s.read(&mut buf).await;
                }
            }
            7 => drop(listener.accept().await),
            8 => {
                let mut buf = [0u8; 16];
                let _ = udp.recv_from(&mut buf).await;
            }
            9 => sleep(Duration::from_secs(600)).await,
            10 => drop(wait_for(std::future::pending::<()>(), Duration::from_secs(600)).await),
            11 => {
                // to_thread calls, one after another, until shutdown.
                loop {
                    let _ = corio::to_thread(move || {
                        std::thread::sleep(Duration::from_millis(blocking_ms))
                    })
                    .await;
                }
            }
            _ => loop {
                corio::yield_now().await;
            },
        }
        // Everything above waits for ever (no permit, item, event or data
        // ever comes): stay pending if it returned anyway.
        std::future::pending::<()>().await;
    })
}

fn main() -> std::process::ExitCode {
    let common: Common = corio_stress::parse(
        NAME,
        "Runtimes dropped while thousands of tasks wait on locks, queues, sockets and timers",
    );
    let mut stress = Stress::start(NAME, &common);
    let ops = stress.ops();
    let watcher = stress.watcher();

    // Warm-up: start the process-wide I/O driver, then take the baselines.
    {
        let rt = stress.builder().build().expect("build the runtime");
        rt.block_on(async {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let _ = TcpStream::connect(l.local_addr().expect("addr")).await;
            sleep(Duration::from_millis(1)).await;
        });
    }
    let threads_baseline = corio_stress::thread_count();
    let fds_baseline = corio_stress::fd_count();
    println!(
        "{NAME}: baselines after warm-up: {threads_baseline} threads, {fds_baseline} descriptors"
    );

    stress.rounds(|round| {
        let mut rng = round.rng(0);
        let workers = round_workers(&mut rng, stress_workers(&common));
        let tasks = (1_000 + rng.below(3_000)) * round.scale;
        let sockets = 50 + rng.below(100);
        let respawners = rng.below(100);
        let tracker = Tracker::new(tasks as usize + 2 * (respawners as usize) + 16);
        let rt = corio::runtime::Builder::new()
            .thread_name(NAME)
            .worker_threads(workers)
            .build()
            .expect("build the runtime");

        watcher.watch(Some(rt.handle()));
        let (spawned, handles) = rt.block_on({
            let tracker = tracker.clone();
            let mut rng = round.rng(1);
            async move {
                let lock = Arc::new(Lock::new(0u64));
                let held = lock.clone().acquire_owned().await;
                let full = Arc::new(Queue::new(1));
                full.put_nowait(0).expect("room for one");
                let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
                let addr = listener.local_addr().expect("addr");
                let targets = Targets {
                    lock,
                    empty: Arc::new(Queue::new(0)),
                    full,
                    semaphore: Arc::new(Semaphore::new(0)),
                    event: Arc::new(Event::new()),
                    listener: listener.clone(),
                    udp: Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("udp")),
                };
                // The lock's holder waits for ever, guard in hand.
                let holder_token = tracker.token().expect("slot");
                drop(corio::spawn(async move {
                    let _token = holder_token;
                    let _held = held;
                    std::future::pending::<()>().await
                }));
                let mut tcp = Vec::new();
                for _ in 0..sockets {
                    let client = TcpStream::connect(addr).await.expect("connect");
                    let (server, _) = listener.accept().await.expect("accept");
                    tcp.push(client);
                    tcp.push(server);
                }
                let mut unix = Vec::new();
                for _ in 0..sockets / 2 {
                    let (a, b) = UnixStream::pair().expect("pair");
                    unix.push(a);
                    unix.push(b);
                }
                if fault("leak_fd") {
                    std::mem::forget(TcpStream::connect(addr).await.expect("connect"));
                }
                let ready = Arc::new(Semaphore::new(0));
                let mut handles = Vec::new();
                let mut spawned = 1u64;
                for i in 0..tasks {
                    let Some(mut token) = tracker.token() else { break };
                    token.respawn = i < respawners;
                    let kind = rng.below(14);
                    let fut = waiter(
                        kind,
                        token,
                        &targets,
                        if kind == 5 { tcp.pop() } else { None },
                        if kind == 6 { unix.pop() } else { None },
                        ready.clone(),
                        &mut rng,
                    );
                    if i == 0 && fault("leak_future") {
                        // Leaked: never polled, never dropped.
                        std::mem::forget(fut);
                        ready.release();
                    } else if kind == 13 && !handles.is_empty() {
                        // Waits on another task's JoinHandle.
                        let other: corio::JoinHandle<()> =
                            handles.swap_remove(rng.below(handles.len() as u64) as usize);
                        let ready = ready.clone();
                        let joiner = Box::pin(async move {
                            ready.release();
                            let _ = other.await;
                            fut.await
                        });
                        handles.push(corio::spawn(joiner));
                    } else {
                        handles.push(corio::spawn(fut));
                    }
                    spawned += 1;
                }
                // Every task has started waiting before the runtime goes.
                let permits = ready
                    .acquire_many((spawned - 1) as usize)
                    .await
                    .expect("never closed");
                permits.forget();
                // Half the handles are dropped (detached) now, the rest only
                // after the runtime is gone.
                handles.truncate(handles.len() / 2);
                drop((tcp, unix));
                (spawned, handles)
            }
        });
        if round.index == 0 && fault("leak_thread") {
            std::thread::spawn(|| std::thread::sleep(Duration::from_secs(3_600)));
        }
        watcher.watch(None);
        if rng.chance(50) {
            rt.shutdown_timeout(Duration::from_secs(30));
        } else {
            drop(rt);
        }
        drop(handles);
        ops.add(spawned);

        let (made, never, twice) = tracker.tally();
        round.check(
            never.is_empty() && twice.is_empty(),
            "every future dropped exactly once",
            format_args!(
                "{made} futures: {} never dropped (first slot {:?}), {} dropped more than once (first slot {:?})",
                never.len(),
                never.first(),
                twice.len(),
                twice.first()
            ),
        );
        let threads_back = corio_stress::settle(Duration::from_secs(5), || {
            corio_stress::thread_count() <= threads_baseline
        });
        round.check(
            threads_back,
            "no thread left behind (/proc/self/task back to its start value)",
            format_args!(
                "{} threads, {threads_baseline} at the start ({workers} workers)",
                corio_stress::thread_count()
            ),
        );
        let fds_back = corio_stress::settle(Duration::from_secs(5), || {
            corio_stress::fd_count() <= fds_baseline
        });
        round.check(
            fds_back,
            "no descriptor left behind (/proc/self/fd back to its start value)",
            format_args!("{} descriptors, {fds_baseline} at the start", corio_stress::fd_count()),
        );
    });

    stress.finish()
}

/// `--workers`, if given.
fn stress_workers(common: &Common) -> Option<usize> {
    common.workers.map(|n| n as usize)
}

/// The round's worker count: `--workers`, or 1 to 4 from the seed.
fn round_workers(rng: &mut Rng, fixed: Option<usize>) -> usize {
    let drawn = 1 + rng.below(4) as usize;
    fixed.unwrap_or(drawn)
}
