//! Timer entries are freed: run alone in this binary so that no other test
//! arms timers while the counts are read.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::block_on;
use corio_io::time::{sleep, timer_entries, wait_for};

/// A future that is pending on its first poll and ready on its second.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn timer_entries_are_freed() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    assert_eq!(timer_entries(), 0);

    // A polled sleep holds one entry; dropping it frees it.
    let mut s = sleep(Duration::from_secs(60));
    assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
    assert_eq!(timer_entries(), 1);
    // Re-polling does not add entries.
    assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
    assert_eq!(timer_entries(), 1);
    drop(s);
    assert_eq!(timer_entries(), 0);

    // Many armed sleeps, all cancelled.
    let mut many: Vec<_> = (0..10_000u64)
        .map(|i| sleep(Duration::from_millis(10_000 + i)))
        .collect();
    for s in &mut many {
        assert!(Pin::new(s).poll(&mut cx).is_pending());
    }
    assert_eq!(timer_entries(), 10_000);
    drop(many);
    assert_eq!(timer_entries(), 0);

    // 1,000,000 wait_fors whose future finishes before the deadline, each of
    // which armed its timer (the inner future was pending once), leave
    // nothing behind.
    block_on(async {
        for _ in 0..1_000_000 {
            wait_for(YieldOnce(false), Duration::from_secs(30))
                .await
                .unwrap();
        }
    });
    assert_eq!(timer_entries(), 0);

    // Threads racing the driver: each arms timeouts of 0-2 ms around sleeps
    // of 0-2 ms, so some time out (the driver fires the entry) and some
    // finish first (the entry is cancelled), often at the same moment.
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ t;
                let mut next = move || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                };
                block_on(async {
                    for _ in 0..500 {
                        let inner = sleep(Duration::from_micros(next() % 2000));
                        let _ = wait_for(inner, Duration::from_micros(next() % 2000)).await;
                    }
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(timer_entries(), 0);

    // A fired sleep's entry is gone too.
    block_on(sleep(Duration::from_millis(2)));
    assert_eq!(timer_entries(), 0);
    assert_eq!(corio_io::driver_metrics().timer_entries, 0);
}
