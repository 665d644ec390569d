//! Pairs of tasks bouncing a counter through two one-slot queues, so every
//! message is a cross-task (and usually cross-worker) wake-up. Each round
//! draws the number of pairs (1 to 2,000) and rounds per pair from its seed.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every ball comes back exactly once and in order: each pong carries the
//!   ping's value plus one (`bad_pong`: the echo adds two once);
//! - every pair finishes all its round trips (`short_pair`: one pair stops a
//!   round early).

use std::sync::Arc;

use corio::sync::Queue;
use corio_stress::{fault, Common, Stress};

const NAME: &str = "ping_pong";

fn main() -> std::process::ExitCode {
    let common: Common = corio_stress::parse(
        NAME,
        "Pairs of tasks bouncing values through one-slot queues",
    );
    let mut stress = Stress::start(NAME, &common);
    let rt = stress.runtime();
    let ops = stress.ops();

    stress.rounds(|round| {
        let mut rng = round.rng(0);
        let pairs = [1, 2, 16, 64, 500, 2_000][rng.below(6) as usize];
        // About 100,000 round trips per round at scale 1.
        let rounds = (100_000 / pairs).max(20) * round.scale;
        let ops = ops.clone();
        let results: Vec<Result<u64, String>> = rt.block_on(async move {
            let players = (0..pairs).map(|pair| {
                let ping = Arc::new(Queue::new(1));
                let pong = Arc::new(Queue::new(1));
                let echo = {
                    let (ping, pong) = (ping.clone(), pong.clone());
                    corio::spawn(async move {
                        for i in 0..rounds {
                            let ball: u64 = ping.get().await.map_err(|_| "ping queue shut")?;
                            let step = if pair == 0 && i == 5 && fault("bad_pong") {
                                2
                            } else {
                                1
                            };
                            pong.put(ball + step).await.map_err(|_| "pong queue shut")?;
                        }
                        Ok::<_, &'static str>(())
                    })
                };
                let ops = ops.clone();
                corio::spawn(async move {
                    let mut ball = pair * 1_000_000_000;
                    let mut done = 0;
                    let mine = if pair == 0 && fault("short_pair") {
                        rounds - 1
                    } else {
                        rounds
                    };
                    for round in 0..mine {
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
                        done += 1;
                        if done % 1_000 == 0 {
                            ops.add(1_000);
                        }
                    }
                    ops.add(done % 1_000);
                    if mine < rounds {
                        echo.abort();
                        return Ok(done);
                    }
                    match echo.await {
                        Ok(Ok(())) => Ok(done),
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
        round.check(
            errors.is_empty(),
            "every pong is its ping plus one",
            format_args!(
                "{pairs} pairs x {rounds}: {} pairs failed, first: {:?}",
                errors.len(),
                errors.first()
            ),
        );
        let total: u64 = results.iter().filter_map(|r| r.as_ref().ok()).sum();
        round.check_eq(
            "every pair finishes all its round trips",
            total,
            pairs * rounds,
        );
    });

    stress.alive();
    drop(rt);
    stress.finish()
}
