//! Async I/O: the ecosystem's traits, futures-lite's extension methods and
//! buffered adapters, and [`copy_bidirectional`].
//!
//! The traits are futures-io's ([`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`]), so corio's sockets work with the rest of the ecosystem.
//! The extension traits ([`AsyncReadExt`], [`AsyncWriteExt`],
//! [`AsyncBufReadExt`]), the buffered adapters ([`BufReader`],
//! [`BufWriter`]) and [`copy`] are futures-lite 2's, re-exported as they are:
//! a program that imports `futures_lite::prelude::*` next to `corio::io`
//! names the same traits twice, which Rust accepts, instead of two traits
//! with the same method names (error E0034, "multiple applicable items").
//! corio adds only what futures-lite lacks, under its own names:
//! [`copy_bidirectional`], and [`read_all`], a `read_to_end` whose cost stays
//! linear in the size read (futures-lite's grows with size × waits).
//!
//! How asyncio's stream methods map:
//!
//! | asyncio                                 | corio                                                 |
//! |-----------------------------------------|-------------------------------------------------------|
//! | `await reader.readline()`               | `reader.read_line(&mut line).await` ([`AsyncBufReadExt`]) |
//! | `await reader.readuntil(b";")`          | `reader.read_until(b';', &mut buf).await`             |
//! | `async for line in reader`              | `reader.lines()`, a `Stream` of `io::Result<String>`  |
//! | `await reader.read(n)`                  | `reader.read(&mut buf[..n]).await` ([`AsyncReadExt`]) |
//! | `await reader.read()` (to EOF)          | [`read_all`]`(&mut reader, &mut buf).await`           |
//! | `await reader.readexactly(n)`           | `reader.read_exact(&mut buf[..n]).await`              |
//! | `writer.write(data); await writer.drain()` | `writer.write_all(data).await; writer.flush().await` ([`AsyncWriteExt`]) |
//! | `writer.close(); await writer.wait_closed()` | `writer.close().await`                           |
//!
//! `read_line` and `lines()` read as long as no newline comes, as asyncio's
//! `readline` would without its `limit`; to cap a line, read through
//! [`AsyncReadExt::take`] (`(&mut reader).take(limit).read_line(..)`).
//!
//! Every future here borrows its reader or writer and is cancel-safe in the
//! usual sense: dropping it loses nothing that was not already reported,
//! except `read_exact`, `write_all` and `read_line`/`read_until` (which may
//! have moved part of the data, as in tokio and futures-lite).
//!
//! ```
//! use corio_io::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use futures_lite::prelude::*; // no clash: the same traits
//!
//! futures_lite::future::block_on(async {
//!     let (a, b) = corio_io::net::UnixStream::pair()?;
//!     let mut writer = corio_io::io::BufWriter::new(a);
//!     writer.write_all(b"hello\nworld\n").await?;
//!     writer.close().await?; // flushes, then shuts the write side down
//!     let lines: Vec<String> = BufReader::new(b).lines().try_collect().await?;
//!     assert_eq!(lines, ["hello", "world"]);
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[doc(no_inline)]
pub use std::io::{Error, ErrorKind, Result};

#[doc(no_inline)]
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

/// asyncio's `StreamReader.readline`, `readuntil` and `async for line in
/// reader` (futures-lite's trait, re-exported).
///
/// ```
/// use corio_io::io::{AsyncBufReadExt, BufReader};
/// futures_lite::future::block_on(async {
///     let mut reader = BufReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
///     let mut line = String::new();
///     reader.read_line(&mut line).await?; // asyncio: await reader.readline()
///     assert_eq!(line, "GET / HTTP/1.1\r\n");
///     let mut field = Vec::new();
///     reader.read_until(b':', &mut field).await?; // asyncio: readuntil(b":")
///     assert_eq!(field, b"Host:");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::AsyncBufReadExt;

/// asyncio's `StreamReader.read(n)`, `read()` and `readexactly(n)`
/// (futures-lite's trait, re-exported).
///
/// ```
/// use corio_io::io::AsyncReadExt;
/// futures_lite::future::block_on(async {
///     let mut src: &[u8] = b"abcdef";
///     let mut four = [0u8; 4];
///     src.read_exact(&mut four).await?; // asyncio: await reader.readexactly(4)
///     let mut rest = Vec::new();
///     src.read_to_end(&mut rest).await?; // asyncio: await reader.read()
///     assert_eq!((&four[..], &rest[..]), (&b"abcd"[..], &b"ef"[..]));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::AsyncReadExt;

