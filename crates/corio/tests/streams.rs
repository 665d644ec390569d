//! asyncio's streams on real sockets: `start_server`, `open_connection`,
//! `StreamReader`/`StreamWriter`, and the `Server`'s `close`, `shutdown`,
//! `serve_forever` and `wait_closed`.
//!
//! Every wait is on a signal and bounded by the watchdog; no timing asserts.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use corio::net::{open_connection, start_server, StreamReader, StreamWriter};
use corio::sync::{Barrier, Event};
use futures_lite::StreamExt;

mod common;

use common::with_watchdog;

/// A line echo handler that upper-cases.
async fn shout(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    let mut line = String::new();
    while reader.read_line(&mut line).await? > 0 {
        writer.write_all(line.to_uppercase().as_bytes()).await?;
        writer.flush().await?;
        line.clear();
    }
    writer.close().await
}

/// 50 clients at once, 20 lines each. Every handler waits at a barrier for
/// all 50 before answering its first line, so this passes only if the 50
/// handlers run at the same time, one task per connection.
#[test]
fn fifty_concurrent_line_clients() {
    const CLIENTS: usize = 50;
    const LINES: usize = 20;
    with_watchdog("fifty clients", || {
        corio::run(async {
            let barrier = Arc::new(Barrier::new(CLIENTS));
            let server = start_server(
                move |mut reader, mut writer| {
                    let barrier = barrier.clone();
                    async move {
                        let mut line = String::new();
                        reader.read_line(&mut line).await?;
                        barrier.wait().await.expect("barrier not broken");
                        loop {
                            writer.write_all(line.to_uppercase().as_bytes()).await?;
                            writer.flush().await?;
                            line.clear();
                            if reader.read_line(&mut line).await? == 0 {
                                return writer.close().await;
                            }
                        }
                    }
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();
            let clients: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    corio::spawn(async move {
                        let (mut reader, mut writer) = open_connection(addr).await?;
                        let mut reply = String::new();
                        for i in 0..LINES {
                            writer
                                .write_all(format!("client {c} line {i}\n").as_bytes())
                                .await?;
                            writer.drain().await?;
                            reply.clear();
                            reader.read_line(&mut reply).await?;
                            assert_eq!(reply, format!("CLIENT {c} LINE {i}\n"));
                        }
                        writer.close().await?;
                        // The handler closes its side after ours: end of file.
                        reply.clear();
                        assert_eq!(reader.read_line(&mut reply).await?, 0);
                        io::Result::Ok(())
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap().unwrap();
            }
            server.shutdown(Duration::from_secs(30)).await;
            assert_eq!(server.connections(), 0);
        });
    });
}

/// Counts how a handler's state ended: finished (returned) or dropped
/// before that (cancelled).
struct Outcome {
    finished: Arc<AtomicUsize>,
    dropped_unfinished: Arc<AtomicUsize>,
    done: bool,
}

impl Drop for Outcome {
    fn drop(&mut self) {
        let counter = if self.done {
            &self.finished
        } else {
            &self.dropped_unfinished
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// 30 connections: 10 handlers end when their client says so, 20 never do.
/// `shutdown(grace)` returns only after every unfinished handler was
/// dropped, each exactly once, and their clients see the connection end.
#[test]
fn shutdown_drops_every_unfinished_handler_exactly_once() {
    const FINISHING: usize = 10;
    const STUCK: usize = 20;
    with_watchdog("shutdown", || {
        corio::run(async {
            let finished = Arc::new(AtomicUsize::new(0));
            let dropped = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicUsize::new(0));
            let all_started = Arc::new(Event::new());
            let (f, d, s, a) = (
                finished.clone(),
                dropped.clone(),
                started.clone(),
                all_started.clone(),
            );
            let server = start_server(
                move |mut reader, mut writer| {
                    let outcome = Outcome {
                        finished: f.clone(),
                        dropped_unfinished: d.clone(),
                        done: false,
                    };
                    let (s, a) = (s.clone(), a.clone());
                    async move {
                        // Moved in whole, so it drops with the handler.
                        let mut outcome = outcome;
                        let mut line = String::new();
                        reader.read_line(&mut line).await?;
                        writer.write_all(b"ok\n").await?;
                        writer.flush().await?;
                        if s.fetch_add(1, Ordering::SeqCst) + 1 == FINISHING + STUCK {
                            a.set();
                        }
                        if line == "finish\n" {
                            // Ends when the client closes.
                            line.clear();
                            reader.read_line(&mut line).await?;
                            outcome.done = true;
                        } else {
                            // Never ends by itself.
                            std::future::pending::<()>().await;
                        }
                        io::Result::Ok(())
                    }
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();

            let mut finishing = Vec::new();
            let mut stuck = Vec::new();
            for i in 0..FINISHING + STUCK {
                let (mut reader, mut writer) = open_connection(addr).await.unwrap();
                let hello: &[u8] = if i < FINISHING {
                    b"finish\n"
                } else {
                    b"stay\n"
                };
                writer.write_all(hello).await.unwrap();
                writer.drain().await.unwrap();
                let mut ok = String::new();
                reader.read_line(&mut ok).await.unwrap();
                assert_eq!(ok, "ok\n");
                if i < FINISHING {
                    finishing.push((reader, writer));
                } else {
                    stuck.push((reader, writer));
                }
            }
            all_started.wait().await;
            assert_eq!(server.connections(), FINISHING + STUCK);

            // The finishing clients hang up; their handlers return.
            for (_, mut writer) in finishing {
                writer.close().await.unwrap();
            }
            server.shutdown(Duration::from_millis(100)).await;

            assert_eq!(server.connections(), 0);
            assert_eq!(finished.load(Ordering::SeqCst), FINISHING);
            assert_eq!(dropped.load(Ordering::SeqCst), STUCK);
            // The stuck clients' connections were closed by the drop.
            for (mut reader, _writer) in stuck {
                let mut rest = Vec::new();
                match reader.read_to_end(&mut rest).await {
                    Ok(n) => assert_eq!(n, 0),
                    Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
                }
            }
            // Nothing is dropped twice, later.
            corio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(finished.load(Ordering::SeqCst), FINISHING);
            assert_eq!(dropped.load(Ordering::SeqCst), STUCK);
        });
    });
}

/// Handlers that finish within the grace period are not cancelled:
/// `shutdown` waits for them.
#[test]
fn shutdown_waits_for_handlers_that_finish_within_the_grace_period() {
    with_watchdog("shutdown waits", || {
        corio::run(async {
            let release = Arc::new(Event::new());
            let finished = Arc::new(AtomicUsize::new(0));
            let (r, f) = (release.clone(), finished.clone());
            let server = start_server(
                move |mut reader, mut writer| {
                    let (release, finished) = (r.clone(), f.clone());
                    async move {
                        let mut line = String::new();
                        reader.read_line(&mut line).await?;
                        release.wait().await;
                        writer.write_all(b"bye\n").await?;
                        writer.flush().await?;
                        finished.fetch_add(1, Ordering::SeqCst);
                        io::Result::Ok(())
                    }
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let (mut reader, mut writer) =
                open_connection(server.local_addr().unwrap()).await.unwrap();
            writer.write_all(b"hi\n").await.unwrap();
            writer.drain().await.unwrap();
            while server.connections() == 0 {
                corio::yield_now().await;
            }
            let stopping = {
                let server = server.clone();
                corio::spawn(async move { server.shutdown(Duration::from_secs(60)).await })
            };
            // The handler is still waiting; only then release it.
            while server.is_serving() {
                corio::yield_now().await;
            }
            assert!(!stopping.is_finished());
            release.set();
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "bye\n");
            stopping.await.unwrap();
            assert_eq!(finished.load(Ordering::SeqCst), 1);
        });
    });
}

/// close(): no new connections (refused, on Linux at once), the live one
/// goes on, serve_forever returns, wait_closed waits for the live one.
#[test]
fn close_stops_accepting_and_live_connections_go_on() {
    with_watchdog("close", || {
        corio::run(async {
            let server = start_server(shout, "127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().unwrap();
            let forever = {
                let server = server.clone();
                corio::spawn(async move { server.serve_forever().await })
            };
            let (mut reader, mut writer) = open_connection(addr).await.unwrap();
            let mut line = String::new();
            writer.write_all(b"before\n").await.unwrap();
            writer.drain().await.unwrap();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "BEFORE\n");

            server.close();
            assert!(!server.is_serving());
            if cfg!(target_os = "linux") {
                // At once: close() shut the listening socket itself.
                let err = open_connection(addr).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            }
            forever.await.unwrap().unwrap();
            let waiting = {
                let server = server.clone();
                corio::spawn(async move { server.wait_closed().await })
            };

            line.clear();
            writer.write_all(b"after\n").await.unwrap();
            writer.drain().await.unwrap();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "AFTER\n");
            assert!(!waiting.is_finished(), "a handler still runs");
            writer.close().await.unwrap();
            waiting.await.unwrap();
            assert_eq!(server.connections(), 0);
        });
    });
}

#[test]
fn dropping_the_last_server_handle_closes_it() {
    with_watchdog("drop closes", || {
        corio::run(async {
            let server = start_server(shout, "127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().unwrap();
            let other = server.clone();
            drop(server);
            assert!(other.is_serving(), "a clone keeps it open");
            let watcher = {
                let other = other.clone();
                corio::spawn(async move { other.serve_forever().await })
            };
            drop(other);
            // The watcher's handle is the last: still serving.
            let (mut r, mut w) = open_connection(addr).await.unwrap();
            w.write_all(b"x\n").await.unwrap();
            w.drain().await.unwrap();
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "X\n");
            watcher.abort();
            assert!(watcher.await.unwrap_err().is_cancelled());
            // Now no handle is left: closed.
            if cfg!(target_os = "linux") {
                let err = open_connection(addr).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            }
        });
    });
}

#[test]
fn open_connection_read_line_and_drain() {
    with_watchdog("open_connection", || {
        corio::run(async {
            let server = start_server(shout, "127.0.0.1:0").await.unwrap();
            let (mut reader, mut writer) =
                open_connection(server.local_addr().unwrap()).await.unwrap();
            assert_eq!(reader.peer_addr().unwrap(), server.local_addr().unwrap());
            assert_eq!(writer.local_addr().unwrap(), reader.local_addr().unwrap());

            // Buffered until drained.
            writer.write_all(b"one\ntwo\n").await.unwrap();
            assert_eq!(writer.buffer(), b"one\ntwo\n");
            writer.drain().await.unwrap();
            assert!(writer.buffer().is_empty());
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "ONE\n");
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "TWO\n");

            // read_until, on a line that comes in pieces.
            writer.write_all(b"key=").await.unwrap();
            writer.drain().await.unwrap();
            writer.write_all(b"value\n").await.unwrap();
            writer.drain().await.unwrap();
            let mut key = Vec::new();
            reader.read_until(b'=', &mut key).await.unwrap();
            assert_eq!(key, b"KEY=");
            let mut value = Vec::new();
            reader.read_until(b'\n', &mut value).await.unwrap();
            assert_eq!(value, b"VALUE\n");

            // A writer dropped with bytes still buffered sends them.
            writer.write_all(b"last words\n").await.unwrap();
            assert!(!writer.buffer().is_empty());
            drop(writer);
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "LAST WORDS\n");
            server.close();
        });
    });
}

#[test]
fn lines_is_a_stream_over_a_connection() {
    with_watchdog("lines", || {
        corio::run(async {
            let server = start_server(
                |_reader, mut writer| async move {
                    for i in 0..1000 {
                        writer.write_all(format!("line {i}\r\n").as_bytes()).await?;
                    }
                    writer.write_all(b"no newline at the end").await?;
                    writer.close().await
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let (reader, _writer) = open_connection(server.local_addr().unwrap()).await.unwrap();
            let mut lines = reader.lines();
            for i in 0..1000 {
                assert_eq!(lines.next().await.unwrap().unwrap(), format!("line {i}"));
            }
            assert_eq!(
                lines.next().await.unwrap().unwrap(),
                "no newline at the end"
            );
            assert!(lines.next().await.is_none());
            server.close();
        });
    });
}

#[test]
fn a_panicking_handler_ends_only_its_connection() {
    with_watchdog("panic", || {
        corio::run(async {
            let server = start_server(
                |mut reader: StreamReader, writer: StreamWriter| async move {
                    let mut line = String::new();
                    reader.read_line(&mut line).await?;
                    if line == "panic\n" {
                        panic!("handler panicked on purpose");
                    }
                    shout(reader, writer).await
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();
            let (mut r, mut w) = open_connection(addr).await.unwrap();
            w.write_all(b"panic\n").await.unwrap();
            w.drain().await.unwrap();
            let mut rest = Vec::new();
            // The connection closes without a reply (or is reset).
            if let Ok(n) = r.read_to_end(&mut rest).await {
                assert_eq!(n, 0);
            }
            // The server lives on.
            let (mut r, mut w) = open_connection(addr).await.unwrap();
            w.write_all(b"first\nsecond\n").await.unwrap();
            w.drain().await.unwrap();
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert_eq!(line, "SECOND\n");
            assert!(server.is_serving());
            w.close().await.unwrap();
            server.shutdown(Duration::from_secs(30)).await;
        });
    });
}
