//! Millions of tiny tasks: flat storms awaited through their handles, trees of
//! nested spawns, detached tasks, and spawns from outside the runtime.
//!
//! Invariants: every task runs exactly once (counters match), every
//! `JoinHandle` yields its own task's value, nested trees count every leaf,
//! and nothing hangs (watchdog).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use corio_stress::{Args, Report, Watchdog};

const NAME: &str = "spawn_storm";

/// Spawns a tree `depth` levels deep with `fanout` children per node; returns
/// the number of leaves reached.
fn tree(
    depth: u32,
    fanout: u64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 1;
        }
        let children = (0..fanout).map(|_| corio::spawn(tree(depth - 1, fanout)));
        corio::gather(children)
            .await
            .into_iter()
            .map(|leaves| leaves.expect("tree task failed"))
            .sum()
    })
}

fn main() -> std::process::ExitCode {
    let args = Args::parse(NAME);
    let _watchdog = Watchdog::start(NAME, args.bound);
    let started = Instant::now();
    let mut report = Report::new(NAME);
    let rt = corio_stress::runtime(NAME);

    // 1. Flat storm: spawn in batches, await every handle, check each value.
    let flat = 1_000_000 * args.scale;
    let ran = Arc::new(AtomicU64::new(0));
    let (sum, wrong) = rt.block_on({
        let ran = ran.clone();
        async move {
            let mut sum = 0u64;
            let mut wrong = 0u64;
            let batch = 10_000;
            let mut next = 0;
            while next < flat {
                let end = (next + batch).min(flat);
                let handles: Vec<_> = (next..end)
                    .map(|i| {
                        let ran = ran.clone();
                        corio::spawn(async move {
                            // Relaxed: only the final total is read, after
                            // every handle was awaited (which synchronizes).
                            ran.fetch_add(1, Ordering::Relaxed);
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
                next = end;
            }
            (sum, wrong)
        }
    });
    report.check_eq("flat storm: tasks run", ran.load(Ordering::SeqCst), flat);
    report.check_eq("flat storm: handles with a wrong value", wrong, 0);
    report.check_eq("flat storm: sum of values", sum, flat * (flat - 1) / 2);

    // 2. Nested: trees of spawns inside spawns, spread over the workers.
    let (depth, fanout) = (6u32, 8u64); // 8^6 = 262,144 leaves, 299,593 tasks
    for round in 0..args.scale {
        let leaves = rt.block_on(tree(depth, fanout));
        report.check_eq(
            &format!("nested tree {round}: leaves"),
            leaves,
            fanout.pow(depth),
        );
    }

    // 3. Detached: drop every handle; the tasks must still all run. The last
    // one to finish sets an Event the root waits on.
    let detached = 500_000 * args.scale;
    let left = Arc::new(AtomicU64::new(detached));
    let done = Arc::new(corio::sync::Event::new());
    rt.block_on({
        let (left, done) = (left.clone(), done.clone());
        async move {
            for _ in 0..detached {
                let (left, done) = (left.clone(), done.clone());
                drop(corio::spawn(async move {
                    corio::yield_now().await;
                    // AcqRel: the task seeing zero must see every other
                    // task's decrement before it sets the event.
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        done.set();
                    }
                }));
            }
            done.wait().await;
        }
    });
    report.check_eq("detached storm: tasks left", left.load(Ordering::SeqCst), 0);

    // 4. From outside: plain threads spawn through a Handle while the
    // runtime's workers are busy.
    let outside = 100_000 * args.scale;
    let handle = rt.handle();
    let ran = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (handle, ran) = (handle.clone(), ran.clone());
            std::thread::spawn(move || {
                let handles: Vec<_> = (0..outside / 4)
                    .map(|_| {
                        let ran = ran.clone();
                        handle.spawn(async move {
                            ran.fetch_add(1, Ordering::Relaxed);
                        })
                    })
                    .collect();
                handles
            })
        })
        .collect();
    let handles: Vec<_> = threads
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
    report.check_eq("spawned from threads: failed handles", failed, 0);
    report.check_eq(
        "spawned from threads: tasks run",
        ran.load(Ordering::SeqCst),
        outside / 4 * 4,
    );

    drop(rt);
    report.finish(started)
}
