//! `corio_io::io` over real sockets: futures-lite's extension traits and
//! buffered adapters as corio re-exports them (importable next to
//! futures-lite's prelude), `lines()` as a `Stream`, `copy`,
//! `copy_bidirectional` and `read_all`.

mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{block_on_within, payload};
// Both imports in one module: futures-lite's prelude brings the same traits
// corio::io re-exports, so every method call below has one candidate (with
// corio's former own traits, each was error E0034).
use corio_io::io::{
    copy, copy_bidirectional, read_all, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader,
    BufWriter,
};
use corio_io::net::{TcpListener, TcpStream, UnixStream};
use futures_lite::prelude::*;

const LIMIT: Duration = Duration::from_secs(60);

/// A connected loopback TCP pair.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = futures_lite::future::zip(client, listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn lines_is_a_stream_of_lines_over_a_socket() {
    block_on_within(LIMIT, async {
        let (mut w, r) = tcp_pair().await;
        let writer = async {
            // Lines split across writes, a CRLF, an empty line, and a last
            // line without a newline.
            for part in [&b"first\nsec"[..], b"ond\r\n", b"\n", b"third\nno newline"] {
                w.write_all(part).await.unwrap();
                corio_io::time::sleep(Duration::from_millis(2)).await;
            }
            w.close().await.unwrap();
        };
        let reader = BufReader::new(r).lines().try_collect::<_, _, Vec<String>>();
        let ((), lines) = futures_lite::future::zip(writer, reader).await;
        assert_eq!(
            lines.unwrap(),
            ["first", "second", "", "third", "no newline"]
        );
    });
}

#[test]
fn read_line_read_until_and_buffered_writes() {
    block_on_within(LIMIT, async {
        let (a, b) = tcp_pair().await;
        let mut w = BufWriter::new(a);
        let mut r = BufReader::new(b);
        w.write_all(b"hello\nkey=value;rest").await.unwrap();
        // Nothing reaches the socket before the flush (asyncio's drain).
        assert_eq!(w.buffer(), b"hello\nkey=value;rest");
        w.flush().await.unwrap();
        assert!(w.buffer().is_empty());

        let mut line = String::new();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(line, "hello\n");
        let mut field = Vec::new();
        r.read_until(b';', &mut field).await.unwrap();
        assert_eq!(field, b"key=value;");
        w.close().await.unwrap();
        let mut rest = String::new();
        r.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "rest");
        // At end of file read_line reads nothing.
        line.clear();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 0);
    });
}

#[test]
fn copy_moves_every_byte_between_sockets() {
    let data = payload(4 << 20);
    block_on_within(LIMIT, async {
        let (mut src_w, src_r) = tcp_pair().await;
        let (dst_w, mut dst_r) = tcp_pair().await;
        let feed = async {
            for chunk in data.chunks(100_000) {
                src_w.write_all(chunk).await.unwrap();
            }
            src_w.close().await.unwrap();
        };
        let pump = async {
            let (mut r, mut w) = (src_r, dst_w);
            let n = copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
            n
        };
        let drain = async {
            let mut back = Vec::new();
            read_all(&mut dst_r, &mut back).await.unwrap();
            back
        };
        let (((), n), back) =
            futures_lite::future::zip(futures_lite::future::zip(feed, pump), drain).await;
        assert_eq!(n, data.len() as u64);
        assert!(back == data, "copied bytes differ");
    });
}

