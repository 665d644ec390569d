//! Many timers at once: timeouts that fire, timeouts that don't, sleeps
//! aborted before they fire, and intervals.
//!
//! Invariants: every `wait_for` whose future cannot finish times out, and
//! every one whose future finishes first returns its value; no sleep returns
//! before its deadline; aborted sleepers end cancelled; once every timer is
//! done or dropped the wheel holds no more entries than before; nothing hangs.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::time::{sleep, wait_for};
use corio_stress::{Args, Report, Rng, Watchdog};

const NAME: &str = "timer_storm";

fn main() -> std::process::ExitCode {
    let args = Args::parse(NAME);
    let _watchdog = Watchdog::start(NAME, args.bound);
    let started = Instant::now();
    let mut report = Report::new(NAME);
    let rt = corio_stress::runtime(NAME);
    let baseline = corio::time::timer_entries();

    // 1. Timeouts that must fire: the inner sleep is far longer.
    let n = 20_000 * args.scale;
    let (timed_out, early) = rt.block_on(async move {
        let handles = (0..n).map(|i| {
            corio::spawn(async move {
                let timeout = Duration::from_millis(1 + i % 50);
                let start = Instant::now();
                let result = wait_for(sleep(Duration::from_secs(600)), timeout).await;
                (result.is_err(), start.elapsed() < timeout)
            })
        });
        let results = corio::gather(handles).await;
        let timed_out = results
            .iter()
            .filter(|r| matches!(r, Ok((true, _))))
            .count() as u64;
        let early = results
            .iter()
            .filter(|r| matches!(r, Ok((_, true))))
            .count() as u64;
        (timed_out, early)
    });
    report.check_eq("long sleeps under short timeouts: timed out", timed_out, n);
    report.check_eq("timeouts that fired before their deadline", early, 0);

    // 2. Timeouts that must not fire: the inner work finishes first.
    let (values, wrong) = rt.block_on(async move {
        let handles = (0..n).map(|i| {
            corio::spawn(async move {
                let work = async move {
                    sleep(Duration::from_millis(i % 5)).await;
                    i
                };
                wait_for(work, Duration::from_secs(600)).await
            })
        });
        let results = corio::gather(handles).await;
        let mut wrong = 0u64;
        let mut sum = 0u64;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(Ok(v)) if v == i as u64 => sum += v,
                _ => wrong += 1,
            }
        }
        (sum, wrong)
    });
    report.check_eq("short work under long timeouts: wrong results", wrong, 0);
    report.check_eq(
        "short work under long timeouts: sum",
        values,
        n * (n - 1) / 2,
    );

    // 3. Sleeps never end early, whatever their length.
    let early = rt.block_on(async move {
        let handles = (0..5_000 * args.scale).map(|i| {
            corio::spawn(async move {
                let mut rng = Rng::new(i);
                let duration = Duration::from_micros(rng.below(30_000));
                let deadline = Instant::now() + duration;
                sleep(duration).await;
                Instant::now() < deadline
            })
        });
        corio::gather(handles)
            .await
            .into_iter()
            .filter(|r| !matches!(r, Ok(false)))
            .count()
    });
    report.check_eq("sleeps that ended early or failed", early, 0);

    // 4. Sleepers aborted before their timers fire.
    let sleepers = 20_000 * args.scale;
    let (cancelled, armed_while_sleeping) = rt.block_on(async move {
        let started = Arc::new(corio::sync::Semaphore::new(0));
        let handles: Vec<_> = (0..sleepers)
            .map(|_| {
                let started = started.clone();
                corio::spawn(async move {
                    let mut nap = std::pin::pin!(sleep(Duration::from_secs(600)));
                    // Arm the timer, then report in.
                    let _ = std::future::poll_fn(|cx| {
                        let _ = nap.as_mut().poll(cx);
                        std::task::Poll::Ready(())
                    })
                    .await;
                    started.release();
                    nap.await;
                })
            })
            .collect();
        let permits = started
            .acquire_many(sleepers as usize)
            .await
            .expect("semaphore closed");
        permits.forget();
        let armed = corio::time::timer_entries();
        for handle in &handles {
            handle.abort();
        }
        let cancelled = corio::gather(handles)
            .await
            .into_iter()
            .filter(|r| matches!(r, Err(e) if e.is_cancelled()))
            .count() as u64;
        (cancelled, armed)
    });
    report.check(
        armed_while_sleeping >= baseline + sleepers as usize,
        format_args!("timer entries while {sleepers} sleep: {armed_while_sleeping}"),
    );
    report.check_eq("aborted sleepers ended cancelled", cancelled, sleepers);

    // 5. Intervals keep ticking.
    let ticks = rt.block_on(async move {
        let handles = (0..100).map(|_| {
            corio::spawn(async move {
                let mut interval = corio::time::interval(Duration::from_millis(2));
                for _ in 0..50 {
                    interval.tick().await;
                }
                50u64
            })
        });
        corio::gather(handles)
            .await
            .into_iter()
            .map(|r| r.unwrap_or(0))
            .sum::<u64>()
    });
    report.check_eq("interval ticks", ticks, 100 * 50);

    // Every timer above finished or was dropped: the wheel is back to where
    // it started.
    let left = corio::time::timer_entries();
    report.check(
        left <= baseline,
        format_args!("timer entries left: {left} (baseline {baseline})"),
    );

    drop(rt);
    report.finish(started)
}
