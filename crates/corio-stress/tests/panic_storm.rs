//! A panic storm while I/O is in flight: 10,000 tasks that panic, some in
//! `poll`, some in a destructor (when their future completes, or when it is
//! dropped by `abort`), while clients keep echoing through a server on the
//! same runtime. The runtime must serve on, and every panic must reach its
//! own `JoinHandle`.
//!
//! One test in this file: it installs a panic hook (process-wide) that
//! keeps the 10,000 expected panic messages off stderr.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio::time::wait_for;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

const PANICS: u64 = 10_000;
const MESSAGE: &str = "panic_storm: expected";
const WATCHDOG: Duration = Duration::from_secs(60);

/// Panics when dropped, unless the thread is already unwinding (a second
/// panic there would abort the process, which is Rust's rule, not corio's).
struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            std::panic::panic_any(MESSAGE.to_string());
        }
    }
}

/// How the `i`th task panics.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// In `poll`, at once.
    Poll,
    /// In `poll`, after yielding once.
    PollLater,
    /// In a destructor run as the future completes (inside `poll`).
    DropOnReturn,
    /// In a destructor run when `abort` drops the pending future.
    DropOnAbort,
}

fn kind(i: u64) -> Kind {
    [
        Kind::Poll,
        Kind::PollLater,
        Kind::DropOnReturn,
        Kind::DropOnAbort,
    ][(i % 4) as usize]
}

#[test]
fn panic_storm_with_io_in_flight() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|s| s == MESSAGE);
        if !expected {
            default_hook(info);
        }
    }));
    let rt = corio::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let round_trips = Arc::new(AtomicU64::new(0));
    let result = rt.block_on(wait_for(
        {
            let round_trips = round_trips.clone();
            async move {
                // An echo server and clients that keep it busy throughout.
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let server = corio::spawn(async move {
                    loop {
                        let (mut s, _) = listener.accept().await?;
                        drop(corio::spawn(async move {
                            let mut buf = [0u8; 4096];
                            loop {
                                let n = s.read(&mut buf).await?;
                                if n == 0 {
                                    return io::Result::Ok(());
                                }
                                s.write_all(&buf[..n]).await?;
                            }
                        }));
                    }
                    #[allow(unreachable_code)]
                    io::Result::Ok(())
                });
                let storm_over = Arc::new(AtomicBool::new(false));
                let clients: Vec<_> = (0..16u8)
                    .map(|c| {
                        let (storm_over, round_trips) = (storm_over.clone(), round_trips.clone());
                        corio::spawn(async move {
                            let mut s = TcpStream::connect(addr).await?;
                            let msg = [c; 512];
                            let mut back = [0u8; 512];
                            // Echo until the storm is over, and then some.
                            let mut after = 0;
                            while after < 50 {
                                s.write_all(&msg).await?;
                                s.read_exact(&mut back).await?;
                                assert_eq!(back, msg, "echo corrupted during the storm");
                                round_trips.fetch_add(1, Ordering::SeqCst);
                                if storm_over.load(Ordering::SeqCst) {
                                    after += 1;
                                }
                            }
                            io::Result::Ok(())
                        })
                    })
                    .collect();

                // The storm.
                let armed = Arc::new(corio::sync::Semaphore::new(0));
                let handles: Vec<_> = (0..PANICS)
                    .map(|i| {
                        let armed = armed.clone();
                        corio::spawn(async move {
                            match kind(i) {
                                Kind::Poll => std::panic::panic_any(MESSAGE.to_string()),
                                Kind::PollLater => {
                                    corio::yield_now().await;
                                    std::panic::panic_any(MESSAGE.to_string())
                                }
                                Kind::DropOnReturn => {
                                    let _bomb = PanicOnDrop;
                                    corio::yield_now().await;
                                    i
                                }
                                Kind::DropOnAbort => {
                                    let _bomb = PanicOnDrop;
                                    armed.release();
                                    std::future::pending::<u64>().await
                                }
                            }
                        })
                    })
                    .collect();
                // Abort only once every such task holds its bomb (a task
                // aborted before its first poll has no locals to drop).
                let to_abort = (0..PANICS)
                    .filter(|&i| kind(i) == Kind::DropOnAbort)
                    .count();
                armed
                    .acquire_many(to_abort)
                    .await
                    .expect("never closed")
                    .forget();
                for (i, h) in handles.iter().enumerate() {
                    if kind(i as u64) == Kind::DropOnAbort {
                        h.abort();
                    }
                }
                let mut reported = 0u64;
                for (i, r) in corio::gather(handles).await.into_iter().enumerate() {
                    let e = match r {
                        Ok(v) => panic!(
                            "task {i} ({:?}) returned {v} instead of panicking",
                            kind(i as u64)
                        ),
                        Err(e) => e,
                    };
                    assert!(
                        e.is_panic(),
                        "task {i} ({:?}): {e:?} is not a panic",
                        kind(i as u64)
                    );
                    let payload = e.into_panic();
                    assert_eq!(
                        payload.downcast_ref::<String>().map(String::as_str),
                        Some(MESSAGE),
                        "task {i}: the JoinHandle carries another panic"
                    );
                    reported += 1;
                }
                storm_over.store(true, Ordering::SeqCst);
                for c in corio::gather(clients).await {
                    c.expect("client task")?;
                }
                // The runtime still runs new work.
                let after = corio::spawn(async { 7 })
                    .await
                    .expect("a task after the storm");
                server.abort();
                io::Result::Ok((reported, after))
            }
        },
        WATCHDOG,
    ));
    let (reported, after) = result
        .expect("hang during the panic storm (60 s watchdog)")
        .expect("I/O during the panic storm");
    assert_eq!(reported, PANICS, "every panic reached its JoinHandle");
    assert_eq!(after, 7);
    assert!(round_trips.load(Ordering::SeqCst) >= 16 * 50);
}
