//! I/O driver workloads: timers and loopback TCP, the same shape on corio,
//! tokio and smol (async-executor with async-io's reactor).
//!
//! - `timers_insert_cancel_1m`: 1,000,000 timeouts armed and dropped before
//!   they fire, split over 8 tasks. Each is a `wait_for` (tokio: `timeout`,
//!   smol: a `Timer` next to the future) around a future that stays pending,
//!   polled exactly once so that the timer is armed, then dropped so that it
//!   is cancelled. No task yields in between: this is the timer wheel's
//!   insert + remove, nothing else.
//! - `sleeps_100k`: 100,000 tasks each sleep 0–10 ms (a fixed pseudo-random
//!   spread) and count down a latch. The floor is the 10 ms of the longest
//!   sleep; the rest is spawning, arming, firing and waking.
//! - `tcp_rtt`: 64 loopback connections, each doing 10,000 request/reply
//!   exchanges of 64 bytes with an echo task on the server side (TCP_NODELAY
//!   on both ends). Every exchange crosses the I/O driver twice.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corio_benches::Latch;
use futures_lite::future::block_on as smol_block_on;

use super::{Peers, Workload};

/// Timers armed and cancelled in `timers_insert_cancel_1m`.
const TIMERS: usize = 1_000_000;
/// Tasks sharing that work.
const TIMER_TASKS: usize = 8;
/// Sleeping tasks in `sleeps_100k`.
const SLEEPS: usize = 100_000;
/// Connections in `tcp_rtt`.
const CONNS: usize = 64;
/// Request/reply exchanges per connection.
const EXCHANGES: usize = 10_000;
/// Bytes per request and per reply.
const MSG: usize = 64;

/// The I/O workloads, in table order.
pub(crate) fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "timers_insert_cancel_1m",
            corio: timers_insert_cancel::corio,
            tokio: Some(timers_insert_cancel::tokio),
            smol: Some(timers_insert_cancel::smol),
        },
        Workload {
            name: "sleeps_100k",
            corio: sleeps_100k::corio,
            tokio: Some(sleeps_100k::tokio),
            smol: Some(sleeps_100k::smol),
        },
        Workload {
            name: "tcp_rtt",
            corio: tcp_rtt::corio,
            tokio: Some(tcp_rtt::tokio),
            smol: Some(tcp_rtt::smol),
        },
    ]
}

/// Polls `fut` once (arming whatever it arms) and drops it.
async fn poll_once_and_drop<F: Future>(fut: F) {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let _ = fut.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
}

/// The sleep of task `i` in `sleeps_100k`: 0–10 ms, spread by a multiplicative
/// hash so neighbouring tasks do not share a deadline.
fn sleep_len(i: usize) -> Duration {
    Duration::from_micros(((i as u64).wrapping_mul(2_654_435_761) >> 7) % 10_001)
}

/// A future that is never ready (and never wakes).
struct Never;

impl Future for Never {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

pub(crate) mod timers_insert_cancel {
    use super::*;