/// asyncio's `StreamWriter.write` + `drain()` (`write_all` + `flush`) and
/// `close()` (futures-lite's trait, re-exported).
///
/// ```
/// use corio_io::io::AsyncWriteExt;
/// futures_lite::future::block_on(async {
///     let mut out = corio_io::io::Cursor::new(Vec::new());
///     out.write_all(b"everything").await?; // asyncio: writer.write(...)
///     out.flush().await?; // asyncio: await writer.drain()
///     assert_eq!(out.into_inner(), b"everything");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::AsyncWriteExt;

#[doc(no_inline)]
pub use futures_lite::io::AsyncSeekExt;

/// A buffered reader: the buffer behind asyncio's `StreamReader`
/// (futures-lite's type, re-exported; 8 KiB unless made
/// `with_capacity`).
///
/// ```
/// use corio_io::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// futures_lite::future::block_on(async {
///     let (mut a, b) = corio_io::net::UnixStream::pair()?;
///     a.write_all(b"one\ntwo").await?;
///     let mut reader = BufReader::new(b);
///     let mut line = String::new();
///     reader.read_line(&mut line).await?; // asyncio: await reader.readline()
///     assert_eq!(line, "one\n");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::BufReader;

/// A buffered writer: the buffer behind asyncio's `StreamWriter`, whose
/// `flush` is asyncio's `drain()` (futures-lite's type, re-exported; 8 KiB
/// unless made `with_capacity`). Data still in the buffer when it is
/// dropped is lost: `flush` or `close` first.
///
/// ```
/// use corio_io::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
/// futures_lite::future::block_on(async {
///     let (a, mut b) = corio_io::net::UnixStream::pair()?;
///     let mut writer = BufWriter::new(a);
///     writer.write_all(b"queued").await?; // asyncio: writer.write(b"queued")
///     writer.flush().await?; // asyncio: await writer.drain()
///     let mut buf = [0u8; 6];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"queued");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::BufWriter;

/// Copies everything from a reader into a writer until end of file, then
/// flushes; returns the number of bytes copied (futures-lite's, re-exported;
/// asyncio has no `copy`: it is the `while data := await r.read(n):
/// w.write(data); await w.drain()` loop).
///
/// ```
/// futures_lite::future::block_on(async {
///     let mut src: &[u8] = b"copy me";
///     let mut dst = corio_io::io::Cursor::new(Vec::new());
///     assert_eq!(corio_io::io::copy(&mut src, &mut dst).await?, 7);
///     assert_eq!(dst.into_inner(), b"copy me");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[doc(inline)]
pub use futures_lite::io::copy;

#[doc(no_inline)]
pub use futures_lite::io::{
    empty, repeat, sink, Bytes, Chain, Cursor, Empty, Lines, Repeat, Sink, Split, Take,
};

pub use crate::net::Async;

/// Reads until end of file, appending to `buf`; returns the number of bytes
/// read: asyncio's `await reader.read()` (no size), and what
/// [`AsyncReadExt::read_to_end`] does, at a cost that stays linear when the
/// reader often has to wait.
///
/// futures-lite's `read_to_end` zeroes the whole spare capacity of `buf`
/// again each time it is polled after the reader said `Pending`, so reading
/// a large body from a socket costs (size × number of waits). `read_all`
/// grows `buf` by doubling and zeroes only the window it reads into (at most
/// 64 KiB) before each read. Measured with a reader that gives 64 KiB per
/// wake-up (CPU time, release build): 16 MiB took 14.7 ms here and 45 ms with
/// `read_to_end`, 64 MiB 46 ms and 895 ms. For small bodies the two cost the
/// same; prefer `read_all` for anything that may be large.
///
/// Cancel-safe: bytes already read stay in `buf` when the future is
/// dropped.
///
/// ```
/// use corio_io::io::{read_all, AsyncWriteExt};
/// futures_lite::future::block_on(async {
///     let (mut a, mut b) = corio_io::net::UnixStream::pair()?;
///     a.write_all(&[7u8; 100_000]).await?;
///     a.close().await?;
///     let mut body = Vec::new();
///     assert_eq!(read_all(&mut b, &mut body).await?, 100_000); // asyncio: await reader.read()
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn read_all<'a, R>(reader: &'a mut R, buf: &'a mut Vec<u8>) -> ReadAll<'a, R>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let start = buf.len();
    ReadAll { reader, buf, start }
}

