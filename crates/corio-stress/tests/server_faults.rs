//! A corio TCP server under client faults: clients that trickle one byte
//! every 100 ms, and clients that reset their connection mid-request.
//!
//! The server and the clients run on separate runtimes, so a stuck server
//! cannot hold the clients up or the other way round. Every wait is bounded
//! by a generous watchdog that only catches hangs.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio::runtime::Runtime;
use corio::time::{sleep, wait_for};
use corio::JoinHandle;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// How long a test may wait for anything before it counts as a hang.
const WATCHDOG: Duration = Duration::from_secs(60);

fn runtime(workers: usize, name: &str) -> Runtime {
    corio::runtime::Builder::new()
        .worker_threads(workers)
        .thread_name(name)
        .build()
        .expect("runtime")
}

/// Counts a live connection task; uncounts it when the task ends (or is
/// dropped).
struct Live(Arc<AtomicI64>);
impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A server whose connection tasks run `handler`; keeps their handles and
/// a count of live ones.
struct Server {
    addr: SocketAddr,
    live: Arc<AtomicI64>,
    tasks: Arc<Mutex<Vec<JoinHandle<io::Result<()>>>>>,
    accept_loop: JoinHandle<()>,
}

impl Server {
    fn start<H, F>(rt: &Runtime, handler: H) -> Server
    where
        H: Fn(TcpStream) -> F + Send + Sync + 'static,
        F: std::future::Future<Output = io::Result<()>> + Send + 'static,
    {
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let live = Arc::new(AtomicI64::new(0));
        let tasks: Arc<Mutex<Vec<JoinHandle<io::Result<()>>>>> = Arc::default();
        let accept_loop = {
            let (live, tasks) = (live.clone(), tasks.clone());
            rt.spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    live.fetch_add(1, Ordering::SeqCst);
                    let guard = Live(live.clone());
                    let conn = handler(stream);
                    let task = corio::spawn(async move {
                        let _guard = guard;
                        conn.await
                    });
                    tasks.lock().expect("tasks").push(task);
                }
            })
        };
        Server {
            addr,
            live,
            tasks,
            accept_loop,
        }
    }
}

/// Echo until end of file.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

#[test]
fn slow_clients_do_not_hold_up_fast_ones() {
    const SLOW: usize = 50;
    const FAST: usize = 20;
    const ROUND_TRIPS: usize = 200;
    let server_rt = runtime(2, "server");
    let client_rt = runtime(2, "client");
    let server = Server::start(&server_rt, echo);
    let addr = server.addr;
    let outcome = client_rt.block_on(wait_for(
        async move {
            // The slow clients: one byte every 100 ms, each read back, until
            // told to stop.
            let stop = Arc::new(AtomicBool::new(false));
            let slow: Vec<_> = (0..SLOW)
                .map(|c| {
                    let stop = stop.clone();
                    corio::spawn(async move {
                        let mut s = TcpStream::connect(addr).await?;
                        let mut sent = 0u64;
                        while !stop.load(Ordering::SeqCst) {
                            let byte = [(c + sent as usize) as u8];
                            s.write_all(&byte).await?;
                            let mut back = [0u8; 1];
                            s.read_exact(&mut back).await?;
                            if back != byte {
                                return Err(io::Error::other("slow client: wrong echo"));
                            }
                            sent += 1;
                            sleep(Duration::from_millis(100)).await;
                        }
                        io::Result::Ok(sent)
                    })
                })
                .collect();
            // Let every slow client get its first byte in.
            sleep(Duration::from_millis(50)).await;
            // The fast clients: many 1 KiB round trips each.
            let fast: Vec<_> = (0..FAST)
                .map(|c| {
                    corio::spawn(async move {
                        let mut s = TcpStream::connect(addr).await?;
                        s.set_nodelay(true)?;
                        let msg = vec![c as u8; 1024];
                        let mut back = vec![0u8; 1024];
                        for _ in 0..ROUND_TRIPS {
                            s.write_all(&msg).await?;
                            s.read_exact(&mut back).await?;
                            if back != msg {
                                return Err(io::Error::other("fast client: wrong echo"));
                            }
                        }
                        io::Result::Ok(())
                    })
                })
                .collect();
            for r in corio::gather(fast).await {
                r.expect("fast client task").expect("fast client");
            }
            // Every fast client is done, and every slow one is still at it:
            // none of them has finished, or failed.
            let slow_still_going = slow.iter().filter(|h| !h.is_finished()).count();
            stop.store(true, Ordering::SeqCst);
            let mut bytes = 0;
            for r in corio::gather(slow).await {
                bytes += r.expect("slow client task").expect("slow client");
            }
            (slow_still_going, bytes)
        },
        WATCHDOG,
    ));
    let (slow_still_going, bytes) =
        outcome.expect("hang: fast clients stuck behind slow ones (60 s watchdog)");
    assert_eq!(
        slow_still_going, SLOW,
        "slow clients ended before the fast ones were done"
    );
    assert!(
        bytes >= SLOW as u64,
        "each slow client sent at least one byte"
    );
    server.accept_loop.abort();
}

