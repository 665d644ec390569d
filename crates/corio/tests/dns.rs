//! `corio::net::lookup_host` and connecting by name: lookups run on the
//! runtime's blocking pool, never on a worker; literals never leave the
//! task's thread.

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use common::{runtime, with_watchdog};

#[test]
fn lookup_host_runs_on_the_blocking_pool_and_literals_do_not() {
    with_watchdog("lookup_host", || {
        let rt = runtime(1);
        assert_eq!(rt.metrics().num_blocking_threads, 0);

        // Literals are parsed in the task: the blocking pool stays empty.
        let literal = rt
            .block_on(rt.spawn(async {
                let v4: Vec<_> = corio::net::lookup_host(("127.0.0.1", 80)).await?.collect();
                let v6: Vec<_> = corio::net::lookup_host("[::1]:443").await?.collect();
                std::io::Result::Ok((v4, v6))
            }))
            .unwrap()
            .unwrap();
        assert_eq!(literal.0, vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 80))]);
        assert_eq!(literal.1, vec!["[::1]:443".parse::<SocketAddr>().unwrap()]);
        assert_eq!(rt.metrics().num_blocking_threads, 0);

        // A name is resolved on the pool (a blocking thread now exists).
        let named: Vec<SocketAddr> = rt
            .block_on(rt.spawn(async { corio::net::lookup_host("localhost:8080").await }))
            .unwrap()
            .unwrap()
            .collect();
        assert!(!named.is_empty());
        assert!(named
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 8080));
        assert!(named.contains(&SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))));
        assert!(rt.metrics().num_blocking_threads >= 1);
    });
}

#[test]
fn connect_by_name_from_a_task() {
    with_watchdog("connect by name", || {
        let rt = runtime(1);
        rt.block_on(async {
            let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let client =
                corio::spawn(
                    async move { corio::net::TcpStream::connect(("localhost", port)).await },
                );
            let (_served, peer) = listener.accept().await.unwrap();
            let stream = client.await.unwrap().unwrap();
            assert_eq!(stream.local_addr().unwrap(), peer);
        });
        assert!(rt.metrics().num_blocking_threads >= 1);
    });
}

#[test]
fn lookup_host_outside_a_runtime() {
    // No runtime on this thread: the lookup gets a thread of its own.
    let addrs: Vec<SocketAddr> = with_watchdog("lookup_host outside", || {
        futures_lite::future::block_on(corio::net::lookup_host(("localhost", 1)))
    })
    .unwrap()
    .collect();
    assert!(addrs.contains(&SocketAddr::from((Ipv4Addr::LOCALHOST, 1))));
}

#[test]
fn a_malformed_name_is_invalid_input() {
    let rt = runtime(1);
    let err = rt
        .block_on(corio::net::lookup_host("no-port-here"))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
