//! Every net type lends its descriptor I/O-safely (`AsFd`), and `AsRawFd`
//! names the same descriptor.

mod common;

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use common::block_on_within;
use corio_io::net::{
    TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};
use socket2::SockRef;

/// The socket's local address as the OS reports it through the borrowed
/// descriptor, after checking that both traits name one descriptor.
fn local_through_fd<T: AsFd + AsRawFd>(x: &T) -> socket2::SockAddr {
    assert_eq!(x.as_fd().as_raw_fd(), x.as_raw_fd());
    SockRef::from(x).local_addr().unwrap()
}

#[test]
fn every_net_type_is_as_fd() {
    block_on_within(Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(local_through_fd(&listener).as_socket(), Some(addr));
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            local_through_fd(&stream).as_socket(),
            Some(stream.local_addr().unwrap())
        );
        // A borrowed descriptor reaches options corio has no method for.
        SockRef::from(&stream)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(Duration::from_secs(30)))
            .unwrap();
        assert!(SockRef::from(&stream).keepalive().unwrap());

        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            local_through_fd(&udp).as_socket(),
            Some(udp.local_addr().unwrap())
        );

        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_eq!(
            local_through_fd(&socket).as_socket(),
            Some(socket.local_addr().unwrap())
        );

        let path = std::env::temp_dir().join(format!("corio-io-asfd-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let unix_listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            local_through_fd(&unix_listener).as_pathname(),
            Some(path.as_path())
        );
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(local_through_fd(&a).is_unnamed());
        let (d, _e) = UnixDatagram::pair().unwrap();
        assert!(local_through_fd(&d).is_unnamed());
        std::fs::remove_file(&path).unwrap();
    });
}
