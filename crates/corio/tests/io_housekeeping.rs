//! A busy worker looks at I/O by the clock, not only every 61 ticks: a task
//! woken by a socket runs within a poll or two of the event, even while CPU
//! tasks that yield only every millisecond keep the worker busy.
//!
//! Measured in polls, not time: the CPU tasks count their polls, the client
//! notes the count just after it sends, and the woken task notes it when it
//! runs. With housekeeping every 61 ticks only, the gap is spread over
//! 0..61 polls (the event waits for the next 61-tick look), and five tries
//! all under 20 happen with odds of (20/61)^5, about 0.4%.
//!
//! Its own binary, so that no other test's idle worker polls for this one.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::io::AsyncReadExt;
use corio::net::TcpListener;

mod common;

use common::{runtime, with_watchdog};

/// Polls between an I/O event and the run of the task it woke, at most.
const MAX_GAP: u64 = 20;

#[test]
fn io_wakes_run_within_a_few_polls_of_busy_work() {
    with_watchdog("housekeeping", || {
        let rt = runtime(1);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client.set_nodelay(true).unwrap();
        let (server, _) = rt.block_on(listener.accept()).unwrap();
        let server = Arc::new(server);

        let polls = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let cpu: Vec<_> = (0..2)
            .map(|_| {
                let (polls, stop) = (polls.clone(), stop.clone());
                rt.spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_millis(1) {
                            std::hint::spin_loop();
                        }
                        polls.fetch_add(1, Ordering::SeqCst);
                        corio::yield_now().await;
                    }
                })
            })
            .collect();

        let mut gaps = Vec::new();
        for round in 0..5u8 {
            // The reader waits for one byte and notes the poll count.
            let seen = {
                let (polls, server) = (polls.clone(), server.clone());
                rt.spawn(async move {
                    let mut b = [0u8; 1];
                    (&*server).read_exact(&mut b).await.unwrap();
                    (polls.load(Ordering::SeqCst), b[0])
                })
            };
            // Let the reader park on the socket and the CPU tasks run.
            let start = polls.load(Ordering::SeqCst);
            while polls.load(Ordering::SeqCst) < start + 3 {
                std::thread::yield_now();
            }
            client.write_all(&[round]).unwrap();
            let sent_at = polls.load(Ordering::SeqCst);
            let (ran_at, byte) = rt.block_on(seen).unwrap();
            assert_eq!(byte, round);
            gaps.push(ran_at.saturating_sub(sent_at));
        }
        stop.store(true, Ordering::SeqCst);
        for t in cpu {
            rt.block_on(t).unwrap();
        }
        let worst = *gaps.iter().max().unwrap();
        assert!(
            worst < MAX_GAP,
            "a task woken by I/O waited {worst} polls of busy work (gaps {gaps:?})"
        );
    });
}
