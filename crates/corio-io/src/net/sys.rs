//! The few system calls std does not expose: `O_NONBLOCK` on any
//! descriptor, non-blocking `connect(2)`, and a zero-timeout `poll(2)`.

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL reads and writes only the flags of
    // `fd`; an invalid `fd` yields EBADF, which we report.
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
pub(crate) fn poll_now(fd: RawFd, write: bool) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: if write { libc::POLLOUT } else { libc::POLLIN },
        revents: 0,
    };
    loop {
        // SAFETY: `pfd` is a valid, exclusively borrowed pollfd array of one.
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

/// A new non-blocking, close-on-exec stream socket of `domain`.
fn stream_socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let ty = libc::SOCK_STREAM;
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(domain, ty, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        set_nonblocking(fd)?;
        // SAFETY: sets FD_CLOEXEC on a descriptor we own.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(owned)
}

/// Starts a non-blocking connect. Returns the socket and whether the
/// connection is already established (`false`: in progress, wait for
/// writability then check `SO_ERROR`).
fn start_connect(
    domain: libc::c_int,
    addr: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> io::Result<(OwnedFd, bool)> {
    let sock = stream_socket(domain)?;
    use std::os::fd::AsRawFd;
    // SAFETY: `addr` points to an initialised sockaddr of `len` bytes.
    let r = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (addr as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if r == 0 {
        return Ok((sock, true));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // EINTR on a non-blocking connect: the attempt goes on asynchronously.
        Some(libc::EINPROGRESS) | Some(libc::EINTR) => Ok((sock, false)),
        _ => Err(e),
    }
}

/// The C form of a socket address: storage, its length and its domain.
fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t, libc::c_int) {
    // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let (domain, len) = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any
            // sockaddr type; we write only sockaddr_in fields.
            let sin = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            (libc::AF_INET, mem::size_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            (libc::AF_INET6, mem::size_of::<libc::sockaddr_in6>())
        }
    };
    (storage, len as libc::socklen_t, domain)
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

/// Non-blocking TCP connect to `addr`.
pub(crate) fn connect_tcp(addr: SocketAddr) -> io::Result<(std::net::TcpStream, bool)> {
    let (storage, len, domain) = sockaddr_of(addr);
    let (fd, done) = start_connect(domain, &storage, len)?;
    Ok((std::net::TcpStream::from(fd), done))
}

/// Backlog of the listeners we create: std's `TcpListener::bind` uses 128,
/// which a burst of connections (a load test, a thousand clients at once)
/// overflows, costing the dropped clients a one-second SYN retry. The kernel
/// caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: libc::c_int = 1024;

/// A non-blocking TCP listener bound to `addr` (with `SO_REUSEADDR`, as
/// std's) and listening with [`LISTEN_BACKLOG`].
pub(crate) fn bind_tcp_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use std::os::fd::AsRawFd;
    let (storage, len, domain) = sockaddr_of(addr);
    let sock = stream_socket(domain)?;
    let fd = sock.as_raw_fd();
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&one`; bind
    // reads `len` bytes of the initialised `storage`; listen takes only ints.
    unsafe {
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) < 0
        {
            return Err(io::Error::last_os_error());
        }
        if libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, LISTEN_BACKLOG) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(std::net::TcpListener::from(sock))
}

/// Non-blocking Unix stream connect to `path`.
pub(crate) fn connect_unix(path: &Path) -> io::Result<(std::os::unix::net::UnixStream, bool)> {
    // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_un.
    let sun =
        unsafe { &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= sun.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path must be shorter than SUN_LEN",
        ));
    }
    for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let path_offset = mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = path_offset + bytes.len() + 1;
    let (fd, done) = start_connect(libc::AF_UNIX, &storage, len as libc::socklen_t)?;
    Ok((std::os::unix::net::UnixStream::from(fd), done))
}
