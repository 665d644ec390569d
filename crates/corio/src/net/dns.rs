//! [`lookup_host`]: asyncio's `loop.getaddrinfo`.

use std::io;
use std::net::SocketAddr;

use corio_io::net::ToSocketAddrs;

/// Resolves `host` to socket addresses without blocking the worker
/// (asyncio: `await loop.getaddrinfo(host, port)`, which runs the system
/// resolver in the default executor).
///
/// `host` is anything [`ToSocketAddrs`] accepts: `"name:port"`,
/// `("name", port)`, or literal addresses. A host name goes to the system
/// resolver (`getaddrinfo`: `/etc/hosts`, then DNS, as every program on the
/// machine resolves it) on the runtime's blocking pool, like
/// [`to_thread`](crate::to_thread), while the calling task waits and the
/// worker runs other tasks. Literal addresses are parsed on the spot and
/// never leave the thread. Outside a corio runtime (another executor, a bare
/// `block_on`) the lookup runs on a thread of its own.
///
/// The addresses come in the resolver's order (for a name with both
/// families, usually as the system's address selection policy prefers);
/// [`TcpStream::connect`](crate::net::TcpStream::connect) tries them in that
/// order, which is what it does with a name itself.
///
/// # Errors
///
/// The resolver's error when the name does not resolve, and
/// `InvalidInput` for a string that is not `host:port`.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
///
/// corio::run(async {
///     let addrs: Vec<SocketAddr> = corio::net::lookup_host("localhost:8080").await?.collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
///     assert!(addrs.contains(&SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))));
///
///     // A literal needs no lookup.
///     let mut one = corio::net::lookup_host(("10.0.0.1", 53)).await?;
///     assert_eq!(one.next(), Some(SocketAddr::from(([10, 0, 0, 1], 53))));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(host: T) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    // The lookup itself is corio-io's, shared with `connect` and `bind`;
    // the runtime installed the spawner that puts it on its blocking pool
    // (corio-rt's `Builder::build`).
    corio_io::net::__lookup_host(host).await
}
