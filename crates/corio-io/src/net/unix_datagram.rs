//! [`UnixDatagram`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::Async;

/// A Unix domain datagram socket: messages between processes on one
/// machine, with their boundaries kept (asyncio:
/// `loop.create_datagram_endpoint(family=AF_UNIX, local_addr=path)`, or a
/// `socket.socket(AF_UNIX, SOCK_DGRAM)` used with `loop.sock_sendto` /
/// `sock_recvfrom`).
///
/// ```
/// use corio_io::net::UnixDatagram;
/// futures_lite::future::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one").await?;
///     a.send(b"two").await?;
///     let mut buf = [0u8; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one");
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"two");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct UnixDatagram {
    inner: Async<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (which must not exist yet).
    ///
    /// ```
    /// use corio_io::net::UnixDatagram;
    /// futures_lite::future::block_on(async {
    ///     let dir = std::env::temp_dir();
    ///     let (pa, pb) = (dir.join(format!("corio-dg-a-{}", std::process::id())),
    ///                     dir.join(format!("corio-dg-b-{}", std::process::id())));
    ///     let _ = (std::fs::remove_file(&pa), std::fs::remove_file(&pb));
    ///     let a = UnixDatagram::bind(&pa)?;
    ///     let b = UnixDatagram::bind(&pb)?;
    ///     a.send_to(b"hello", &pb).await?;
    ///     let mut buf = [0u8; 16];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"hello");
    ///     assert_eq!(from.as_pathname(), Some(pa.as_path()));
    ///     std::fs::remove_file(&pa)?;
    ///     std::fs::remove_file(&pb)
    /// })
    /// .unwrap();
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address: it can send (to a path, or after
    /// [`connect`](Self::connect)) but nobody can address a reply to it.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected, unnamed sockets (asyncio: `socket.socketpair(AF_UNIX,
    /// SOCK_DGRAM)`).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket (switching it to non-blocking mode).
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            inner: Async::new_nonblocking(socket)?,
        })
    }

    /// Deregisters the socket and returns the std socket (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.inner.into_inner()
    }

    /// Sets the default destination of [`send`](Self::send) and the only
    /// source [`recv`](Self::recv) accepts. Does not block: a datagram
    /// connect only records the address.
    ///
    /// ```
    /// use corio_io::net::UnixDatagram;
    /// futures_lite::future::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("corio-dg-c-{}", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     client.send(b"ping").await?;
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(server.recv(&mut buf).await?, 4);
    ///     std::fs::remove_file(&path)
    /// })
    /// .unwrap();
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.get_ref().connect(path)
    }

    /// Sends a datagram to `path`; waits while the receiver's queue is
    /// full.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and the address it came from. A datagram longer
    /// than `buf` is truncated to it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer (or anyone, if not
    /// connected). A datagram longer than `buf` is truncated to it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }

    /// The address this socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address given to [`connect`](Self::connect) (or the pair's
    /// other end).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the read side (pending and later `recv`s return 0), the
    /// write side (`send`s fail) or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }

    /// Waits until the socket is readable (see [`Async::readable`]).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the socket is writable (see [`Async::writable`]).
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.inner.get_ref())
            .finish()
    }
}

super::fd_impls!(UnixDatagram);
