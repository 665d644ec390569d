//! TCP: [`TcpListener`], [`TcpStream`] and the [`Incoming`] stream.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::accept::AcceptThrottle;
use super::addr::{resolve, ToSocketAddrs};
pub use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
use super::{sys, Async};
use crate::time::Sleep;

/// A TCP socket server, listening for connections.
///
/// ```
/// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
/// use corio_io::net::{TcpListener, TcpStream};
///
/// futures_lite::future::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = async {
///         let mut s = TcpStream::connect(addr).await?;
///         s.write_all(b"hi").await?;
///         std::io::Result::Ok(())
///     };
///     let server = async {
///         let (mut s, _peer) = listener.accept().await?;
///         let mut buf = [0u8; 2];
///         s.read_exact(&mut buf).await?;
///         assert_eq!(&buf, b"hi");
///         std::io::Result::Ok(())
///     };
///     let (c, s) = futures_lite::future::zip(client, server).await;
///     c.and(s)
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    inner: Async<std::net::TcpListener>,
    throttle: AcceptThrottle,
}

impl TcpListener {
    /// Binds to the first of `addr`'s addresses that accepts the bind, and
    /// listens with a backlog of 1024 (std's `bind` uses 128).
    ///
    /// A host name is resolved off this thread (see [`ToSocketAddrs`]);
    /// literal addresses are used as they are.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let l = corio_io::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(l.local_addr()?.port() != 0);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let mut last_err = None;
        for addr in resolve(&addr).await? {
            match sys::bind_tcp_listener(addr) {
                Ok(l) => return TcpListener::from_nonblocking(l),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")
        }))
    }

    /// Wraps a std listener (switching it to non-blocking mode).
    ///
    /// ```
    /// let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let l = corio_io::net::TcpListener::from_std(std)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_nonblocking(listener)
    }

    /// Registers a listener that is already non-blocking.
    pub(crate) fn from_nonblocking(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Async::new_nonblocking(listener)?,
            throttle: AcceptThrottle::default(),
        })
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Accepts a new connection.
    ///
    /// Errors of the OS are returned as they are. Running out of descriptors
    /// (`EMFILE`) is returned too, and the next accept on this listener then
    /// waits a short pause before trying again, so a loop that logs errors
    /// and goes on neither crashes nor spins.
    ///
    /// See [`TcpListener`] for an example.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut pause = None;
        poll_fn(|cx| self.poll_accept(&mut pause, cx)).await
    }

    fn poll_accept(
        &self,
        pause: &mut Option<Sleep>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) =
            std::task::ready!(self
                .throttle
                .poll_accept(&self.inner, pause, cx, |l| l.accept()))?;
        Poll::Ready(TcpStream::from_std(stream).map(|s| (s, addr)))
    }

    /// The stream of incoming connections; never ends.
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// futures_lite::future::block_on(async {
    ///     let l = corio_io::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = l.local_addr()?;
    ///     let _c = std::net::TcpStream::connect(addr)?;
    ///     let mut incoming = l.incoming();
    ///     let s = incoming.next().await.unwrap()?;
    ///     assert_eq!(s.local_addr()?, addr);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            pause: None,
        }
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.inner.get_ref())
            .finish()
    }
}

super::fd_impls!(TcpListener);

