//! [`Async<T>`]: any descriptor, registered with the driver.
//!
//! Every net type here is a thin layer over `Async`: it owns the descriptor,
//! its registration (a `Source`) and the tick protocol of `source.rs`. Reads
//! and writes go through [`Async::read_with`] / [`Async::write_with`] (or the
//! poll forms): try the operation, and wait for an edge only on `WouldBlock`.
//!
//! [`Async::readable`] and [`Async::writable`] are for code that does its own
//! system calls. They complete once the descriptor is ready at some moment
//! after the call: a zero-timeout `poll(2)` answers for the present, and the
//! readiness tick for the future, so a caller that read until `WouldBlock` and
//! awaits `readable()` again sleeps until new data arrives instead of
//! spinning on a stale edge.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::sys;
use crate::driver::Driver;
use crate::source::{Direction, Source};

/// A descriptor registered with corio's I/O driver.
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it
/// (edge-triggered, once). Dropping the `Async` deregisters it before the
/// inner value (and so the descriptor) is dropped.
///
/// ```
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use corio_io::io::AsyncReadExt;
/// use corio_io::net::Async;
///
/// futures_lite::future::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     let mut a = Async::new(a)?;
///     b.write_all(b"ping")?;
///     let mut buf = [0u8; 4];
///     a.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Async<T: AsRawFd> {
    source: Arc<Source>,
    /// `None` only after `into_inner` took it.
    io: Option<T>,
}

// `T` is never pinned: it is only ever reached through `&T` / `&mut T`.
impl<T: AsRawFd> Unpin for Async<T> {}

impl<T: AsRawFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the driver.
    ///
    /// ```
    /// let (r, _w) = std::os::unix::net::UnixStream::pair()?;
    /// let r = corio_io::net::Async::new(r)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        sys::set_nonblocking(io.as_raw_fd())?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already made non-blocking.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let source = Driver::get().register(io.as_raw_fd())?;
        Ok(Async {
            source,
            io: Some(io),
        })
    }

    /// The inner value.
    ///
    /// ```
    /// let (r, _w) = std::os::unix::net::UnixStream::pair()?;
    /// let r = corio_io::net::Async::new(r)?;
    /// assert!(r.get_ref().peer_addr().is_ok());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("Async: inner value present until into_inner")
    }

    /// The inner value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.io
            .as_mut()
            .expect("Async: inner value present until into_inner")
    }

    /// Deregisters and returns the inner value (still non-blocking).
    ///
    /// ```
    /// let (r, _w) = std::os::unix::net::UnixStream::pair()?;
    /// let r = corio_io::net::Async::new(r)?.into_inner()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        Driver::get().deregister(&self.source);
        Ok(self
            .io
            .take()
            .expect("Async: inner value present until into_inner"))
    }

    /// Waits until the descriptor is readable (or has an error or hang-up).
    ///
    /// Readiness can be spurious, so a read after it may still get
    /// `WouldBlock`; prefer [`read_with`](Self::read_with), which retries.
    ///
    /// ```
    /// use std::io::Write;
    /// futures_lite::future::block_on(async {
    ///     let (r, mut w) = std::os::unix::net::UnixStream::pair()?;
    ///     let r = corio_io::net::Async::new(r)?;
    ///     w.write_all(b"x")?;
    ///     r.readable().await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the descriptor is writable (or has an error or hang-up).
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     corio_io::net::Async::new(a)?.writable().await
    /// })
    /// .unwrap();
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// The poll form of [`readable`](Self::readable).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(Direction::Read, cx)
    }

    /// The poll form of [`writable`](Self::writable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(Direction::Write, cx)
    }

    fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let snapshot = self.source.tick(dir);
        match sys::poll_now(self.source.fd, dir == Direction::Write) {
            Ok(true) => return Poll::Ready(Ok(())),
            Ok(false) => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
        self.source.poll_edge(dir, snapshot, cx).map(Ok)
    }

    /// Runs a read-like operation until it does not return `WouldBlock`,
    /// waiting for readability in between.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// futures_lite::future::block_on(async {
    ///     let (r, mut w) = std::os::unix::net::UnixStream::pair()?;
    ///     let r = corio_io::net::Async::new(r)?;
    ///     w.write_all(b"hello")?;
    ///     let mut buf = [0u8; 5];
    ///     let n = r.read_with(|mut s| s.read(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], &b"hello"[..n]);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Like [`read_with`](Self::read_with) with mutable access.
    pub async fn read_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with_mut(cx, &mut op)).await
    }

    /// Runs a write-like operation until it does not return `WouldBlock`,
    /// waiting for writability in between.
    ///
    /// ```
    /// use std::io::Write;
    /// futures_lite::future::block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = corio_io::net::Async::new(a)?;
    ///     let n = a.write_with(|mut s| s.write(b"hi")).await?;
    ///     assert_eq!(n, 2);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }

    /// Like [`write_with`](Self::write_with) with mutable access.
    pub async fn write_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with_mut(cx, &mut op)).await
    }

    /// The poll form of [`read_with`](Self::read_with).
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(Direction::Read, cx, || op(io))
    }

    /// A read of up to `len` bytes on a *stream* socket: like
    /// [`poll_read_with`](Self::poll_read_with), and after a short read
    /// (`0 < n < len`) the next one waits for a new edge without trying the
    /// system call (see `source.rs`, "Short stream reads"). Only for
    /// descriptors where a short read means the receive queue is empty, which
    /// is why the `AsyncRead` impls of `Async<T>` itself, open to any
    /// descriptor, do not use it.
    pub(crate) fn poll_stream_read(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.source.poll_stream_read(cx, len, || op(io))
    }

    /// The poll form of [`write_with`](Self::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(Direction::Write, cx, || op(io))
    }

    fn poll_read_with_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let Async { source, io } = self;
        let io = io
            .as_mut()
            .expect("Async: inner value present until into_inner");
        source.poll_io(Direction::Read, cx, || op(io))
    }

    fn poll_write_with_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let Async { source, io } = self;
        let io = io
            .as_mut()
            .expect("Async: inner value present until into_inner");
        source.poll_io(Direction::Write, cx, || op(io))
    }
}

impl<T: AsRawFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            Driver::get().deregister(&self.source);
        }
    }
}

impl<T: AsRawFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd
    }
}

impl<T: AsRawFd + AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(&self.io).finish()
    }
}

// The `AsyncRead` impls below use the plain tick protocol, without the
// short-read rule of the stream types: `T` may be a pipe, a tty, an eventfd
// or anything else readable, and for several of those a short read does not
// mean there is nothing left to read.
impl<T: AsRawFd + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_with_mut(cx, |io| io.read(buf))
    }
}

impl<T: AsRawFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }
}

impl<T: AsRawFd + Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_with_mut(cx, |io| io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_write_with_mut(cx, |io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsRawFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
