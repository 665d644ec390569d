//! A task that holds one worker in a single long poll (no `.await` for as
//! long as the test runs) must not hold up I/O for tasks that another
//! worker can run: readiness is polled by the idle worker (or the backup
//! thread, which hands it over), the woken task goes to a worker that runs,
//! and a task stranded in the busy worker's LIFO slot is taken by the
//! monitor's notice. The hog stops only once the client has had all its
//! replies, so if the woken work did not move, this would hang and the
//! watchdog would fail it.
//!
//! Its own binary, so that no other test's idle worker polls for this one.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::TcpListener;

mod common;

use common::{runtime, with_watchdog};

const EXCHANGES: u8 = 100;

#[test]
fn io_moves_while_a_worker_is_stuck_in_one_poll() {
    with_watchdog("long poll", || {
        let rt = runtime(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = rt.spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).await.is_ok() {
                s.write_all(&b).await.unwrap();
            }
        });

        let done = Arc::new(AtomicBool::new(false));
        let hog_polls = Arc::new(AtomicU32::new(0));
        let hog = {
            let (done, hog_polls) = (done.clone(), hog_polls.clone());
            rt.spawn(async move {
                hog_polls.fetch_add(1, Ordering::SeqCst);
                // One poll, however long the client takes.
                while !done.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
            })
        };
        while hog_polls.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }

        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        for i in 0..EXCHANGES {
            client.write_all(&[i]).unwrap();
            client.read_exact(&mut b).unwrap();
            assert_eq!(b[0], i);
        }
        // Every reply came while the hog was still in its one poll.
        assert_eq!(hog_polls.load(Ordering::SeqCst), 1);
        done.store(true, Ordering::SeqCst);
        rt.block_on(hog).unwrap();
        drop(client);
        rt.block_on(echo).unwrap();
    });
}