/// The stream of connections returned by [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    pause: Option<Sleep>,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.listener
            .poll_accept(&mut this.pause, cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

/// A TCP connection.
///
/// Reads and writes through `futures_io::AsyncRead`/`AsyncWrite`, on the
/// stream or on `&TcpStream`; use [`crate::io::AsyncReadExt`] and
/// [`crate::io::AsyncWriteExt`] for `read`, `write_all` and friends.
///
/// ```
/// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
/// futures_lite::future::block_on(async {
///     let l = corio_io::net::TcpListener::bind("127.0.0.1:0").await?;
///     let mut a = corio_io::net::TcpStream::connect(l.local_addr()?).await?;
///     let (mut b, _) = l.accept().await?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0u8; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    inner: Async<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to the first of `addr`'s addresses that accepts (asyncio:
    /// `loop.create_connection`, which also tries each address in turn).
    ///
    /// Nothing here blocks the thread: a host name is resolved on the
    /// blocking pool (see [`ToSocketAddrs`]), a literal address is used as
    /// it is, and the connect itself waits for writability.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let s = corio_io::net::TcpStream::connect(l.local_addr()?).await?;
    ///     assert_eq!(s.peer_addr()?, l.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last_err = None;
        for addr in resolve(&addr).await? {
            match TcpStream::connect_addr(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let (socket, done) = sys::connect_tcp(addr)?;
        TcpStream::finish_connect(socket, done).await
    }

    /// Registers a socket whose non-blocking connect has started (`done`:
    /// already established) and waits for the connect to finish.
    pub(crate) async fn finish_connect(
        socket: socket2::Socket,
        done: bool,
    ) -> io::Result<TcpStream> {
        let stream = TcpStream {
            inner: Async::new_nonblocking(std::net::TcpStream::from(socket))?,
        };
        if !done {
            // The connect finishes (or fails) with a writability edge.
            stream
                .inner
                .write_with(|s| sys::connect_outcome(s.take_error(), s.peer_addr().map(drop)))
                .await?;
        }
        Ok(stream)
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let s = std::net::TcpStream::connect(l.local_addr()?)?;
    /// let s = corio_io::net::TcpStream::from_std(s)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            inner: Async::new_nonblocking(stream)?,
        })
    }

    /// Deregisters the stream and returns the std stream (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.inner.into_inner()
    }

    /// The local address of this connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The remote address of this connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let s = corio_io::net::TcpStream::connect(l.local_addr()?).await?;
    ///     s.set_nodelay(true)?;
    ///     assert!(s.nodelay()?);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side or both.
    ///
    /// `Shutdown::Write` sends FIN: the peer reads end-of-file.
    ///
    /// ```
    /// use corio_io::io::AsyncReadExt;
    /// futures_lite::future::block_on(async {
    ///     let l = corio_io::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let a = corio_io::net::TcpStream::connect(l.local_addr()?).await?;
    ///     let (mut b, _) = l.accept().await?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     let mut rest = Vec::new();
    ///     assert_eq!(b.read_to_end(&mut rest).await?, 0);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Receives data without removing it from the queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.peek(buf)).await
    }

    /// Waits until the stream is readable (see [`Async::readable`]).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the stream is writable (see [`Async::writable`]).
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Borrows the stream as a read half and a write half that can be used
    /// at the same time (in one task).
    ///
    /// **futures-util's `AsyncReadExt` shadows this method.** Its
    /// `split(self)` takes the stream by value, and Rust tries by-value
    /// methods, trait methods included, before by-reference ones: with
    /// `futures::io::AsyncReadExt` (or `futures::AsyncReadExt`, or
    /// `futures::prelude::*`) in scope, `stream.split()` silently moves the
    /// stream into futures-util's lock-based halves. Write
    /// `TcpStream::split(&stream)` there, or use [`into_split`](Self::into_split).
    /// `corio::io`'s and futures-lite's traits have no `split` on streams;
    /// with them `stream.split()` is this method.
    ///
    /// ```
    /// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
    /// futures_lite::future::block_on(async {
    ///     let l = corio_io::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let a = corio_io::net::TcpStream::connect(l.local_addr()?).await?;
    ///     let (b, _) = l.accept().await?;
    ///     let (mut r, mut w) = b.split();
    ///     let echo = async { corio_io::io::copy(&mut r, &mut w).await };
    ///     let client = async {
    ///         (&a).write_all(b"echo").await?;
    ///         let mut buf = [0u8; 4];
    ///         (&a).read_exact(&mut buf).await?;
    ///         a.shutdown(std::net::Shutdown::Write)?;
    ///         std::io::Result::Ok(buf)
    ///     };
    ///     let (copied, got) = futures_lite::future::zip(echo, client).await;
    ///     assert_eq!(&got?, b"echo");
    ///     assert_eq!(copied?, 4);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn split(&self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into owned halves that can move to different tasks.
    pub fn into_split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        let shared = Arc::new(self);
        (OwnedReadHalf(shared.clone()), OwnedWriteHalf(shared))
    }

    fn io(&self) -> &Async<std::net::TcpStream> {
        &self.inner
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream")
            .field(self.inner.get_ref())
            .finish()
    }
}

super::fd_impls!(TcpStream);

super::stream_io_impls!(TcpStream);
