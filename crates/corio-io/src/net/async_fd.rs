//! [`Async<T>`]: any descriptor, registered with the driver.
//!
//! Every net type here is a thin layer over `Async`: it owns the descriptor,
//! its registration (a `Source`) and the tick protocol of `source.rs`. Reads
//! and writes go through [`Async::read_with`] / [`Async::write_with`] (or the
//! poll forms): try the operation, and wait for an edge only on `WouldBlock`.
//!
//! [`Async::readable`] and [`Async::writable`] are for code that does its own
//! system calls.
//!
//! # I/O safety
//!
//! The registration names the descriptor by number, so it is only sound
//! while that number keeps naming the descriptor `Async` registered: were
//! the inner value to close it or swap it for another, the number could be
//! reused by an unrelated descriptor (another socket's, say) and the drop's
//! deregistration would remove *that* descriptor's registration, leaving its
//! owner waiting forever. So `T: AsFd` (it owns or borrows a live
//! descriptor, unlike a bare `AsRawFd` number), and every way to reach
//! `&mut T` is either `unsafe` ([`Async::get_mut`],
//! [`Async::read_with_mut`], [`Async::write_with_mut`]) or limited to types
//! that promise [`IoSafe`] (the `AsyncRead`/`AsyncWrite` impls on `Async<T>`
//! itself). Shared access (`&T`) cannot replace the descriptor and needs no
//! promise. They complete once the descriptor is ready at some moment
//! after the call: a zero-timeout `poll(2)` answers for the present, and the
//! readiness tick for the future, so a caller that read until `WouldBlock` and
//! awaits `readable()` again sleeps until new data arrives instead of
//! spinning on a stale edge.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::sys;
use crate::driver::Driver;
use crate::source::{Direction, Source};

/// A descriptor registered with corio's I/O driver (asyncio's
/// `loop.add_reader`/`add_writer`, as a value that owns the descriptor).
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it
/// (edge-triggered, once). Dropping the `Async` deregisters it before the
/// inner value (and so the descriptor) is dropped. `T` must be [`AsFd`]: it
/// owns (or borrows) the descriptor for as long as the `Async` lives; see
/// the module's "I/O safety".
///
/// What I/O safety rules out, at compile time. `&mut` access to the inner
/// value is `unsafe`:
///
/// ```compile_fail,E0133
/// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
/// let mut a = corio_io::net::Async::new(a).unwrap();
/// let (c, _d) = std::os::unix::net::UnixStream::pair().unwrap();
/// *a.get_mut() = c; // would leave `a`'s registration on a closed number
/// ```
///
/// A bare descriptor number, which owns nothing, is not accepted:
///
/// ```compile_fail,E0277
/// use std::os::fd::{AsRawFd, RawFd};
/// struct Number(RawFd);
/// impl AsRawFd for Number {
///     fn as_raw_fd(&self) -> RawFd { self.0 }
/// }
/// let _ = corio_io::net::Async::new(Number(0));
/// ```
///
/// And `Async<T>` is `AsyncRead`/`AsyncWrite` only for `T: IoSafe`:
///
/// ```compile_fail,E0599
/// use corio_io::io::AsyncReadExt;
/// use std::os::fd::{AsFd, BorrowedFd};
/// struct Mine(std::io::PipeReader);
/// impl AsFd for Mine {
///     fn as_fd(&self) -> BorrowedFd<'_> { self.0.as_fd() }
/// }
/// impl std::io::Read for Mine {
///     fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> { self.0.read(b) }
/// }
/// futures_lite::future::block_on(async {
///     let (r, _w) = std::io::pipe().unwrap();
///     let mut r = corio_io::net::Async::new(Mine(r)).unwrap();
///     let _ = r.read(&mut [0u8; 1]).await;
/// });
/// ```
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
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    /// `None` only after `into_inner` took it.
    io: Option<T>,
}

// `T` is never pinned: it is only ever reached through `&T` / `&mut T`.
impl<T: AsFd> Unpin for Async<T> {}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the driver.
    ///
    /// ```
    /// let (r, _w) = std::os::unix::net::UnixStream::pair()?;
    /// let r = corio_io::net::Async::new(r)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        sys::set_nonblocking(io.as_fd())?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already made non-blocking.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        // SAFETY: `io` keeps its descriptor open while we hold it (`AsFd`),
        // nothing safe can make it close or swap that descriptor (module
        // docs), and the `Async` deregisters before it drops or returns
        // `io`.
        let source = unsafe { Driver::get().register(io.as_fd())? };
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
    ///
    /// # Safety
    ///
    /// While the `Async` lives, the caller must not close the inner value's
    /// descriptor nor make it another one (by `mem::swap`, assignment,
    /// `dup2` onto it, ...): the registration names the descriptor by its
    /// number, and once that number is reused, dropping the `Async` would
    /// remove the new descriptor's registration (see "I/O safety" in the
    /// module docs). Reading, writing and setting options through the
    /// `&mut T` is fine.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let mut a = corio_io::net::Async::new(a)?;
    /// b.write_all(b"hi")?;
    /// let mut buf = [0u8; 2];
    /// // SAFETY: only reads through the stream; its descriptor stays.
    /// let n = unsafe { a.get_mut() }.read(&mut buf)?;
    /// assert_eq!(&buf[..n], &b"hi"[..n]);
    /// # std::io::Result::Ok(())
    /// ```
    pub unsafe fn get_mut(&mut self) -> &mut T {
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
        // With the task's budget spent, yield before looking (coop.rs).
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let snapshot = self.source.tick(dir);
        let ready = match sys::poll_now(self.get_ref().as_fd(), dir == Direction::Write) {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => self.source.poll_edge(dir, snapshot, cx).map(Ok),
            Err(e) => Poll::Ready(Err(e)),
        };
        if ready.is_ready() {
            crate::coop::spend();
        }
        ready
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
    ///
    /// # Safety
    ///
    /// `op` must not close the inner value's descriptor nor replace it, as
    /// for [`get_mut`](Self::get_mut).
    pub async unsafe fn read_with_mut<R>(
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
    ///
    /// # Safety
    ///
    /// `op` must not close the inner value's descriptor nor replace it, as
    /// for [`get_mut`](Self::get_mut).
    pub async unsafe fn write_with_mut<R>(
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

    /// Runs `op` with `&mut T` under the read direction's tick protocol.
    /// Callers guarantee `op` leaves the descriptor in place (an `unsafe`
    /// caller's promise, or `T: IoSafe`).
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

    /// [`poll_read_with_mut`](Self::poll_read_with_mut) for writes.
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

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            Driver::get().deregister(&self.source);
        }
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(&self.io).finish()
    }
}