/// Future of [`read_all`] (asyncio: the awaitable of `reader.read()`).
///
/// ```
/// let mut src: &[u8] = b"abc";
/// let mut buf = Vec::new();
/// let fut: corio_io::io::ReadAll<'_, &[u8]> = corio_io::io::read_all(&mut src, &mut buf);
/// assert_eq!(futures_lite::future::block_on(fut).unwrap(), 3);
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadAll<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

/// The most [`read_all`] zeroes and reads into at a time.
const READ_ALL_WINDOW: usize = 64 * 1024;

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadAll<'_, R> {
    type Output = Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = self.get_mut();
        loop {
            // Grow by doubling (at least 4 KiB), and read into a window of at
            // most 64 KiB of the spare room: the window is zeroed before each
            // read, so its size must follow the read size, not the buffer's.
            if this.buf.capacity() - this.buf.len() < 4096 {
                this.buf.reserve(this.buf.capacity().max(4096));
            }
            let len = this.buf.len();
            let window = (this.buf.capacity() - len).min(READ_ALL_WINDOW);
            this.buf.resize(len + window, 0);
            let res = Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[len..]);
            match res {
                Poll::Ready(Ok(0)) => {
                    this.buf.truncate(len);
                    return Poll::Ready(Ok(len - this.start));
                }
                Poll::Ready(Ok(n)) => this.buf.truncate(len + n),
                Poll::Ready(Err(e)) => {
                    this.buf.truncate(len);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    this.buf.truncate(len);
                    return Poll::Pending;
                }
            }
        }
    }
}

/// Each direction of [`copy_bidirectional`] moves this many bytes per read.
const COPY_BUF: usize = 8 * 1024;

/// Each direction moves at most this many buffers per poll before the task
/// yields, so that a peer that always has data cannot hold a worker.
const COPY_BUDGET: usize = 32;

/// Copies `a` to `b` and `b` to `a` at the same time until both directions
/// reach end of file; returns `(bytes a→b, bytes b→a)`.
///
/// When one side's reader reaches end of file, the other side's writer is
/// flushed and closed (for a socket: its write half shut down, so the peer
/// reads end of file), and the opposite direction goes on until it ends too.
/// The first error in either direction ends both and is returned. Data is
/// flushed whenever a reader has nothing more to give for now, so buffered
/// writers (TLS streams, `BufWriter`) pass it on without waiting for more.
///
/// asyncio has no such helper; it is the usual asyncio proxy, two
/// `read`/`write`/`drain` loops run with `gather`, and tokio's function of
/// the same name.
///
/// ```
/// use corio_io::io::{copy_bidirectional, AsyncReadExt, AsyncWriteExt};
/// use corio_io::net::UnixStream;
///
/// futures_lite::future::block_on(async {
///     // client <-> (a | proxy | b) <-> server
///     let (mut client, mut a) = UnixStream::pair()?;
///     let (mut b, mut server) = UnixStream::pair()?;
///     let proxy = copy_bidirectional(&mut a, &mut b);
///     let talk = async {
///         client.write_all(b"ping").await?;
///         let mut buf = [0u8; 4];
///         server.read_exact(&mut buf).await?;
///         server.write_all(b"pong!").await?;
///         client.read_exact(&mut buf).await?;
///         assert_eq!(&buf, b"pong");
///         client.close().await?; // the proxy closes b: the server reads EOF
///         let mut rest = Vec::new();
///         server.read_to_end(&mut rest).await?;
///         server.close().await?; // and then a: the client reads "!" and EOF
///         client.read_to_end(&mut rest).await?;
///         assert_eq!(rest, b"!");
///         std::io::Result::Ok(())
///     };
///     let (moved, talked) = futures_lite::future::zip(proxy, talk).await;
///     talked?;
///     assert_eq!(moved?, (4, 5));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn copy_bidirectional<'a, A, B>(a: &'a mut A, b: &'a mut B) -> CopyBidirectional<'a, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    CopyBidirectional {
        a,
        b,
        a_to_b: Transfer::new(),
        b_to_a: Transfer::new(),
    }
}

