//! What std does not give the net types: non-blocking sockets and
//! `connect(2)` (through socket2), and, for any descriptor, `O_NONBLOCK` and
//! a zero-timeout `poll(2)` (through libc: socket2's calls are for sockets,
//! while `Async<T>` takes pipes, ttys and eventfds too).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl with F_GETFL/F_SETFL reads and writes only the flags of
    // `fd`, which is open (borrowed).
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        if flags & libc::O_NONBLOCK == 0
            && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether `fd` is readable (`write == false`) or writable right now.
/// Errors and hang-ups count as ready: the next operation reports them.
pub(crate) fn poll_now(fd: BorrowedFd<'_>, write: bool) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: if write { libc::POLLOUT } else { libc::POLLIN },
        revents: 0,
    };
    loop {
        // SAFETY: `pfd` is a valid, exclusively borrowed pollfd array of one
        // naming an open (borrowed) descriptor.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n >= 0 {
            return Ok(n > 0 && pfd.revents != 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A new non-blocking, close-on-exec socket of `domain` and `ty`, in one
/// system call where the OS takes `SOCK_NONBLOCK`.
pub(crate) fn socket(domain: Domain, ty: Type) -> io::Result<Socket> {
    // socket2 sets close-on-exec itself (with SOCK_CLOEXEC where it can).
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos",
    ))]
    {
        Socket::new(domain, ty.nonblocking(), None)
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos",
    )))]
    {
        let socket = Socket::new(domain, ty, None)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Starts a non-blocking connect of `socket` to `addr`. Returns whether the
/// connection is already established (`false`: in progress, wait for
/// writability, then ask [`connect_outcome`]).
pub(crate) fn start_connect(socket: &Socket, addr: &SockAddr) -> io::Result<bool> {
    match socket.connect(addr) {
        Ok(()) => Ok(true),
        // EINTR on a non-blocking connect: the attempt goes on
        // asynchronously, as with EINPROGRESS.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINPROGRESS) | Some(libc::EINTR)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Where a non-blocking connect stands, from `SO_ERROR` (`take_error`) and
/// then `getpeername` (`peer_addr`): connected, failed, or still in
/// progress (reported as `WouldBlock`, so the caller waits for the edge).
pub(crate) fn connect_outcome(
    error: io::Result<Option<io::Error>>,
    peer: io::Result<()>,
) -> io::Result<()> {
    match (error?, peer) {
        (Some(e), _) => Err(e),
        (None, Err(e)) if e.kind() == io::ErrorKind::NotConnected => {
            Err(io::ErrorKind::WouldBlock.into())
        }
        (None, peer) => peer,
    }
}

/// Starts a non-blocking TCP connect to `addr`; the socket and whether it
/// is already connected.
pub(crate) fn connect_tcp(addr: SocketAddr) -> io::Result<(Socket, bool)> {
    let socket = socket(Domain::for_address(addr), Type::STREAM)?;
    let done = start_connect(&socket, &addr.into())?;
    Ok((socket, done))
}

/// Backlog of the listeners `TcpListener::bind` creates: std's uses 128,
/// which a burst of connections (a load test, a thousand clients at once)
/// overflows, costing the dropped clients a one-second SYN retry. The kernel
/// caps it at `net.core.somaxconn`.
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// A non-blocking TCP listener bound to `addr` (with `SO_REUSEADDR`, as
/// std's) and listening with [`LISTEN_BACKLOG`].
pub(crate) fn bind_tcp_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = socket(Domain::for_address(addr), Type::STREAM)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Starts a non-blocking Unix stream connect to `path`; the socket and
/// whether it is already connected.
pub(crate) fn connect_unix(path: &Path) -> io::Result<(Socket, bool)> {
    // Checks the path's length (it must fit `sun_path`).
    let addr = SockAddr::unix(path)?;
    let socket = socket(Domain::UNIX, Type::STREAM)?;
    let done = start_connect(&socket, &addr)?;
    Ok((socket, done))
}
