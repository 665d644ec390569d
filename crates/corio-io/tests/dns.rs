//! Host names are resolved off the awaiting thread, through the spawner an
//! executor installs; literal addresses never are. This binary installs a
//! spawner that parks the jobs so the test decides when they run: one test
//! function, since the spawner is process-wide.

mod common;

use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::Duration;

use common::block_on_within;
use corio_io::blocking::{set_spawner, Job};
use corio_io::net::{TcpListener, TcpStream, UdpSocket};
use futures_lite::future::poll_once;

const LIMIT: Duration = Duration::from_secs(60);

/// Jobs handed to the spawner, not yet run.
static PARKED: Mutex<Vec<Job>> = Mutex::new(Vec::new());

fn park(job: Job) -> Result<(), Job> {
    PARKED.lock().unwrap().push(job);
    Ok(())
}

fn parked() -> usize {
    PARKED.lock().unwrap().len()
}

/// Runs every parked job on a thread of its own (as a pool would).
fn run_parked() {
    let jobs: Vec<Job> = PARKED.lock().unwrap().drain(..).collect();
    for job in jobs {
        std::thread::spawn(job);
    }
}

#[test]
fn names_go_to_the_spawner_and_literals_do_not() {
    assert!(set_spawner(park));
    block_on_within(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port();

        // Literal addresses, in every form: resolved in place.
        TcpStream::connect(addr).await.unwrap();
        TcpStream::connect(&addr).await.unwrap();
        TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        TcpStream::connect(&[addr][..]).await.unwrap();
        let _l = TcpListener::bind(("::1", 0)).await.unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp.send_to(b"x", ("127.0.0.1", port)).await.unwrap();
        assert_eq!(parked(), 0, "a literal address was sent to the spawner");

        // A host name: the connect waits for the lookup, without blocking
        // this thread (the poll returns Pending, with the job parked).
        let mut connect = std::pin::pin!(TcpStream::connect(("localhost", port)));
        assert!(poll_once(connect.as_mut()).await.is_none());
        assert_eq!(parked(), 1);
        run_parked();
        let stream = connect.await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        assert!(stream.peer_addr().unwrap().ip().is_loopback());

        // bind and send_to take names the same way.
        let mut bind = std::pin::pin!(TcpListener::bind("localhost:0"));
        assert!(poll_once(bind.as_mut()).await.is_none());
        run_parked();
        assert!(bind.await.unwrap().local_addr().unwrap().ip().is_loopback());
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_port = peer.local_addr().unwrap().port();
        let mut send = std::pin::pin!(udp.send_to(b"by name", ("localhost", peer_port)));
        assert!(poll_once(send.as_mut()).await.is_none());
        run_parked();
        send.await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"by name");
        assert_eq!(from, udp.local_addr().unwrap());

        // A job the pool drops without running (its runtime shut down)
        // fails the connect instead of hanging it.
        let mut connect = std::pin::pin!(TcpStream::connect(("localhost", port)));
        assert!(poll_once(connect.as_mut()).await.is_none());
        PARKED.lock().unwrap().clear();
        let err = connect.await.unwrap_err();
        assert!(err.to_string().contains("dropped"), "{err}");

        // A malformed string is an error at once, with no lookup.
        let err = TcpStream::connect("localhost").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(parked(), 0);
    });
}
