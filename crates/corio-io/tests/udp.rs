//! UDP round trips over loopback.

mod common;

use std::time::Duration;

use common::block_on_within;
use corio_io::net::UdpSocket;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn udp_round_trips() {
    block_on_within(LIMIT, async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let client_addr = client.local_addr().unwrap();

        let echo = async {
            let mut buf = [0u8; 1500];
            for _ in 0..1000 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(from, client_addr);
                server.send_to(&buf[..n], from).await.unwrap();
            }
        };
        let ping = async {
            let mut buf = [0u8; 1500];
            for i in 0..1000u32 {
                let msg = i.to_be_bytes();
                client.send_to(&msg, server_addr).await.unwrap();
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!(from, server_addr);
                assert_eq!(&buf[..n], &msg);
            }
        };
        futures_lite::future::zip(echo, ping).await;
    });
}

#[test]
fn udp_connected_send_recv_and_peek() {
    block_on_within(LIMIT, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

        // recv waits for a datagram sent later from another thread.
        let b_addr = b.local_addr().unwrap();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.send_to(b"stranger", b_addr).unwrap();
        });
        a.send(b"hello").await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr().unwrap()));
        assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
        sender.join().unwrap();
        // The connected socket filters out the stranger's datagram.
        a.send(b"again").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"again");

        a.set_broadcast(true).unwrap();
        assert!(a.broadcast().unwrap());
    });
}