/// client <-> [a | proxy | b] <-> server, 2 MiB each way at the same time,
/// then a half-close travels through the proxy in each direction in turn.
#[test]
fn copy_bidirectional_proxies_both_ways_and_passes_half_closes_on() {
    let up = payload(2 << 20);
    let down: Vec<u8> = payload(2 << 20 | 77).into_iter().rev().collect();
    block_on_within(LIMIT, async {
        let (client, mut a) = tcp_pair().await;
        let (mut b, server) = tcp_pair().await;
        let proxy = copy_bidirectional(&mut a, &mut b);
        let ends = async {
            let (client_r, mut client_w) = client.split();
            let (server_r, mut server_w) = server.split();
            let client_send = async {
                client_w.write_all(&up).await.unwrap();
                client_w.close().await.unwrap();
            };
            let server_send = async {
                server_w.write_all(&down).await.unwrap();
            };
            let server_recv = async {
                let mut got = Vec::new();
                let mut r = server_r;
                // Ends only because the proxy closed b after the client's close.
                read_all(&mut r, &mut got).await.unwrap();
                got
            };
            let client_recv = async {
                let mut got = vec![0u8; down.len()];
                let mut r = client_r;
                r.read_exact(&mut got).await.unwrap();
                (got, r)
            };
            let ((((), ()), got_up), (got_down, mut client_r)) = futures_lite::future::zip(
                futures_lite::future::zip(
                    futures_lite::future::zip(client_send, server_send),
                    server_recv,
                ),
                client_recv,
            )
            .await;
            assert!(got_up == up, "client->server bytes differ");
            assert!(got_down == down, "server->client bytes differ");
            // The server's direction is still open: it still flows.
            server_w.write_all(b"bye").await.unwrap();
            server_w.close().await.unwrap();
            let mut tail = Vec::new();
            read_all(&mut client_r, &mut tail).await.unwrap();
            assert_eq!(tail, b"bye");
        };
        let (moved, ()) = futures_lite::future::zip(proxy, ends).await;
        assert_eq!(moved.unwrap(), (up.len() as u64, down.len() as u64 + 3));
    });
}

/// A stream whose writes stay in memory until it is flushed (as a TLS stream
/// or a `BufWriter` would hold them).
struct HoldsWrites {
    inner: UnixStream,
    held: Vec<u8>,
    /// Bytes of `held` already sent.
    sent: usize,
}

impl AsyncRead for HoldsWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for HoldsWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.held.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.sent < this.held.len() {
            let n = futures_lite::ready!(
                Pin::new(&mut this.inner).poll_write(cx, &this.held[this.sent..])
            )?;
            this.sent += n;
        }
        this.held.clear();
        this.sent = 0;
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_lite::ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Data must reach a buffering writer's peer while the connection stays
/// open: copy_bidirectional flushes whenever its reader has to wait.
#[test]
fn copy_bidirectional_flushes_a_buffering_writer_when_the_reader_waits() {
    block_on_within(LIMIT, async {
        let (mut client, mut a) = UnixStream::pair().unwrap();
        let (b, mut server) = UnixStream::pair().unwrap();
        let mut b = HoldsWrites {
            inner: b,
            held: Vec::new(),
            sent: 0,
        };
        let proxy = copy_bidirectional(&mut a, &mut b);
        let talk = async {
            for round in 0..3u8 {
                client.write_all(&[round; 10]).await.unwrap();
                let mut got = [0u8; 10];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(got, [round; 10]);
            }
            client.close().await.unwrap();
            server.close().await.unwrap();
        };
        let (moved, ()) = futures_lite::future::zip(proxy, talk).await;
        assert_eq!(moved.unwrap(), (30, 0));
    });
}

/// A stream whose reads fail.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "peer reset",
        )))
    }
}

impl AsyncWrite for Broken {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn copy_bidirectional_returns_the_first_error() {
    block_on_within(LIMIT, async {
        // The socket side never sends: only the broken side's error can end it.
        let (_peer, mut a) = UnixStream::pair().unwrap();
        let err = copy_bidirectional(&mut a, &mut Broken).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    });
}

#[test]
fn read_all_appends_everything_and_counts_what_it_read() {
    let data = payload(8 << 20);
    block_on_within(LIMIT, async {
        let (mut w, mut r) = tcp_pair().await;
        let writer = async {
            for chunk in data.chunks(64 * 1024) {
                w.write_all(chunk).await.unwrap();
            }
            w.close().await.unwrap();
        };
        let reader = async {
            let mut buf = b"prefix".to_vec();
            let n = read_all(&mut r, &mut buf).await.unwrap();
            (n, buf)
        };
        let ((), (n, buf)) = futures_lite::future::zip(writer, reader).await;
        assert_eq!(n, data.len());
        assert_eq!(&buf[..6], b"prefix");
        assert!(buf[6..] == data[..], "bytes differ");
    });
}
