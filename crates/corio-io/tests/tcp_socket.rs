//! `TcpSocket`: options set before connecting or listening, on real
//! loopback sockets.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::block_on_within;
use corio_io::io::{AsyncReadExt, AsyncWriteExt};
use corio_io::net::{TcpListener, TcpSocket};
use socket2::SockRef;

const LIMIT: Duration = Duration::from_secs(60);

fn loopback_v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn options_set_before_connect_stay_on_the_stream() {
    block_on_within(LIMIT, async {
        let server = TcpSocket::new_v4().unwrap();
        server.set_reuseaddr(true).unwrap();
        assert!(server.reuseaddr().unwrap());
        server.bind(loopback_v4()).unwrap();
        let addr = server.local_addr().unwrap();
        let listener = server.listen(64).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);

        let client = TcpSocket::new_v4().unwrap();
        assert!(!client.keepalive().unwrap());
        client.set_keepalive(true).unwrap();
        client.set_nodelay(true).unwrap();
        client.set_send_buffer_size(96 * 1024).unwrap();
        client.set_recv_buffer_size(80 * 1024).unwrap();
        // Linux doubles the value and may clamp it; never below what we
        // asked for on a default configuration.
        assert!(client.send_buffer_size().unwrap() >= 96 * 1024);
        assert!(client.recv_buffer_size().unwrap() >= 80 * 1024);
        let sndbuf = client.send_buffer_size().unwrap();
        let mut stream = client.connect(addr).await.unwrap();

        // The options travelled with the socket (read back through AsFd).
        let sock = SockRef::from(&stream);
        assert!(sock.keepalive().unwrap());
        assert!(sock.tcp_nodelay().unwrap());
        assert_eq!(sock.send_buffer_size().unwrap() as u32, sndbuf);

        let (mut served, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
        stream.write_all(b"options").await.unwrap();
        let mut buf = [0u8; 7];
        served.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"options");
    });
}

#[test]
fn bind_before_connect_chooses_the_local_address() {
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpSocket::new_v4().unwrap();
        client.bind(loopback_v4()).unwrap();
        let local = client.local_addr().unwrap();
        assert_ne!(local.port(), 0);
        let stream = client
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        assert_eq!(stream.local_addr().unwrap(), local);
        let (_served, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local);
    });
}

#[test]
fn reuseport_lets_two_listeners_share_a_port() {
    block_on_within(LIMIT, async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        assert!(first.reuseport().unwrap());
        first.bind(loopback_v4()).unwrap();
        let addr = first.local_addr().unwrap();
        let first = first.listen(16).unwrap();

        // Without SO_REUSEPORT the port is taken...
        let plain = TcpSocket::new_v4().unwrap();
        let err = plain.bind(addr).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);

        // ...with it, a second listener shares it.
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let second = second.listen(16).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);

        // Connections reach one of the two: accept on both until each
        // client is accepted.
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(TcpSocket::new_v4().unwrap().connect(addr).await.unwrap());
        }
        let mut accepted = 0;
        while accepted < clients.len() {
            let (r, _) = futures_lite::future::or(first.accept(), second.accept())
                .await
                .unwrap();
            assert_eq!(r.local_addr().unwrap(), addr);
            accepted += 1;
        }
    });
}

#[test]
fn linger_zero_resets_the_connection_on_close() {
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpSocket::new_v4().unwrap();
        assert_eq!(client.linger().unwrap(), None);
        client.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
        let stream = client
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut served, _) = listener.accept().await.unwrap();
        drop(stream);
        // An abortive close: the peer sees a reset, not end-of-file.
        let mut buf = [0u8; 8];
        let err = served.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    });
}

#[test]
fn ipv6_loopback() {
    block_on_within(LIMIT, async {
        let server = TcpSocket::new_v6().unwrap();
        server.bind("[::1]:0".parse().unwrap()).unwrap();
        let addr = server.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let listener = server.listen(16).unwrap();
        let mut stream = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
        let (mut served, _) = listener.accept().await.unwrap();
        served.write_all(b"v6").await.unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    block_on_within(LIMIT, async {
        // A port that was just free: bound, then closed.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn a_std_stream_socket_is_adopted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let std = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let local = std.local_addr().unwrap();
    let socket = TcpSocket::from_std_stream(std).unwrap();
    assert_eq!(socket.local_addr().unwrap(), local);
    // Switched to non-blocking mode, as every corio socket is.
    let nonblocking = SockRef::from(&socket).nonblocking().unwrap();
    assert!(nonblocking);
}