// The `AsyncRead` impls below use the plain tick protocol, without the
// short-read rule of the stream types: `T` may be a pipe, a tty, an eventfd
// or anything else readable, and for several of those a short read does not
// mean there is nothing left to read.
impl<T: AsFd + IoSafe + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_with_mut(cx, |io| io.read(buf))
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
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

impl<T: AsFd + IoSafe + Write> AsyncWrite for Async<T> {
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

impl<T: AsFd> AsyncWrite for &Async<T>
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

/// Types whose `&mut` methods never close or replace their descriptor, so
/// that `Async<T>` may hand out `&mut T` to them: its `AsyncRead` and
/// `AsyncWrite` impls call `Read::read` and `Write::write` on `&mut T`.
///
/// Implemented for std's and socket2's descriptor types (files, pipes,
/// sockets, child process pipes, the standard streams, `OwnedFd`) and for
/// `Box`, `Arc` and `Rc` of them. A type of your own qualifies if nothing
/// reachable through `&mut self` can close its descriptor or make `as_fd`
/// return another one.
///
/// ```
/// use corio_io::io::AsyncWriteExt;
/// use corio_io::net::{Async, IoSafe};
/// use std::os::fd::{AsFd, BorrowedFd};
///
/// /// A pipe's write end that counts what it wrote.
/// struct Counted { pipe: std::io::PipeWriter, written: usize }
///
/// impl AsFd for Counted {
///     fn as_fd(&self) -> BorrowedFd<'_> { self.pipe.as_fd() }
/// }
/// impl std::io::Write for Counted {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         let n = self.pipe.write(buf)?;
///         self.written += n;
///         Ok(n)
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// // SAFETY: `write` and `flush` only write through `pipe`, which never
/// // changes.
/// unsafe impl IoSafe for Counted {}
///
/// futures_lite::future::block_on(async {
///     let (_r, w) = std::io::pipe()?;
///     let mut w = Async::new(Counted { pipe: w, written: 0 })?;
///     w.write_all(b"abc").await?;
///     assert_eq!(w.get_ref().written, 3);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Safety
///
/// No method that `Async` may call through `&mut self` (`Read`, `Write`)
/// may close the descriptor that `as_fd` returns, or make `as_fd` return
/// a different one, while the value lives.
pub unsafe trait IoSafe {}

/// Marks std and socket2 types as [`IoSafe`]: their `&mut` methods read,
/// write and set options, never close or replace the descriptor.
macro_rules! io_safe {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: `$ty` owns its descriptor from construction to drop and
            // has no `&mut self` method that closes or replaces it.
            unsafe impl IoSafe for $ty {}
        )*
    };
}

io_safe!(
    OwnedFd,
    std::fs::File,
    std::io::PipeReader,
    std::io::PipeWriter,
    std::io::Stdin,
    std::io::Stdout,
    std::io::Stderr,
    std::net::TcpStream,
    std::net::TcpListener,
    std::net::UdpSocket,
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixListener,
    std::os::unix::net::UnixDatagram,
    std::process::ChildStdin,
    std::process::ChildStdout,
    std::process::ChildStderr,
    socket2::Socket,
);

// SAFETY: a shared reference gives no `&mut T`; the descriptor is `T`'s and
// `T` cannot change while it is borrowed.
unsafe impl<T: ?Sized> IoSafe for &T {}
// SAFETY: `&mut Box<T>` reaches the `T` only as `&mut T`, which `T: IoSafe`
// covers; replacing the box itself would need the `Async`'s `&mut`, which
// only `get_mut` (unsafe) gives.
unsafe impl<T: IoSafe + ?Sized> IoSafe for Box<T> {}
// SAFETY: an `Arc` gives shared access only.
unsafe impl<T: ?Sized> IoSafe for std::sync::Arc<T> {}
// SAFETY: an `Rc` gives shared access only.
unsafe impl<T: ?Sized> IoSafe for std::rc::Rc<T> {}
