//! Async I/O traits and the methods a tokio user reaches for.
//!
//! The traits are futures-io's ([`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`]), so corio's streams work with the rest of the ecosystem.
//! [`AsyncReadExt`] and [`AsyncWriteExt`] add `read`, `read_exact`,
//! `read_to_end`, `write`, `write_all`, `flush` and `close` as futures, and
//! [`copy`] pumps a reader into a writer. Each future borrows its reader or
//! writer and is cancel-safe in the usual sense: dropping it loses nothing
//! that was not already reported (except `read_exact`/`write_all`, which may
//! have moved part of the data, as in tokio).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

pub use crate::net::Async;

/// Reading futures for every [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` means end of file (or an empty
    /// `buf`).
    ///
    /// ```
    /// use corio_io::io::AsyncReadExt;
    /// futures_lite::future::block_on(async {
    ///     let mut src: &[u8] = b"abc";
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(src.read(&mut buf).await?, 3);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Fills `buf` completely, or fails with `UnexpectedEof`.
    ///
    /// ```
    /// use corio_io::io::AsyncReadExt;
    /// futures_lite::future::block_on(async {
    ///     let mut src: &[u8] = b"abcdef";
    ///     let mut buf = [0u8; 4];
    ///     src.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"abcd");
    ///     assert!(src.read_exact(&mut buf).await.is_err());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact { reader: self, buf }
    }

    /// Reads until end of file, appending to `buf`; returns the number of
    /// bytes read.
    ///
    /// ```
    /// use corio_io::io::AsyncReadExt;
    /// futures_lite::future::block_on(async {
    ///     let mut src: &[u8] = b"all of it";
    ///     let mut out = Vec::new();
    ///     assert_eq!(src.read_to_end(&mut out).await?, 9);
    ///     assert_eq!(out, b"all of it");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Writing futures for every [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some bytes from `buf`; returns how many.
    ///
    /// ```
    /// use corio_io::io::AsyncWriteExt;
    /// futures_lite::future::block_on(async {
    ///     let mut out = futures_lite::io::Cursor::new(Vec::new());
    ///     assert_eq!(out.write(b"abc").await?, 3);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`, or fails with the first error (`WriteZero` if the
    /// writer stops accepting bytes).
    ///
    /// ```
    /// use corio_io::io::AsyncWriteExt;
    /// futures_lite::future::block_on(async {
    ///     let mut out = futures_lite::io::Cursor::new(Vec::new());
    ///     out.write_all(b"everything").await?;
    ///     assert_eq!(out.into_inner(), b"everything");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Flushes buffered data.
    ///
    /// ```
    /// use corio_io::io::AsyncWriteExt;
    /// futures_lite::future::block_on(async {
    ///     let mut out = futures_lite::io::Cursor::new(Vec::new());
    ///     out.flush().await
    /// })
    /// .unwrap();
    /// ```
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes and closes the writer; for a stream socket this shuts down
    /// the write side, so the peer reads end of file.
    ///
    /// ```
    /// use corio_io::io::AsyncWriteExt;
    /// futures_lite::future::block_on(async {
    ///     let (mut a, _b) = corio_io::net::UnixStream::pair()?;
    ///     a.close().await
    /// })
    /// .unwrap();
    /// ```
    fn close(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        Close { writer: self }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = match Pin::new(&mut *this.reader).poll_read(cx, this.buf) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            let rest = std::mem::take(&mut this.buf);
            this.buf = &mut rest[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            // Grow by doubling (at least 4 KiB), and read into a window of at
            // most 64 KiB of the spare room: the window is zeroed before each
            // read, so its size must follow the read size, not the buffer's.
            if this.buf.capacity() - this.buf.len() < 4096 {
                this.buf.reserve(this.buf.capacity().max(4096));
            }
            let len = this.buf.len();
            let window = (this.buf.capacity() - len).min(64 * 1024);
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

/// Future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// Future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = match Pin::new(&mut *this.writer).poll_write(cx, this.buf) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future of [`AsyncWriteExt::close`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Close<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Close<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}

/// Copies everything from `reader` into `writer` until end of file, then
/// flushes; returns the number of bytes copied.
///
/// ```
/// futures_lite::future::block_on(async {
///     let mut src: &[u8] = b"copy me";
///     let mut dst = futures_lite::io::Cursor::new(Vec::new());
///     assert_eq!(corio_io::io::copy(&mut src, &mut dst).await?, 7);
///     assert_eq!(dst.into_inner(), b"copy me");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            writer.flush().await?;
            return Ok(total);
        }
        writer.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}
