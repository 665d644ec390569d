//! Timers: ordering, never early, wait_for, interval policies, many sleeps.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{block_on, block_on_within, boxed, run_all};
use corio_io::time::{interval_at, sleep, sleep_until, wait_for, MissedTickBehavior};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn sleeps_never_wake_early() {
    let woke = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut futs = Vec::new();
    // Deadlines 0..=120 ms, inserted out of deadline order.
    for i in (0..=30u64).rev().chain(31..=60) {
        let woke = woke.clone();
        let deadline = start + Duration::from_millis(i * 2);
        futs.push(boxed(async move {
            sleep_until(deadline).await;
            let now = Instant::now();
            assert!(now >= deadline, "sleep {i} woke {:?} early", deadline - now);
            woke.lock().unwrap().push(i);
        }));
    }
    run_all(2, futs, LIMIT);
    assert_eq!(woke.lock().unwrap().len(), 61);
}

#[test]
fn timers_fire_in_deadline_order() {
    // Each sleep gets its own waker that logs its id: the order of wake()
    // calls made by the driver is the order the wheel fired the entries, which
    // does not depend on how threads are scheduled.
    struct Log {
        id: u64,
        log: Arc<(Mutex<Vec<u64>>, std::sync::Condvar)>,
    }
    impl std::task::Wake for Log {
        fn wake(self: Arc<Self>) {
            let (list, cond) = &*self.log;
            list.lock().unwrap().push(self.id);
            cond.notify_all();
        }
    }
    let log = Arc::new((Mutex::new(Vec::new()), std::sync::Condvar::new()));
    let start = Instant::now();
    let ids = [50u64, 30, 70, 40, 60, 22, 84, 90, 150, 86];
    let mut sleeps: Vec<_> = ids
        .iter()
        .map(|&ms| sleep_until(start + Duration::from_millis(ms)))
        .collect();
    for (s, &id) in sleeps.iter_mut().zip(&ids) {
        let waker = std::task::Waker::from(Arc::new(Log {
            id,
            log: log.clone(),
        }));
        let mut cx = std::task::Context::from_waker(&waker);
        // Pending unless this thread was descheduled past the deadline.
        if std::pin::Pin::new(s).poll(&mut cx).is_ready() {
            log.0.lock().unwrap().push(id);
        }
    }
    let (list, cond) = &*log;
    let guard = list.lock().unwrap();
    let (guard, _) = cond
        .wait_timeout_while(guard, LIMIT, |l| l.len() < ids.len())
        .unwrap();
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    assert_eq!(*guard, sorted);
    for &ms in &ids {
        assert!(Instant::now() >= start + Duration::from_millis(ms));
    }
    drop(guard);
    drop(sleeps);
}

