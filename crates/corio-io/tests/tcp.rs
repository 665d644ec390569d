//! TCP over loopback: echo through split streams, many connections,
//! end-of-file, errors.

mod common;

use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{block_on_within, boxed, payload, run_all};
use corio_io::io::{read_all, AsyncReadExt, AsyncWriteExt};
use corio_io::net::{TcpListener, TcpStream};
use futures_lite::StreamExt;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn echo_10mb_through_split_stream() {
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let data = payload(10 * 1024 * 1024);

        let server = async {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = stream.split();
            let n = corio_io::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
            n
        };
        let client = async {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut r, mut w) = stream.split();
            let writer = async {
                for chunk in data.chunks(100_000) {
                    w.write_all(chunk).await.unwrap();
                }
                w.close().await.unwrap();
            };
            let reader = async {
                let mut back = Vec::new();
                read_all(&mut r, &mut back).await.unwrap();
                back
            };
            futures_lite::future::zip(writer, reader).await.1
        };
        let (copied, back) = futures_lite::future::zip(server, client).await;
        assert_eq!(copied, data.len() as u64);
        assert_eq!(back.len(), data.len());
        assert!(back == data, "echoed bytes differ");
    });
}

#[test]
fn echo_through_owned_halves_on_two_threads() {
    let listener = block_on_within(LIMIT, TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let data = payload(2 * 1024 * 1024);
    let expected = data.clone();
    let server = std::thread::spawn(move || {
        block_on_within(LIMIT, async {
            let (s, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = s.into_split();
            corio_io::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
        })
    });
    let stream = block_on_within(LIMIT, TcpStream::connect(addr)).unwrap();
    let (mut r, mut w) = stream.into_split();
    let writer = std::thread::spawn(move || {
        block_on_within(LIMIT, async {
            w.write_all(&data).await.unwrap();
            w.close().await.unwrap();
            w
        })
    });
    let mut back = Vec::new();
    block_on_within(LIMIT, read_all(&mut r, &mut back)).unwrap();
    let w = writer.join().unwrap();
    server.join().unwrap();
    assert!(back == expected);
    assert!(r.reunite(w).is_ok());
}

#[test]
fn thousand_concurrent_connections() {
    const CONNS: usize = 1000;
    let listener = Arc::new(block_on_within(LIMIT, TcpListener::bind("127.0.0.1:0")).unwrap());
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));

    let mut futs = Vec::new();
    // The server: accept every connection, echoing each in its own task would
    // need a spawner; instead the accept loop hands streams to a shared list
    // of echo futures driven by join_all.
    {
        let listener = listener.clone();
        let served = served.clone();
        futs.push(boxed(async move {
            let mut echoes = Vec::new();
            let mut incoming = listener.incoming();
            for _ in 0..CONNS {
                let s = incoming.next().await.unwrap().unwrap();
                let served = served.clone();
                echoes.push(Box::pin(async move {
                    let mut buf = [0u8; 64];
                    let mut s = s;
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                    // Relaxed: read after run_all joined every thread.
                    served.fetch_add(1, Ordering::Relaxed);
                }));
            }
            common::join_all(echoes).await;
        }));
    }
    for i in 0..CONNS {
        futs.push(boxed(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let msg = format!("hello from {i:04}");
            for _ in 0..3 {
                s.write_all(msg.as_bytes()).await.unwrap();
                let mut back = vec![0u8; msg.len()];
                s.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg.as_bytes());
            }
            s.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            assert_eq!(s.read_to_end(&mut rest).await.unwrap(), 0);
        }));
    }
    run_all(2, futs, LIMIT);
    assert_eq!(served.load(Ordering::Relaxed), CONNS);
}

#[test]
fn addresses_nodelay_and_eof() {
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), peer);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());

        // `&TcpStream` reads and writes.
        (&client).write_all(b"via ref").await.unwrap();
        let mut buf = [0u8; 7];
        (&server).read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"via ref");
        let mut peeked = [0u8; 3];
        (&client).write_all(b"abc").await.unwrap();
        assert_eq!(server.peek(&mut peeked).await.unwrap(), 3);
        (&server).read_exact(&mut peeked).await.unwrap();

        // Dropping the client is end of file for the server.
        drop(client);
        let mut rest = Vec::new();
        let mut server = server;
        assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn connect_refused_is_an_error() {
    // Bind then drop to get a port with (almost certainly) no listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = block_on_within(LIMIT, TcpStream::connect(("127.0.0.1", port))).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn two_tasks_read_one_stream() {
    // Two readers wait on the same direction of one `&TcpStream`; both must
    // be woken (several wakers per direction).
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server = Arc::new(server);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let server = server.clone();
                std::thread::spawn(move || {
                    block_on_within(LIMIT, async {
                        let mut b = [0u8; 1];
                        (&*server).read_exact(&mut b).await.unwrap();
                        b[0]
                    })
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        (&client).write_all(b"x").await.unwrap();
        corio_io::time::sleep(Duration::from_millis(20)).await;
        (&client).write_all(b"y").await.unwrap();
        let mut got: Vec<u8> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, b"xy");
    });
}

#[test]
fn dropping_a_stream_deregisters_it() {
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..200 {
            let c = TcpStream::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            drop((c, s));
        }
    });
    // Other tests in this binary register sources concurrently, so only a
    // loose check is possible here: 400 streams did not stay registered.
    assert!(corio_io::driver_metrics().registered_sources < 400);
}

#[test]
fn bind_errors_and_ipv6() {
    block_on_within(LIMIT, async {
        let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(a.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);

        // IPv6 loopback, where the machine has it.
        let Ok(l6) = TcpListener::bind("[::1]:0").await else {
            return;
        };
        let addr = l6.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, peer) = l6.accept().await.unwrap();
        assert_eq!(peer, c.local_addr().unwrap());
        c.write_all(b"v6").await.unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
    });
}
