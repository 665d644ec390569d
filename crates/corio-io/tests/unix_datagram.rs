//! `UnixDatagram` on real sockets.

mod common;

use std::time::Duration;

use common::block_on_within;
use corio_io::net::UnixDatagram;
use futures_lite::future::poll_once;

const LIMIT: Duration = Duration::from_secs(60);

fn socket_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("corio-io-dg-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn recv_waits_for_a_datagram_and_keeps_boundaries() {
    block_on_within(LIMIT, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 64];
        {
            let mut recv = std::pin::pin!(b.recv(&mut buf));
            // Nothing sent yet: the receive waits...
            assert!(poll_once(recv.as_mut()).await.is_none());
            a.send(b"first").await.unwrap();
            a.send(b"second, longer").await.unwrap();
            // ...and the readiness edge completes it with the first datagram
            // whole.
            assert_eq!(recv.await.unwrap(), 5);
        }
        assert_eq!(&buf[..5], b"first");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second, longer");
    });
}

#[test]
fn send_to_and_recv_from_name_the_sender() {
    let (pa, pb) = (socket_path("a"), socket_path("b"));
    block_on_within(LIMIT, async {
        let a = UnixDatagram::bind(&pa).unwrap();
        let b = UnixDatagram::bind(&pb).unwrap();
        assert_eq!(a.local_addr().unwrap().as_pathname(), Some(pa.as_path()));
        a.send_to(b"to b", &pb).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(pa.as_path()));
        // The reply goes back to the address recv_from reported.
        b.send_to(b"to a", from.as_pathname().unwrap())
            .await
            .unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"to a");
    });
    std::fs::remove_file(&pa).unwrap();
    std::fs::remove_file(&pb).unwrap();
}

#[test]
fn an_unbound_socket_connects_and_sends() {
    let path = socket_path("server");
    block_on_within(LIMIT, async {
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        assert!(client.peer_addr().is_err());
        client.connect(&path).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        client.send(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi");
        // An unbound sender has no address to reply to.
        assert!(from.is_unnamed());
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn send_waits_while_the_receivers_queue_is_full() {
    block_on_within(LIMIT, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let msg = [7u8; 1024];
        // Fill the receiver's queue until a send has to wait.
        let mut sent = 0usize;
        while let Some(r) = poll_once(a.send(&msg)).await {
            r.unwrap();
            sent += 1;
            assert!(sent < 1_000_000, "the queue never filled");
        }
        let mut send = std::pin::pin!(a.send(&msg));
        assert!(poll_once(send.as_mut()).await.is_none());
        // Draining the queue makes room: the waiting send completes.
        let mut buf = [0u8; 1024];
        let mut drained = 0;
        let sender_done = loop {
            if let Some(r) = poll_once(send.as_mut()).await {
                break r;
            }
            assert!(
                drained < sent,
                "drained everything and the send still waits"
            );
            assert_eq!(b.recv(&mut buf).await.unwrap(), 1024);
            drained += 1;
        };
        assert_eq!(sender_done.unwrap(), 1024);
    });
}
