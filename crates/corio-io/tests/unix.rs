//! Unix domain stream sockets.

mod common;

use std::time::Duration;

use common::block_on_within;
use corio_io::io::{AsyncReadExt, AsyncWriteExt};
use corio_io::net::{UnixListener, UnixStream};
use futures_lite::StreamExt;

const LIMIT: Duration = Duration::from_secs(60);

fn socket_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("corio-io-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn unix_echo_server() {
    let path = socket_path("echo");
    block_on_within(LIMIT, async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = async {
            let mut incoming = listener.incoming();
            for _ in 0..10 {
                let s = incoming.next().await.unwrap().unwrap();
                let (mut r, mut w) = s.split();
                corio_io::io::copy(&mut r, &mut w).await.unwrap();
                w.close().await.unwrap();
            }
        };
        let clients = async {
            for i in 0..10u8 {
                let mut c = UnixStream::connect(&path).await.unwrap();
                let msg = vec![i; 100_000];
                let (mut r, mut w) = c.split();
                let write = async {
                    w.write_all(&msg).await.unwrap();
                    w.close().await.unwrap();
                };
                let read = async {
                    let mut back = Vec::new();
                    r.read_to_end(&mut back).await.unwrap();
                    back
                };
                let ((), back) = futures_lite::future::zip(write, read).await;
                assert_eq!(back, msg);
                let mut rest = Vec::new();
                assert_eq!(c.read_to_end(&mut rest).await.unwrap(), 0);
            }
        };
        futures_lite::future::zip(server, clients).await;
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_addresses_pair_and_errors() {
    let path = socket_path("addr");
    block_on_within(LIMIT, async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let c = UnixStream::connect(&path).await.unwrap();
        let (s, _) = listener.accept().await.unwrap();
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert!(s.local_addr().unwrap().as_pathname().is_some());

        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"pair").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pair");

        let missing = socket_path("missing");
        let err = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
    std::fs::remove_file(&path).unwrap();
}