    const PER_TASK: usize = TIMERS / TIMER_TASKS;
    const FAR: Duration = Duration::from_secs(60);

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.corio.block_on(async {
            let tasks: Vec<_> = (0..TIMER_TASKS)
                .map(|_| {
                    corio::spawn(async {
                        for _ in 0..PER_TASK {
                            poll_once_and_drop(corio::time::wait_for(Never, FAR)).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.tokio.block_on(async {
            let tasks: Vec<_> = (0..TIMER_TASKS)
                .map(|_| {
                    tokio::spawn(async {
                        for _ in 0..PER_TASK {
                            poll_once_and_drop(tokio::time::timeout(FAR, Never)).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = &p.smol.ex;
        let start = Instant::now();
        smol_block_on(async {
            let tasks: Vec<_> = (0..TIMER_TASKS)
                .map(|_| {
                    ex.spawn(async {
                        for _ in 0..PER_TASK {
                            // smol has no `timeout` combinator of its own:
                            // race the future against a `Timer`, as its docs do.
                            let timeout = futures_lite::future::or(
                                async {
                                    Never.await;
                                    false
                                },
                                async {
                                    smol::Timer::after(FAR).await;
                                    true
                                },
                            );
                            poll_once_and_drop(timeout).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
        });
        start.elapsed()
    }
}

pub(crate) mod sleeps_100k {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let done = Latch::new(SLEEPS);
        let start = Instant::now();
        p.corio.block_on(async {
            for i in 0..SLEEPS {
                let done = done.clone();
                drop(corio::spawn(async move {
                    corio::time::sleep(sleep_len(i)).await;
                    done.count_down();
                }));
            }
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let done = Latch::new(SLEEPS);
        let start = Instant::now();
        p.tokio.block_on(async {
            for i in 0..SLEEPS {
                let done = done.clone();
                drop(tokio::spawn(async move {
                    tokio::time::sleep(sleep_len(i)).await;
                    done.count_down();
                }));
            }
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = &p.smol.ex;
        let done = Latch::new(SLEEPS);
        let start = Instant::now();
        smol_block_on(async {
            for i in 0..SLEEPS {
                let done = done.clone();
                ex.spawn(async move {
                    smol::Timer::after(sleep_len(i)).await;
                    done.count_down();
                })
                .detach();
            }
            done.wait().await;
        });
        start.elapsed()
    }
}

pub(crate) mod tcp_rtt {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        use corio::io::{AsyncReadExt, AsyncWriteExt};
        use corio::net::{TcpListener, TcpStream};

        let start = Instant::now();
        p.corio.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corio::spawn(async move {
                for _ in 0..CONNS {
                    let (mut s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    drop(corio::spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            s.write_all(&buf).await.unwrap();
                        }
                    }));
                }
            });
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    corio::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        s.set_nodelay(true).unwrap();
                        let req = [7u8; MSG];
                        let mut reply = [0u8; MSG];
                        for _ in 0..EXCHANGES {
                            s.write_all(&req).await.unwrap();
                            s.read_exact(&mut reply).await.unwrap();
                        }
                    })
                })
                .collect();
            for c in clients {
                assert!(c.await.is_ok());
            }
            assert!(server.await.is_ok());
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::{TcpListener, TcpStream};

        let start = Instant::now();
        p.tokio.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                for _ in 0..CONNS {
                    let (mut s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    drop(tokio::spawn(async move {
                        let mut buf = [0u8; MSG];
                        while s.read_exact(&mut buf).await.is_ok() {
                            s.write_all(&buf).await.unwrap();
                        }
                    }));
                }
            });
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    tokio::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        s.set_nodelay(true).unwrap();
                        let req = [7u8; MSG];
                        let mut reply = [0u8; MSG];
                        for _ in 0..EXCHANGES {
                            s.write_all(&req).await.unwrap();
                            s.read_exact(&mut reply).await.unwrap();
                        }
                    })
                })
                .collect();
            for c in clients {
                assert!(c.await.is_ok());
            }
            assert!(server.await.is_ok());
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        use smol::Async;
        use std::net::{TcpListener, TcpStream};

        let ex = p.smol.ex.clone();
        let start = Instant::now();
        smol_block_on(async {
            let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
            let addr = listener.get_ref().local_addr().unwrap();
            let server_ex = ex.clone();
            let server = ex.spawn(async move {
                for _ in 0..CONNS {
                    let (mut s, _) = listener.accept().await.unwrap();
                    s.get_ref().set_nodelay(true).unwrap();
                    server_ex
                        .spawn(async move {
                            let mut buf = [0u8; MSG];
                            while s.read_exact(&mut buf).await.is_ok() {
                                s.write_all(&buf).await.unwrap();
                            }
                        })
                        .detach();
                }
            });
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    ex.spawn(async move {
                        let mut s = Async::<TcpStream>::connect(addr).await.unwrap();
                        s.get_ref().set_nodelay(true).unwrap();
                        let req = [7u8; MSG];
                        let mut reply = [0u8; MSG];
                        for _ in 0..EXCHANGES {
                            s.write_all(&req).await.unwrap();
                            s.read_exact(&mut reply).await.unwrap();
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await;
            }
            server.await;
        });
        start.elapsed()
    }
}
