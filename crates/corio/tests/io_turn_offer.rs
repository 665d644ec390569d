//! A worker that sleeps off the I/O driver's turn is offered it when the
//! turn is left free: when the driver starts (the worker parked before any
//! socket existed) and when the backup thread ends a turn (the worker parked
//! while the backup polled). Without the offer such a worker never polls
//! again, and every readiness event of a `block_on` main future waits for
//! the backup thread's grace period instead.
//!
//! Its own binary (its own process) on purpose: the driver is process-wide,
//! and its start is one of the two paths under test.

use std::io::{Read, Write};
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::TcpStream;

mod common;

use common::{runtime, with_watchdog, BOUND};

/// An echo server on a plain thread: echoes single bytes on one connection.
fn echo_thread() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() {
            if s.write_all(&b).is_err() {
                break;
            }
        }
    });
    (addr, t)
}

/// `n` request/reply exchanges from the calling (main) future.
async fn exchanges(addr: std::net::SocketAddr, n: u8) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut b = [0u8; 1];
    for i in 0..n {
        s.write_all(&[i]).await.unwrap();
        s.read_exact(&mut b).await.unwrap();
        assert_eq!(b[0], i);
    }
}

fn worker_turns(rt: &corio::runtime::Runtime) -> u64 {
    rt.metrics().driver_turns_by_workers
}

/// Waits (bounded) until `cond` holds.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {BOUND:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn idle_workers_take_the_turn_when_it_is_offered() {
    with_watchdog("turn offers", || {
        // One worker, parked before this process has a driver: its park
        // found no turn to take, so it registered for one.
        let rt = runtime(1);
        wait_until("the worker parks", || rt.metrics().workers[0].parks > 0);
        assert_eq!(worker_turns(&rt), 0);

        // The main future's first socket starts the driver, which must offer
        // the turn to the sleeping worker: the worker then polls for the
        // main future (with the mutant `corio_mutant_no_turn_wait`, or
        // without the offer, it never takes a turn and this fails).
        let (addr, echo) = echo_thread();
        rt.block_on(exchanges(addr, 50));
        echo.join().unwrap();
        assert!(
            worker_turns(&rt) > 0,
            "the worker never took the driver's turn after the driver started"
        );

        // Now make the backup thread hold the turn while the worker parks:
        // the worker is stuck in one poll (so it cannot poll) until the
        // backup has taken a turn, then goes idle while the backup still
        // blocks in its poll.
        let backup_before = rt.metrics().driver_turns_by_backup;
        let release = Arc::new(AtomicBool::new(false));
        let stuck = {
            let release = release.clone();
            rt.spawn(async move {
                while !release.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
            })
        };
        wait_until("the backup thread takes a turn", || {
            rt.metrics().driver_turns_by_backup > backup_before
        });
        release.store(true, Ordering::SeqCst);
        rt.block_on(stuck).unwrap();
        wait_until("the worker parks again", || {
            rt.metrics().num_unparked_workers == 0
        });

        // The backup's next turn ends with the main future's first event;
        // it must hand the turn to the worker, which then takes turns.
        let before = worker_turns(&rt);
        let (addr, echo) = echo_thread();
        rt.block_on(exchanges(addr, 50));
        echo.join().unwrap();
        assert!(
            worker_turns(&rt) > before,
            "the worker never took the turn back from the backup thread"
        );
    });
}
