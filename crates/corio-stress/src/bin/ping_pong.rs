//! Pairs of tasks bouncing a counter through two one-slot queues, so every
//! message is a cross-task (and usually cross-worker) wake-up.
//!
//! Invariants: every ball comes back exactly once and in order (each pong
//! carries the ping's value plus one), every pair finishes all its rounds,
//! and nothing hangs (watchdog).

use std::sync::Arc;
use std::time::Instant;

use corio::sync::Queue;
use corio_stress::{Args, Report, Watchdog};

const NAME: &str = "ping_pong";

fn main() -> std::process::ExitCode {
    let args = Args::parse(NAME);
    let _watchdog = Watchdog::start(NAME, args.bound);
    let started = Instant::now();
    let mut report = Report::new(NAME);
    let rt = corio_stress::runtime(NAME);

    for (pairs, rounds) in [(1u64, 200_000u64), (64, 5_000), (1_000, 300)] {
        let rounds = rounds * args.scale;
        let results: Vec<Result<u64, String>> = rt.block_on(async move {
            let players = (0..pairs).map(|pair| {
                let ping = Arc::new(Queue::new(1));
                let pong = Arc::new(Queue::new(1));
                let echo = {
                    let (ping, pong) = (ping.clone(), pong.clone());
                    corio::spawn(async move {
                        for _ in 0..rounds {
                            let ball: u64 = ping.get().await.map_err(|_| "ping queue shut")?;
                            pong.put(ball + 1).await.map_err(|_| "pong queue shut")?;
                        }
                        Ok::<_, &'static str>(())
                    })
                };
                corio::spawn(async move {
                    let mut ball = pair * 1_000_000_000;
                    for round in 0..rounds {
                        ping.put(ball)
                            .await
                            .map_err(|_| "ping queue shut".to_owned())?;
                        let back = pong.get().await.map_err(|_| "pong queue shut".to_owned())?;
                        if back != ball + 1 {
                            return Err(format!(
                                "pair {pair} round {round}: sent {ball}, got {back}"
                            ));
                        }
                        ball = back;
                    }
                    match echo.await {
                        Ok(Ok(())) => Ok(rounds),
                        other => Err(format!("pair {pair}: echo task ended with {other:?}")),
                    }
                })
            });
            corio::gather(players)
                .await
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| Err(format!("player task failed: {e:?}"))))
                .collect()
        });
        let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        for error in errors.iter().take(5) {
            println!("    {error}");
        }
        report.check_eq(
            &format!("{pairs} pairs x {rounds} rounds: failed pairs"),
            errors.len(),
            0,
        );
        let total: u64 = results.iter().filter_map(|r| r.as_ref().ok()).sum();
        report.check_eq(
            &format!("{pairs} pairs x {rounds} rounds: round trips"),
            total,
            pairs * rounds,
        );
    }

    drop(rt);
    report.finish(started)
}