#[test]
fn clients_resetting_mid_request_neither_crash_nor_leak_a_server_task() {
    const RESETS: u64 = 500;
    // The request: a 4-byte length, then that many bytes. The reply: their
    // sum as 8 bytes.
    async fn handle(mut stream: TcpStream) -> io::Result<()> {
        loop {
            let mut len = [0u8; 4];
            match stream.read_exact(&mut len).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
            let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
            stream.read_exact(&mut body).await?;
            let sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
            stream.write_all(&sum.to_le_bytes()).await?;
        }
    }
    let server_rt = runtime(2, "server");
    let client_rt = runtime(2, "client");
    let baseline_tasks = server_rt.metrics().num_alive_tasks;
    let server = Server::start(&server_rt, handle);
    let addr = server.addr;
    let resets = Arc::new(AtomicU64::new(0));
    client_rt
        .block_on(wait_for(
            {
                let resets = resets.clone();
                async move {
                    let clients = (0..RESETS).map(|c| {
                        let resets = resets.clone();
                        corio::spawn(async move {
                            let mut s = TcpStream::connect(addr).await?;
                            // Some send a whole request first and read its
                            // reply; all then send part of one more.
                            if c % 2 == 0 {
                                s.write_all(&3u32.to_le_bytes()).await?;
                                s.write_all(&[1, 2, 3]).await?;
                                let mut sum = [0u8; 8];
                                s.read_exact(&mut sum).await?;
                                assert_eq!(u64::from_le_bytes(sum), 6);
                            }
                            s.write_all(&(64 * 1024u32).to_le_bytes()).await?;
                            s.write_all(&vec![7u8; (c as usize * 131) % 60_000]).await?;
                            if c % 3 == 0 {
                                corio::yield_now().await;
                            }
                            corio_stress::set_linger_zero(&s)?;
                            drop(s);
                            resets.fetch_add(1, Ordering::SeqCst);
                            io::Result::Ok(())
                        })
                    });
                    for r in corio::gather(clients).await {
                        r.expect("client task").expect("client");
                    }
                }
            },
            WATCHDOG,
        ))
        .expect("hang: the reset clients did not finish (60 s watchdog)");
    assert_eq!(resets.load(Ordering::SeqCst), RESETS);

    // Every connection task ends (none leaks), none panicked, each saw the
    // reset or an end of file.
    let settled = corio_stress::settle(WATCHDOG, || server.live.load(Ordering::SeqCst) == 0);
    assert!(
        settled,
        "{} server connection tasks still live after every client reset",
        server.live.load(Ordering::SeqCst)
    );
    let tasks = std::mem::take(&mut *server.tasks.lock().expect("tasks"));
    assert_eq!(tasks.len() as u64, RESETS, "every connection was accepted");
    for r in server_rt.block_on(corio::gather(tasks)) {
        match r.expect("a server connection task panicked or was cancelled") {
            Ok(()) => {}
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
                ),
                "connection ended with {e}"
            ),
        }
    }
    // Only the accept loop is left on the server runtime.
    assert_eq!(server_rt.metrics().num_alive_tasks, baseline_tasks + 1);

    // And the server still serves.
    let sum = client_rt
        .block_on(wait_for(
            async move {
                let mut s = TcpStream::connect(addr).await?;
                s.write_all(&2u32.to_le_bytes()).await?;
                s.write_all(&[20, 22]).await?;
                let mut sum = [0u8; 8];
                s.read_exact(&mut sum).await?;
                s.shutdown(Shutdown::Write)?;
                io::Result::Ok(u64::from_le_bytes(sum))
            },
            WATCHDOG,
        ))
        .expect("hang: the server stopped serving after the resets")
        .expect("request after the resets");
    assert_eq!(sum, 42);
    server.accept_loop.abort();
}
