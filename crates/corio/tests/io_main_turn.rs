//! The `block_on` thread polls I/O itself once its future's events reach it
//! through a worker: the driver's turn is reserved for it
//! (`corio-rt/src/scheduler/main_park.rs`), so an asyncio-style program
//! that does its I/O in `main()` pays no thread hop per event.
//!
//! Counted in turns, not time: during a run of request/reply exchanges from
//! the main future, the workers take a turn for only a few of them. Without
//! the reservation every reply reaches the main future through a worker's
//! turn (at least one worker turn per exchange).
//!
//! Its own binary, so that no other test's runtime polls for this one.

use std::io::{Read, Write};
use std::net::TcpListener as StdListener;

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::TcpStream;

mod common;

use common::{runtime, with_watchdog};

const EXCHANGES: u32 = 400;

#[test]
fn main_future_io_is_polled_by_the_block_on_thread() {
    with_watchdog("main-future I/O", || {
        let rt = runtime(2);
        let l = StdListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).is_ok() {
                if s.write_all(&b).is_err() {
                    break;
                }
            }
        });
        let before = rt.metrics();
        rt.block_on(async {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [0u8; 1];
            for i in 0..EXCHANGES {
                s.write_all(&[i as u8]).await.unwrap();
                s.read_exact(&mut b).await.unwrap();
                assert_eq!(b[0], i as u8);
            }
        });
        echo.join().unwrap();
        let after = rt.metrics();
        let by_workers = after.driver_turns_by_workers - before.driver_turns_by_workers;
        let by_backup = after.driver_turns_by_backup - before.driver_turns_by_backup;
        assert!(
            by_workers + by_backup < u64::from(EXCHANGES) / 2,
            "{by_workers} worker turns and {by_backup} backup turns for {EXCHANGES} exchanges: \
             the main future's events did not reach its own thread"
        );
    });
}
