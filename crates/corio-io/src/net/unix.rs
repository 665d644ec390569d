//! Unix domain sockets: [`UnixListener`] and [`UnixStream`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::accept::AcceptThrottle;
pub use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
use super::{sys, Async};
use crate::time::Sleep;

/// A Unix domain stream socket server.
///
/// ```
/// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
/// use corio_io::net::{UnixListener, UnixStream};
/// futures_lite::future::block_on(async {
///     let path = std::env::temp_dir().join(format!("corio-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hey").await?;
///     let mut buf = [0u8; 3];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hey");
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixListener {
    inner: Async<std::os::unix::net::UnixListener>,
    throttle: AcceptThrottle,
}

impl UnixListener {
    /// Binds to `path` (which must not exist yet).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::from_std(std::os::unix::net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener (switching it to non-blocking mode).
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            inner: Async::new_nonblocking(listener)?,
            throttle: AcceptThrottle::default(),
        })
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Accepts a new connection; errors behave as in
    /// [`TcpListener::accept`](super::TcpListener::accept).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut pause = None;
        poll_fn(|cx| self.poll_accept(&mut pause, cx)).await
    }

    fn poll_accept(
        &self,
        pause: &mut Option<Sleep>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) =
            std::task::ready!(self
                .throttle
                .poll_accept(&self.inner, pause, cx, |l| l.accept()))?;
        Poll::Ready(UnixStream::from_std(stream).map(|s| (s, addr)))
    }

    /// The stream of incoming connections; never ends.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming {
            listener: self,
            pause: None,
        }
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.inner.get_ref())
            .finish()
    }
}

super::fd_impls!(UnixListener);

/// The stream of connections returned by [`UnixListener::incoming`].
#[derive(Debug)]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
    pause: Option<Sleep>,
}

impl Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.listener
            .poll_accept(&mut this.pause, cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

/// A Unix domain stream connection.
pub struct UnixStream {
    inner: Async<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` without blocking the thread.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let (socket, done) = sys::connect_unix(path.as_ref())?;
        let stream = UnixStream {
            inner: Async::new_nonblocking(std::os::unix::net::UnixStream::from(socket))?,
        };
        if !done {
            stream
                .inner
                .write_with(|s| sys::connect_outcome(s.take_error(), s.peer_addr().map(drop)))
                .await?;
        }
        Ok(stream)
    }

    /// A pair of connected streams.
    ///
    /// ```
    /// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
    /// futures_lite::future::block_on(async {
    ///     let (mut a, mut b) = corio_io::net::UnixStream::pair()?;
    ///     a.write_all(b"x").await?;
    ///     let mut buf = [0u8; 1];
    ///     b.read_exact(&mut buf).await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            inner: Async::new_nonblocking(stream)?,
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Waits until the stream is readable (see [`Async::readable`]).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the stream is writable (see [`Async::writable`]).
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Borrows the stream as a read half and a write half.
    ///
    /// With futures-util's `AsyncReadExt` in scope, `stream.split()` is
    /// that trait's by-value `split` instead (see [`TcpStream::split`](crate::net::TcpStream::split));
    /// write `UnixStream::split(&stream)` there.
    ///
    /// ```
    /// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
    /// futures_lite::future::block_on(async {
    ///     let (a, b) = corio_io::net::UnixStream::pair()?;
    ///     let (mut r, mut w) = a.split();
    ///     (&b).write_all(b"hi").await?;
    ///     let mut buf = [0u8; 2];
    ///     r.read_exact(&mut buf).await?;
    ///     w.write_all(&buf).await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn split(&self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into owned halves that can move to different tasks.
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        let shared = Arc::new(self);
        (OwnedReadHalf(shared.clone()), OwnedWriteHalf(shared))
    }

    fn io(&self) -> &Async<std::os::unix::net::UnixStream> {
        &self.inner
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.inner.get_ref())
            .finish()
    }
}

super::fd_impls!(UnixStream);

super::stream_io_impls!(UnixStream);
