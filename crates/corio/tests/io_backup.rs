//! The corio-io thread as the backup poller. This test has its own binary
//! (its own process) on purpose: the driver is process-wide, so the idle
//! workers of another test's runtime would poll for it and hide a backup
//! thread that never steps in.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::time::sleep;

mod common;

use common::{runtime, with_watchdog, BOUND};

/// Both workers are stuck in tasks that never yield until the I/O below is
/// done, so no worker can poll: the corio-io thread must step in as the
/// backup and complete a TCP round trip and a timer for the block_on thread.
#[test]
fn io_completes_while_every_worker_is_blocked() {
    with_watchdog("io with blocked workers", || {
        let rt = runtime(2);
        let release = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let mut blockers = Vec::new();
        for _ in 0..2 {
            let (release, started) = (release.clone(), started.clone());
            blockers.push(rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                while !release.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
            }));
        }
        let deadline = Instant::now() + BOUND;
        while started.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "blocking tasks never started");
            std::thread::yield_now();
        }
        let echoed = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf).await.unwrap();
            sleep(Duration::from_millis(5)).await;
            buf
        });
        assert_eq!(&echoed, b"ping");
        release.store(true, Ordering::SeqCst);
        for b in blockers {
            rt.block_on(b).unwrap();
        }
    });
}
