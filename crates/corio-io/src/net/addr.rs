//! [`ToSocketAddrs`]: what `connect` and `bind` accept, and resolving it
//! without blocking the caller.
//!
//! std's `ToSocketAddrs` resolves host names with a blocking
//! `getaddrinfo`; called inside a task, it stalls the worker thread (and
//! every task queued behind it) for as long as DNS takes. corio's own trait
//! accepts the same argument types, but tells literal addresses (parsed on
//! the spot, at no extra cost) from host names, which are looked up off the
//! caller's thread (`crate::blocking`: the runtime's blocking pool under
//! corio, a thread of its own otherwise).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::vec;

use crate::blocking;

/// Arguments that name socket addresses: a [`SocketAddr`], an `(ip, port)`
/// pair, a `"host:port"` string or a `(host, port)` pair, or a slice of
/// addresses: what std's `ToSocketAddrs` accepts.
///
/// Unlike std's, resolving a host name does not block the calling thread:
/// it runs on the blocking pool (asyncio's `loop.getaddrinfo`, which runs
/// `socket.getaddrinfo` in the default executor). Literal addresses
/// (`"127.0.0.1:80"`, `"[::1]:80"`, `("10.0.0.1", 80)`) are parsed in
/// place and never leave the thread.
///
/// This trait is sealed: corio implements it for the types above, and its
/// method is an implementation detail.
///
/// ```
/// use corio_io::net::TcpListener;
/// futures_lite::future::block_on(async {
///     // All of these are accepted:
///     let a = TcpListener::bind("127.0.0.1:0").await?;
///     let b = TcpListener::bind(("127.0.0.1", 0)).await?;
///     let c = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
///     let d = TcpListener::bind(&[a.local_addr()?, b.local_addr()?][..]).await;
///     assert!(d.is_err()); // both taken
///     // A host name is looked up off this thread.
///     let e = TcpListener::bind(String::from("localhost:0")).await?;
///     assert!(e.local_addr()?.ip().is_loopback());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub trait ToSocketAddrs: sealed::Sealed {
    /// Literal addresses at once, or the host name to look up.
    #[doc(hidden)]
    fn __to_addrs(&self) -> io::Result<Addrs>;
}

mod sealed {
    /// Keeps [`ToSocketAddrs`](super::ToSocketAddrs) implemented by corio
    /// only.
    pub trait Sealed {}
}

/// What a [`ToSocketAddrs`] argument names: addresses ready to use, or a
/// host name and port that need a lookup.
#[doc(hidden)]
#[derive(Debug)]
pub enum Addrs {
    /// Parsed in place.
    Ready(Vec<SocketAddr>),
    /// A host name (not an IP literal) and a port.
    Lookup(String, u16),
}

/// Resolves `addr`: literal addresses at once, host names off this thread
/// (see the module docs). An empty result is not an error here; callers
/// say what was missing.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> io::Result<vec::IntoIter<SocketAddr>> {
    match addr.__to_addrs()? {
        Addrs::Ready(v) => Ok(v.into_iter()),
        Addrs::Lookup(host, port) => {
            let found = blocking::unblock(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(Iterator::collect::<Vec<_>>)
            })
            .await??;
            Ok(found.into_iter())
        }
    }
}

/// Resolves `addr` on behalf of the facade's `lookup_host` (which lives in
/// `corio` beside the runtime, as DESIGN.md places it).
#[doc(hidden)]
pub async fn __lookup_host<A: ToSocketAddrs>(addr: A) -> io::Result<vec::IntoIter<SocketAddr>> {
    resolve(&addr).await
}

/// `host:port` split at the last colon, as std splits it; the errors are
/// std's.
fn split_host_port(s: &str) -> io::Result<(&str, u16)> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid socket address"))?;
    let port = port
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid port value"))?;
    Ok((host, port))
}

/// A `(host, port)` pair: an IP literal at once, anything else a lookup.
fn host_port(host: &str, port: u16) -> Addrs {
    match host.parse::<IpAddr>() {
        Ok(ip) => Addrs::Ready(vec![SocketAddr::new(ip, port)]),
        Err(_) => Addrs::Lookup(host.to_owned(), port),
    }
}