#[test]
fn zero_and_past_sleeps_complete_at_once() {
    block_on_within(LIMIT, async {
        sleep(Duration::ZERO).await;
        sleep_until(Instant::now() - Duration::from_millis(5)).await;
        let s = sleep(Duration::from_millis(1));
        let deadline = s.deadline();
        s.await;
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn huge_durations_do_not_overflow() {
    let s = sleep(Duration::MAX);
    assert!(s.deadline() > Instant::now() + Duration::from_secs(3600 * 24 * 365));
    let r = block_on(wait_for(sleep(Duration::MAX), Duration::from_millis(2)));
    assert!(r.is_err());
}

#[test]
fn wait_for_times_out_and_drops_the_future() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let pending = async move {
        let _flag = flag;
        std::future::pending::<u32>().await
    };
    block_on_within(LIMIT, async {
        let start = Instant::now();
        let mut fut = Box::pin(wait_for(pending, Duration::from_millis(20)));
        let r = (&mut fut).await;
        assert!(r.is_err());
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "timed out early"
        );
        // Dropped at the timeout, not when the WaitFor itself is dropped.
        assert!(dropped.load(Ordering::SeqCst));
        drop(fut);
    });
}

#[test]
fn wait_for_returns_a_ready_result() {
    block_on_within(LIMIT, async {
        assert_eq!(wait_for(async { 5 }, Duration::ZERO).await, Ok(5));
        let slow_ok = async {
            sleep(Duration::from_millis(5)).await;
            "done"
        };
        assert_eq!(wait_for(slow_ok, Duration::from_secs(30)).await, Ok("done"));
    });
}

#[test]
fn hundred_thousand_concurrent_sleeps_complete() {
    const N: usize = 100_000;
    let start = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let futs = (0..N)
        .map(|i| {
            let done = done.clone();
            let deadline = start + Duration::from_millis((i % 11) as u64);
            boxed(async move {
                sleep_until(deadline).await;
                assert!(Instant::now() >= deadline);
                // Relaxed: read after run_all joined every thread.
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    run_all(2, futs, LIMIT);
    assert_eq!(done.load(Ordering::Relaxed), N);
}

#[test]
fn interval_burst_catches_up_on_the_grid() {
    block_on_within(LIMIT, async {
        let period = Duration::from_millis(5);
        let start = Instant::now();
        let mut iv = interval_at(start, period);
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
        assert_eq!(iv.tick().await, start);
        std::thread::sleep(period * 4); // fall behind
                                        // Every missed tick is delivered, each at its grid instant.
        for k in 1..=4u32 {
            assert_eq!(iv.tick().await, start + period * k);
        }
        let t5 = iv.tick().await;
        assert_eq!(t5, start + period * 5);
        assert!(Instant::now() >= t5);
    });
}

#[test]
fn interval_skip_stays_on_the_grid() {
    block_on_within(LIMIT, async {
        let period = Duration::from_millis(5);
        let start = Instant::now();
        let mut iv = interval_at(start, period);
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        iv.tick().await;
        std::thread::sleep(period * 3 + period / 2);
        let late = iv.tick().await; // the overdue tick, at once
        assert_eq!(late, start + period);
        let next = iv.tick().await;
        // Ticks 2 and 3 fell inside the stall and were skipped.
        assert!(next > start + period * 3, "missed ticks were skipped");
        let offset = next.duration_since(start).as_nanos();
        assert_eq!(offset % period.as_nanos(), 0, "still on the grid");
        assert!(Instant::now() >= next);
    });
}

#[test]
fn interval_delay_restarts_from_now() {
    block_on_within(LIMIT, async {
        let period = Duration::from_millis(5);
        let start = Instant::now();
        let mut iv = interval_at(start, period);
        iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
        iv.tick().await;
        std::thread::sleep(period * 3);
        let before_late = Instant::now();
        assert_eq!(iv.tick().await, start + period);
        let next = iv.tick().await;
        assert!(next >= before_late + period);
        assert!(Instant::now() >= next);
    });
}

#[test]
fn interval_is_a_stream() {
    use futures_lite::StreamExt;
    block_on_within(LIMIT, async {
        let iv = corio_io::time::interval(Duration::from_millis(1));
        let ticks: Vec<Instant> = iv.take(3).collect().await;
        assert!(ticks
            .windows(2)
            .all(|w| w[1] >= w[0] + Duration::from_millis(1)));
    });
}

#[test]
fn sleep_reset_moves_the_deadline() {
    block_on_within(LIMIT, async {
        let mut s = sleep(Duration::from_secs(3600));
        // Arm it, then move it close.
        assert!(wait_for(&mut s, Duration::from_millis(1)).await.is_err());
        let target = Instant::now() + Duration::from_millis(3);
        s.reset(target);
        (&mut s).await;
        assert!(Instant::now() >= target);
    });
}

/// A waker that counts its wakes and lets a test block until the next one.
struct CountWaker {
    wakes: Mutex<usize>,
    cond: std::sync::Condvar,
}

impl CountWaker {
    fn new() -> Arc<CountWaker> {
        Arc::new(CountWaker {
            wakes: Mutex::new(0),
            cond: std::sync::Condvar::new(),
        })
    }

    fn wakes(&self) -> usize {
        *self.wakes.lock().unwrap()
    }

    /// Blocks until at least `n` wakes happened, or panics after `LIMIT`.
    fn wait_for_wakes(&self, n: usize) {
        let guard = self.wakes.lock().unwrap();
        let (guard, timeout) = self
            .cond
            .wait_timeout_while(guard, LIMIT, |w| *w < n)
            .unwrap();
        assert!(!timeout.timed_out(), "waker never woken ({} wakes)", *guard);
    }
}

impl std::task::Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        *self.wakes.lock().unwrap() += 1;
        self.cond.notify_all();
    }
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>, waker: &Arc<CountWaker>) -> Poll<F::Output> {
    let waker = std::task::Waker::from(waker.clone());
    fut.poll(&mut std::task::Context::from_waker(&waker))
}

use std::task::Poll;

/// Pushing the deadline out keeps a job alive past its first deadline.
#[test]
fn wait_for_reschedule_later_keeps_the_future() {
    let gate = Arc::new(AtomicBool::new(false));
    let open = gate.clone();
    let job = std::future::poll_fn(move |cx| {
        if open.load(Ordering::SeqCst) {
            Poll::Ready("finished")
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    });
    // The first poll must come before the first deadline: a generous one,
    // since a slow machine (or ThreadSanitizer) can stall this thread for
    // milliseconds (CI saw a 1 ms deadline pass before the first poll).
    let first = Duration::from_secs(1);
    let mut w = std::pin::pin!(wait_for(job, first));
    let waker = CountWaker::new();
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    let later = Instant::now() + Duration::from_secs(3600);
    w.as_mut().reschedule(later);
    assert_eq!(w.deadline(), later);
    // Past the old deadline: without the reschedule this poll times out.
    std::thread::sleep(first + Duration::from_millis(100));
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    gate.store(true, Ordering::SeqCst);
    assert_eq!(poll_once(w.as_mut(), &waker), Poll::Ready(Ok("finished")));
}

/// Bringing the deadline in wakes the waiting task at the new deadline
/// although nobody polls the `WaitFor` in between, and drops the future.
#[test]
fn wait_for_reschedule_earlier_wakes_without_a_poll() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let job = async move {
        let _flag = flag;
        std::future::pending::<()>().await
    };
    let mut w = std::pin::pin!(wait_for(job, Duration::from_secs(3600)));
    let waker = CountWaker::new();
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    assert_eq!(waker.wakes(), 0);
    w.as_mut()
        .reschedule(Instant::now() + Duration::from_millis(5));
    waker.wait_for_wakes(1);
    assert!(!dropped.load(Ordering::SeqCst), "dropped before the poll");
    assert!(matches!(poll_once(w.as_mut(), &waker), Poll::Ready(Err(_))));
    assert!(dropped.load(Ordering::SeqCst), "not dropped at the timeout");
}

/// A deadline already past wakes at once; rescheduling a resolved WaitFor
/// changes nothing but `deadline()`.
#[test]
fn wait_for_reschedule_to_the_past_and_after_resolving() {
    let mut w = std::pin::pin!(wait_for(
        std::future::pending::<()>(),
        Duration::from_secs(3600)
    ));
    let waker = CountWaker::new();
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    let past = Instant::now();
    w.as_mut().reschedule(past);
    waker.wait_for_wakes(1);
    assert!(matches!(poll_once(w.as_mut(), &waker), Poll::Ready(Err(_))));
    // Resolved: a later deadline does not revive it.
    let later = Instant::now() + Duration::from_secs(3600);
    w.as_mut().reschedule(later);
    assert_eq!(w.deadline(), later);
    assert!(matches!(poll_once(w.as_mut(), &waker), Poll::Ready(Err(_))));

    // Rescheduling before the first poll just sets the deadline.
    let mut fresh = std::pin::pin!(wait_for(async { 3 }, Duration::from_secs(3600)));
    fresh.as_mut().reschedule(past);
    assert_eq!(fresh.deadline(), past);
    assert_eq!(
        poll_once(fresh.as_mut(), &waker),
        Poll::Ready(Ok(3)),
        "a ready result still wins over a passed deadline"
    );
}
