//! Many tiny tasks: flat storms awaited through their handles, trees of
//! nested spawns, detached tasks, and spawns from outside the runtime.
//! Each round draws its batch sizes and tree shape from its seed.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every task runs exactly once (`skip_task`: one task of the flat storm
//!   does not count itself);
//! - every `JoinHandle` yields its own task's value (`wrong_value`: one task
//!   returns another's value);
//! - a nested tree counts every leaf (`lose_leaf`: one leaf reports zero);
//! - every detached task runs (`detach_lost`: one detached task never
//!   counts down);
//! - tasks spawned from plain threads all join `Ok` (`thread_task_panics`:
//!   one of them panics) and all run (`thread_task_skips`: one of them does
//!   not count itself).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio_stress::{fault, Common, Stress};

const NAME: &str = "spawn_storm";

/// Spawns a tree `depth` levels deep with `fanout` children per node; returns
/// the number of leaves reached.
fn tree(depth: u32, fanout: u64, first: bool) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return if first && fault("lose_leaf") { 0 } else { 1 };
        }
        let children = (0..fanout).map(|i| corio::spawn(tree(depth - 1, fanout, first && i == 0)));
        corio::gather(children)
            .await
            .into_iter()
            .map(|leaves| leaves.expect("tree task failed"))
            .sum()
    })
}

fn main() -> std::process::ExitCode {
    let common: Common =
        corio_stress::parse(NAME, "Spawn storms: flat, nested, detached, from threads");
    let mut stress = Stress::start(NAME, &common);
    let rt = stress.runtime();
    let ops = stress.ops();

    stress.rounds(|round| {
        let mut rng = round.rng(0);
        let scale = round.scale;

        // 1. Flat storm: spawn in batches, await every handle, check each value.
        let flat = (50_000 + rng.below(100_000)) * scale;
        let batch = 1_000 + rng.below(20_000);
        let ran = Arc::new(AtomicU64::new(0));
        let (sum, wrong) = rt.block_on({
            let (ran, ops) = (ran.clone(), ops.clone());
            async move {
                let mut sum = 0u64;
                let mut wrong = 0u64;
                let mut next = 0;
                while next < flat {
                    let end = (next + batch).min(flat);
                    let handles: Vec<_> = (next..end)
                        .map(|i| {
                            let ran = ran.clone();
                            corio::spawn(async move {
                                // Relaxed: only the final total is read, after
                                // every handle was awaited (which synchronizes).
                                if !(i == 7 && fault("skip_task")) {
                                    ran.fetch_add(1, Ordering::Relaxed);
                                }
                                if i == 11 && fault("wrong_value") {
                                    return 12;
                                }
                                i
                            })
                        })
                        .collect();
                    for (i, handle) in (next..end).zip(handles) {
                        match handle.await {
                            Ok(v) if v == i => sum += v,
                            _ => wrong += 1,
                        }
                    }
                    ops.add(end - next);
                    next = end;
                }
                (sum, wrong)
            }
        });
        round.check_eq(
            "flat storm: every task ran once",
            ran.load(Ordering::SeqCst),
            flat,
        );
        round.check_eq("flat storm: every handle yields its own value", wrong, 0);
        round.check_eq("flat storm: sum of values", sum, flat * (flat - 1) / 2);

        // 2. Nested: trees of spawns inside spawns, spread over the workers.
        let fanout = 2 + rng.below(9); // 2..=10
        let depth = ((30_000f64 * scale as f64).ln() / (fanout as f64).ln()) as u32;
        let leaves = rt.block_on(tree(depth, fanout, true));
        ops.add(leaves);
        round.check_eq("nested tree: every leaf counted", leaves, fanout.pow(depth));

        // 3. Detached: drop every handle; the tasks must still all run. The
        // last one to finish sets an Event the root waits on.
        let detached = (20_000 + rng.below(60_000)) * scale;
        let left = Arc::new(AtomicU64::new(detached));
        let done = Arc::new(corio::sync::Event::new());
        rt.block_on({
            let (left, done) = (left.clone(), done.clone());
            async move {
                for i in 0..detached {
                    let (left, done) = (left.clone(), done.clone());
                    drop(corio::spawn(async move {
                        corio::yield_now().await;
                        if i == 3 && fault("detach_lost") {
                            return;
                        }
                        // AcqRel: the task seeing zero must see every other
                        // task's decrement before it sets the event.
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            done.set();
                        }
                    }));
                }
                // Bounded, so that a lost task is a failed check, not a hang.
                let _ = corio::time::wait_for(done.wait(), Duration::from_secs(10)).await;
            }
        });
        ops.add(detached);
        round.check_eq(
            "detached storm: every task ran",
            left.load(Ordering::SeqCst),
            0,
        );

        // 4. From outside: plain threads spawn through a Handle while the
        // runtime's workers are busy.
        let threads = 1 + rng.below(4);
        let per_thread = (5_000 + rng.below(20_000)) * scale;
        let handle = rt.handle();
        let ran = Arc::new(AtomicU64::new(0));
        let spawners: Vec<_> = (0..threads)
            .map(|_| {
                let (handle, ran) = (handle.clone(), ran.clone());
                std::thread::spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let ran = ran.clone();
                            handle.spawn(async move {
                                if i == 1 && fault("thread_task_panics") {
                                    panic!("spawn_storm: injected panic");
                                }
                                if !(i == 2 && fault("thread_task_skips")) {
                                    ran.fetch_add(1, Ordering::Relaxed);
                                }
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let handles: Vec<_> = spawners
            .into_iter()
            .flat_map(|t| t.join().expect("spawner thread"))
            .collect();
        let failed = rt.block_on(async move {
            corio::gather(handles)
                .await
                .into_iter()
                .filter(Result::is_err)
                .count()
        });
        ops.add(threads * per_thread);
        round.check_eq("spawned from threads: every handle joins Ok", failed, 0);
        round.check_eq(
            "spawned from threads: every task ran",
            ran.load(Ordering::SeqCst),
            threads * per_thread,
        );
    });

    stress.alive();
    drop(rt);
    stress.finish()
}