/// Future of [`copy_bidirectional`] (asyncio has none: see the function).
///
/// ```
/// use corio_io::io::{copy_bidirectional, CopyBidirectional};
/// use corio_io::net::UnixStream;
/// let (mut a, _peer_a) = UnixStream::pair()?;
/// let (mut b, _peer_b) = UnixStream::pair()?;
/// let proxy: CopyBidirectional<'_, UnixStream, UnixStream> = copy_bidirectional(&mut a, &mut b);
/// drop(proxy); // not awaited: nothing was copied
/// # std::io::Result::Ok(())
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBidirectional<'a, A: ?Sized, B: ?Sized> {
    a: &'a mut A,
    b: &'a mut B,
    a_to_b: Transfer,
    b_to_a: Transfer,
}

impl<A: ?Sized, B: ?Sized> std::fmt::Debug for CopyBidirectional<'_, A, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyBidirectional")
            .field("a_to_b", &self.a_to_b)
            .field("b_to_a", &self.b_to_a)
            .finish()
    }
}

impl<A, B> Future for CopyBidirectional<'_, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    type Output = Result<(u64, u64)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(u64, u64)>> {
        let this = self.get_mut();
        // Each direction uses one side as reader and the other as writer;
        // the two calls take turns with the `&mut`s.
        let ab = this.a_to_b.poll(cx, &mut *this.a, &mut *this.b)?;
        let ba = this.b_to_a.poll(cx, &mut *this.b, &mut *this.a)?;
        match (ab, ba) {
            (Poll::Ready(ab), Poll::Ready(ba)) => Poll::Ready(Ok((ab, ba))),
            _ => Poll::Pending,
        }
    }
}

/// One direction of [`copy_bidirectional`]: read into `buf`, write it all
/// out, repeat; at end of file close the writer.
struct Transfer {
    buf: Box<[u8]>,
    /// `buf[pos..filled]` is read but not yet written.
    pos: usize,
    filled: usize,
    /// Bytes written since the last flush.
    unflushed: bool,
    state: TransferState,
    copied: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransferState {
    Copying,
    /// The reader said end of file; closing the writer.
    Closing,
    Done,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer")
            .field("state", &self.state)
            .field("copied", &self.copied)
            .field("buffered", &(self.filled - self.pos))
            .finish()
    }
}

impl Transfer {
    fn new() -> Transfer {
        Transfer {
            buf: vec![0u8; COPY_BUF].into_boxed_slice(),
            pos: 0,
            filled: 0,
            unflushed: false,
            state: TransferState::Copying,
            copied: 0,
        }
    }

    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut budget = COPY_BUDGET;
        loop {
            match self.state {
                TransferState::Done => return Poll::Ready(Ok(self.copied)),
                TransferState::Closing => {
                    // poll_close flushes first (BufWriter, TLS), then closes.
                    match Pin::new(&mut *writer).poll_close(cx) {
                        Poll::Ready(Ok(())) => self.state = TransferState::Done,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                TransferState::Copying if self.pos < self.filled => {
                    match Pin::new(&mut *writer).poll_write(cx, &self.buf[self.pos..self.filled]) {
                        Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::WriteZero.into())),
                        Poll::Ready(Ok(n)) => {
                            self.pos += n;
                            self.copied += n as u64;
                            self.unflushed = true;
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                TransferState::Copying => {
                    if budget == 0 {
                        // Let the worker run others; come back at once.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    budget -= 1;
                    match Pin::new(&mut *reader).poll_read(cx, &mut self.buf) {
                        Poll::Ready(Ok(0)) => self.state = TransferState::Closing,
                        Poll::Ready(Ok(n)) => (self.pos, self.filled) = (0, n),
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {
                            // Nothing more to read for now: push what a
                            // buffering writer holds to the peer.
                            if self.unflushed {
                                match Pin::new(&mut *writer).poll_flush(cx) {
                                    Poll::Ready(Ok(())) => self.unflushed = false,
                                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                                    Poll::Pending => {}
                                }
                            }
                            return Poll::Pending;
                        }
                    }
                }
            }
        }
    }
}
