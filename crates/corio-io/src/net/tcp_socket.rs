//! [`TcpSocket`]: a TCP socket to configure before it connects or listens.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use super::{sys, TcpListener, TcpStream};

/// A TCP socket that has not yet connected or listened: set its options,
/// [`bind`](Self::bind) it, then turn it into a [`TcpStream`] with
/// [`connect`](Self::connect) or a [`TcpListener`] with
/// [`listen`](Self::listen).
///
/// This is what asyncio code does with a `socket.socket` it configures by
/// hand (`setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)`, `bind`, ...) before
/// handing it to `loop.create_server(sock=...)` or
/// `loop.sock_connect`. The socket is non-blocking from the start, and the
/// setters take `&self`.
///
/// ```
/// use corio_io::io::{AsyncReadExt, AsyncWriteExt};
/// use corio_io::net::TcpSocket;
///
/// futures_lite::future::block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     client.set_keepalive(true)?;
///     let mut stream = client.connect(listener.local_addr()?).await?;
///     let (mut served, _) = listener.accept().await?;
///     stream.write_all(b"hi").await?;
///     let mut buf = [0u8; 2];
///     served.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (asyncio: `socket.socket(AF_INET,
    /// SOCK_STREAM)`).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (asyncio: `socket.socket(AF_INET6,
    /// SOCK_STREAM)`).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v6()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: sys::socket(domain, Type::STREAM)?,
        })
    }

    /// Sets `SO_REUSEADDR`: bind to a local address still held by
    /// connections in `TIME_WAIT` (a restarted server keeps its port).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_reuseaddr(true)?;
    /// assert!(s.reuseaddr()?);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (of this user) may bind the
    /// same address and port, and the kernel spreads incoming connections
    /// over their listeners (asyncio: `create_server(reuse_port=True)`).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_reuseport(true)?;
    /// assert!(s.reuseport()?);
    /// # std::io::Result::Ok(())
    /// ```
    #[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    #[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// reports it broken when the peer is gone. A stream or listener made
    /// from this socket keeps the option (accepted streams inherit it on
    /// Linux).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_keepalive(true)?;
    /// assert!(s.keepalive()?);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_SNDBUF`, the kernel's send buffer size in bytes. Linux
    /// doubles the value (for its bookkeeping) and clamps it to
    /// `net.core.wmem_max`; [`send_buffer_size`](Self::send_buffer_size)
    /// reports what the kernel settled on.
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_send_buffer_size(64 * 1024)?;
    /// assert!(s.send_buffer_size()? >= 64 * 1024);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// `SO_SNDBUF`, the send buffer size in bytes.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(saturate)
    }

    /// Sets `SO_RCVBUF`, the kernel's receive buffer size in bytes (Linux
    /// doubles and clamps it as for the send buffer).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_recv_buffer_size(64 * 1024)?;
    /// assert!(s.recv_buffer_size()? >= 64 * 1024);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// `SO_RCVBUF`, the receive buffer size in bytes.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(saturate)
    }

    /// Sets `SO_LINGER`: with `Some(d)`, closing the socket waits up to
    /// `d` for unsent data; `Some(Duration::ZERO)` resets the connection on
    /// close instead of the orderly FIN.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(s.linger()?, Some(Duration::ZERO));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY` (Nagle's algorithm off when `true`).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.set_nodelay(true)?;
    /// assert!(s.nodelay()?);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Binds the socket to `addr` (port 0: the kernel picks one).
    ///
    /// ```
    /// let s = corio_io::net::TcpSocket::new_v4()?;
    /// s.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        as_inet(self.inner.local_addr()?)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Connects to `addr` without blocking the thread and returns the
    /// stream; the options set so far stay on it. Without an earlier
    /// [`bind`](Self::bind), the kernel picks the local address.
    ///
    /// See [`TcpSocket`] for an example.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let done = sys::start_connect(&self.inner, &addr.into())?;
        TcpStream::finish_connect(self.inner, done).await
    }

    /// Starts listening with room for `backlog` pending connections (the
    /// kernel caps it at `net.core.somaxconn`) and returns the listener.
    /// The socket must be bound first.
    ///
    /// See [`TcpSocket`] for an example.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        TcpListener::from_nonblocking(self.inner.into())
    }

    /// Wraps a std stream socket, typically one that is not connected yet
    /// (made by another crate), to configure and connect it here. It is
    /// switched to non-blocking mode.
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std = std::net::TcpStream::connect(l.local_addr()?)?;
    /// let s = corio_io::net::TcpSocket::from_std_stream(std)?;
    /// assert_eq!(s.local_addr()?.ip(), l.local_addr()?.ip());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> io::Result<TcpSocket> {
        stream.set_nonblocking(true)?;
        Ok(TcpSocket {
            inner: stream.into(),
        })
    }
}

/// A buffer size as `u32` (the kernel's are `int`s).
fn saturate(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

/// An Internet socket address, or an error for any other family.
fn as_inet(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a TCP socket reported a non-Internet address",
        )
    })
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("fd", &self.inner.as_raw_fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}
