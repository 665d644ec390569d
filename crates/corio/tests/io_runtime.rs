//! I/O and timers under the multi-threaded runtime, where idle workers wait
//! for readiness in the driver's turn and the corio-io thread is the backup.
//!
//! Every wait here is bounded by a watchdog; a hang is a failure.

use std::time::{Duration, Instant};

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::time::sleep;

mod common;

use common::{runtime, with_watchdog};

/// Servers and clients all on the workers: 64 connections, 200 round trips
/// each, every byte checked. The tasks a worker's poll wakes run on that
/// worker; the second worker must still get its share of the work.
#[test]
fn many_connections_round_trip_on_the_workers() {
    with_watchdog("round trips", || {
        let rt = runtime(2);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corio::spawn(async move {
                let mut conns = Vec::new();
                for _ in 0..64 {
                    let (mut s, _) = listener.accept().await.unwrap();
                    conns.push(corio::spawn(async move {
                        let mut buf = [0u8; 64];
                        loop {
                            match s.read(&mut buf).await.unwrap() {
                                0 => return,
                                n => s.write_all(&buf[..n]).await.unwrap(),
                            }
                        }
                    }));
                }
                for c in conns {
                    c.await.unwrap();
                }
            });
            let mut clients = Vec::new();
            for c in 0..64u8 {
                clients.push(corio::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    let mut back = [0u8; 64];
                    for round in 0..200u32 {
                        let msg = [c ^ (round as u8); 64];
                        s.write_all(&msg).await.unwrap();
                        s.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, msg);
                    }
                }));
            }
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        });
    });
}

/// Timers armed by tasks on the workers fire (never early) while the
/// workers themselves sleep in the turn with the wheel's deadline as their
/// timeout.
#[test]
fn timers_fire_for_tasks_on_idle_workers() {
    with_watchdog("timers", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..100u64 {
                hs.push(corio::spawn(async move {
                    let d = Duration::from_millis(i % 10);
                    let start = Instant::now();
                    sleep(d).await;
                    assert!(start.elapsed() >= d, "timer fired early");
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
        });
    });
}