/// Implements [`ToSocketAddrs`] for types that convert to one address.
macro_rules! one_addr {
    ($($ty:ty),*) => {
        $(
            impl sealed::Sealed for $ty {}
            impl ToSocketAddrs for $ty {
                fn __to_addrs(&self) -> io::Result<Addrs> {
                    Ok(Addrs::Ready(vec![SocketAddr::from(*self)]))
                }
            }
        )*
    };
}

one_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl sealed::Sealed for str {}
impl ToSocketAddrs for str {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        // A literal (`1.2.3.4:80`, `[::1]:80`) needs no lookup.
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Ok(Addrs::Ready(vec![addr]));
        }
        let (host, port) = split_host_port(self)?;
        Ok(host_port(host, port))
    }
}

impl sealed::Sealed for String {}
impl ToSocketAddrs for String {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        self.as_str().__to_addrs()
    }
}

impl sealed::Sealed for (&str, u16) {}
impl ToSocketAddrs for (&str, u16) {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        Ok(host_port(self.0, self.1))
    }
}

impl sealed::Sealed for (String, u16) {}
impl ToSocketAddrs for (String, u16) {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        Ok(host_port(&self.0, self.1))
    }
}

impl sealed::Sealed for [SocketAddr] {}
impl ToSocketAddrs for [SocketAddr] {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        Ok(Addrs::Ready(self.to_vec()))
    }
}

impl sealed::Sealed for Vec<SocketAddr> {}
impl ToSocketAddrs for Vec<SocketAddr> {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        Ok(Addrs::Ready(self.clone()))
    }
}

impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn __to_addrs(&self) -> io::Result<Addrs> {
        (**self).__to_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(a: impl ToSocketAddrs) -> Vec<SocketAddr> {
        match a.__to_addrs().unwrap() {
            Addrs::Ready(v) => v,
            Addrs::Lookup(h, p) => panic!("{h}:{p} should not need a lookup"),
        }
    }

    fn lookup(a: impl ToSocketAddrs) -> (String, u16) {
        match a.__to_addrs().unwrap() {
            Addrs::Lookup(h, p) => (h, p),
            Addrs::Ready(v) => panic!("{v:?} is not a lookup"),
        }
    }

    #[test]
    fn literals_are_parsed_in_place() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80"), vec![v4]);
        assert_eq!(ready("[::1]:80"), vec![v6]);
        assert_eq!(ready(String::from("127.0.0.1:80")), vec![v4]);
        assert_eq!(ready(("127.0.0.1", 80)), vec![v4]);
        assert_eq!(ready(("::1", 80)), vec![v6]);
        assert_eq!(ready((String::from("::1"), 80)), vec![v6]);
        assert_eq!(ready(v4), vec![v4]);
        let by_ref: &SocketAddr = &v4;
        assert_eq!(ready(by_ref), vec![v4]);
        assert_eq!(ready((Ipv4Addr::LOCALHOST, 80)), vec![v4]);
        assert_eq!(ready((Ipv6Addr::LOCALHOST, 80)), vec![v6]);
        assert_eq!(ready(&[v4, v6][..]), vec![v4, v6]);
        assert_eq!(ready(vec![v6]), vec![v6]);
        // std's split: an unbracketed IPv6 literal with a port.
        assert_eq!(ready("::1:80"), vec![v6]);
    }

    #[test]
    fn names_need_a_lookup() {
        assert_eq!(lookup("localhost:80"), ("localhost".into(), 80));
        assert_eq!(
            lookup(("example.invalid", 7)),
            ("example.invalid".into(), 7)
        );
        let nested: &&str = &"a.b:1";
        assert_eq!(lookup(nested), ("a.b".into(), 1));
    }

    #[test]
    fn malformed_strings_are_std_errors() {
        for bad in ["localhost", "localhost:http", "1.2.3.4:99999"] {
            let e = bad.__to_addrs().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
