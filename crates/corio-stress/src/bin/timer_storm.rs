//! Many timers at once: timeouts that fire, timeouts that don't, sleeps
//! aborted before they fire, and intervals. Each round draws its timer
//! lengths from its seed.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every `wait_for` whose future cannot finish times out (`no_timeout`:
//!   one such `wait_for` is given an inner future that finishes);
//! - no timeout fires before its deadline (`early_timeout`: one task
//!   measures against a deadline 10 ms later than its timeout);
//! - every `wait_for` whose future finishes first returns that future's
//!   value (`wrong_value`: one future returns another value);
//! - no sleep returns before its deadline (`early_sleep`: one task checks
//!   against a deadline 1 s later);
//! - aborted sleepers end cancelled (`sleeper_finishes`: one sleeper
//!   returns after the wheel is counted, before the abort);
//! - every armed sleep is in the wheel (`unarmed_sleeper`: one sleeper
//!   reports in without arming its timer, and arms it only after the wheel
//!   is counted);
//! - intervals tick as often as asked (`short_interval`: one interval stops
//!   a tick early);
//! - once every timer is done or dropped the wheel holds no more entries
//!   than at the start (`leak_timer`: one armed `Sleep` is leaked with
//!   `mem::forget`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::time::{sleep, wait_for};
use corio_stress::{fault, Common, Rng, Stress};

const NAME: &str = "timer_storm";

fn main() -> std::process::ExitCode {
    let common: Common = corio_stress::parse(
        NAME,
        "Timeouts that fire and don't, aborted sleepers, intervals",
    );
    let mut stress = Stress::start(NAME, &common);
    let rt = stress.runtime();
    let ops = stress.ops();
    let baseline = corio::time::timer_entries();

    stress.rounds(|round| {
        let n = 5_000 * round.scale;
        let seed = round.seed;
        let max_timeout = 1 + round.rng(0).below(50);

        // 1. Timeouts that must fire: the inner sleep is far longer.
        let (timed_out, early) = rt.block_on(async move {
            let handles = (0..n).map(|i| {
                corio::spawn(async move {
                    let timeout =
                        Duration::from_micros(Rng::new(seed ^ i).below(max_timeout * 1_000) + 1);
                    let inner = if i == 0 && fault("no_timeout") {
                        Duration::ZERO
                    } else {
                        Duration::from_secs(600)
                    };
                    let late = if i == 1 && fault("early_timeout") {
                        Duration::from_millis(10)
                    } else {
                        Duration::ZERO
                    };
                    let start = Instant::now();
                    let result = wait_for(sleep(inner), timeout).await;
                    (result.is_err(), start.elapsed() < timeout + late)
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
        ops.add(n);
        round.check_eq("wait_for on a longer sleep times out", timed_out, n);
        round.check_eq("no timeout fires before its deadline", early, 0);

        // 2. Timeouts that must not fire: the inner work finishes first.
        let (values, wrong) = rt.block_on(async move {
            let handles = (0..n).map(|i| {
                corio::spawn(async move {
                    let work = async move {
                        sleep(Duration::from_millis(Rng::new(seed ^ i).below(5))).await;
                        if i == 2 && fault("wrong_value") {
                            return i + 1;
                        }
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
        ops.add(n);
        round.check_eq(
            "wait_for returns the value of a future that finishes first",
            wrong,
            0,
        );
        round.check_eq("wait_for values sum", values, n * (n - 1) / 2);

        // 3. Sleeps never end early, whatever their length.
        let sleeps = 2_000 * round.scale;
        let early = rt.block_on(async move {
            let handles = (0..sleeps).map(|i| {
                corio::spawn(async move {
                    let mut rng = Rng::new(seed ^ (i + 1_000_000));
                    let duration = Duration::from_micros(rng.below(30_000));
                    let slack = if i == 3 && fault("early_sleep") {
                        Duration::from_secs(1)
                    } else {
                        Duration::ZERO
                    };
                    let deadline = Instant::now() + duration + slack;
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
        ops.add(sleeps);
        round.check_eq("no sleep returns before its deadline", early, 0);

        // 4. Sleepers aborted before their timers fire.
        let sleepers = 5_000 * round.scale;
        let (cancelled, armed_while_sleeping) = rt.block_on(async move {
            let started = Arc::new(corio::sync::Semaphore::new(0));
            // For the fault injections: set once the wheel is counted.
            let counted = Arc::new(corio::sync::Event::new());
            let finished_early = Arc::new(corio::sync::Event::new());
            let handles: Vec<_> = (0..sleepers)
                .map(|i| {
                    let (started, counted, finished_early) =
                        (started.clone(), counted.clone(), finished_early.clone());
                    corio::spawn(async move {
                        let mut nap = std::pin::pin!(sleep(Duration::from_secs(600)));
                        // Arm the timer, then report in.
                        if !(i == 1 && fault("unarmed_sleeper")) {
                            let _ = std::future::poll_fn(|cx| {
                                let _ = nap.as_mut().poll(cx);
                                std::task::Poll::Ready(())
                            })
                            .await;
                        }
                        started.release();
                        if i == 0 && fault("sleeper_finishes") {
                            counted.wait().await;
                            finished_early.set();
                            return;
                        }
                        if i == 1 && fault("unarmed_sleeper") {
                            counted.wait().await;
                        }
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
            counted.set();
            if fault("sleeper_finishes") {
                finished_early.wait().await;
            }
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
        ops.add(sleepers);
        round.check(
            armed_while_sleeping >= baseline + sleepers as usize,
            "every armed sleep is in the wheel",
            format_args!(
                "{armed_while_sleeping} entries while {sleepers} sleep (baseline {baseline})"
            ),
        );
        round.check_eq("aborted sleepers end cancelled", cancelled, sleepers);

        // 5. Intervals keep ticking.
        let period = Duration::from_micros(500 + round.rng(5).below(2_000));
        let ticks = rt.block_on(async move {
            let handles = (0..100u64).map(|i| {
                corio::spawn(async move {
                    let mut interval = corio::time::interval(period);
                    let n = if i == 0 && fault("short_interval") {
                        49
                    } else {
                        50
                    };
                    for _ in 0..n {
                        interval.tick().await;
                    }
                    n
                })
            });
            corio::gather(handles)
                .await
                .into_iter()
                .map(|r| r.unwrap_or(0))
                .sum::<u64>()
        });
        ops.add(ticks);
        round.check_eq("intervals tick as often as asked", ticks, 100 * 50);

        if round.index == 0 && fault("leak_timer") {
            rt.block_on(async {
                let mut nap = Box::pin(sleep(Duration::from_secs(600)));
                let _ = futures_lite::future::poll_once(nap.as_mut()).await;
                std::mem::forget(nap);
            });
        }

        // Every timer above finished or was dropped: the wheel is back to
        // where it started.
        let left = corio::time::timer_entries();
        round.check(
            left <= baseline,
            "the wheel ends with no more entries than at the start",
            format_args!("{left} entries left (baseline {baseline})"),
        );
    });

    stress.alive();
    drop(rt);
    stress.finish()
}
