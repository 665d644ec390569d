//! Lock, Semaphore and Queue under heavy contention from many tasks on every
//! worker, with random cancellation: waits cut short by `wait_for` timeouts
//! and whole tasks aborted mid-wait or while holding what they acquired.
//!
//! Each round draws every timeout, every cancellation and every abort from
//! its seed.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - Lock: never two holders at once (`lock_bypass`: one task enters the
//!   critical section without the lock); the protected counter equals the
//!   number of critical sections entered (`lock_lost_update`: one section
//!   does not update the counter).
//! - Semaphore: never more holders than permits (`sem_bypass`: one task
//!   holds without a permit); every permit comes back, `available_permits()`
//!   ends where it started (`sem_forget`: one permit is forgotten); no holder
//!   left on record (`sem_stuck_holder`: one holder never leaves the count).
//! - Queue: every item put is got exactly once (`queue_lose_item`: a
//!   consumer throws one item away; `queue_dup_item`: one item is recorded
//!   twice); `join()` returns once every item is `task_done`
//!   (`queue_skip_done`: one `task_done` is skipped, so `join` times out).
//! - Nothing hangs (watchdog): a lost hand-off would strand a waiter.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::{Lock, Queue, Semaphore};
use corio::time::wait_for;
use corio_stress::{fault, Common, Ops, Rng, Round, Stress};

const NAME: &str = "sync_storm";

/// Clears a flag when dropped, so an aborted holder still leaves the
/// critical section on record.
struct Leave<'a>(&'a AtomicBool);
impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Decrements a counter when dropped.
struct Release<'a>(&'a AtomicUsize);
impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A short random timeout: 0 to 2 ms, often enough to expire mid-wait.
fn short(rng: &mut Rng) -> Duration {
    Duration::from_micros(rng.below(2_000))
}

fn lock_storm(rt: &corio::runtime::Runtime, round: &mut Round<'_>, ops: &Ops) {
    let tasks = 200u64;
    let rounds = 100 * round.scale;
    let seed = round.seed;
    let lock = Arc::new(Lock::new(0u64));
    let inside = Arc::new(AtomicBool::new(false));
    let entered = Arc::new(AtomicU64::new(0));
    let overlaps = Arc::new(AtomicU64::new(0));
    let timeouts = Arc::new(AtomicU64::new(0));
    let aborted = rt.block_on({
        let (lock, inside, entered, overlaps, timeouts) = (
            lock.clone(),
            inside.clone(),
            entered.clone(),
            overlaps.clone(),
            timeouts.clone(),
        );
        let ops = ops.clone();
        async move {
            let handles: Vec<_> = (0..tasks)
                .map(|t| {
                    let (lock, inside, entered, overlaps, timeouts) = (
                        lock.clone(),
                        inside.clone(),
                        entered.clone(),
                        overlaps.clone(),
                        timeouts.clone(),
                    );
                    let ops = ops.clone();
                    corio::spawn(async move {
                        let mut rng = Rng::new(corio_stress::splitmix(seed ^ t));
                        for _ in 0..rounds {
                            ops.add(1);
                            if t == 0 && fault("lock_bypass") {
                                if inside.swap(true, Ordering::SeqCst) {
                                    overlaps.fetch_add(1, Ordering::SeqCst);
                                }
                                corio::yield_now().await;
                                inside.store(false, Ordering::SeqCst);
                                continue;
                            }
                            let mut guard = if rng.chance(20) {
                                match wait_for(lock.acquire(), short(&mut rng)).await {
                                    Ok(guard) => guard,
                                    Err(_) => {
                                        timeouts.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                }
                            } else {
                                lock.acquire().await
                            };
                            if inside.swap(true, Ordering::SeqCst) {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            let _leave = Leave(&inside);
                            // Counter and tally move together: an abort can
                            // only land at an await, never between them.
                            if !(t == 1 && fault("lock_lost_update")) {
                                *guard += 1;
                            }
                            entered.fetch_add(1, Ordering::SeqCst);
                            if rng.chance(10) {
                                corio::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            // Abort a random tenth of the tasks while they run.
            let mut rng = Rng::new(corio_stress::splitmix(seed ^ 0xAB));
            let mut to_abort = Vec::new();
            let mut to_join = Vec::new();
            for handle in handles {
                if rng.chance(10) {
                    to_abort.push(handle);
                } else {
                    to_join.push(handle);
                }
            }
            corio::yield_now().await;
            for handle in &to_abort {
                handle.abort();
            }
            let mut aborted = 0;
            for result in corio::gather(to_abort.into_iter().chain(to_join)).await {
                match result {
                    Ok(()) => {}
                    Err(e) if e.is_cancelled() => aborted += 1,
                    Err(e) => panic!("lock storm task panicked: {e:?}"),
                }
            }
            aborted
        }
    });
    let value = match Arc::try_unwrap(lock) {
        Ok(lock) => lock.into_inner(),
        Err(_) => panic!("lock still shared after every task finished"),
    };
    // Cancellation did happen (timeouts, aborts) for the round to mean much;
    // not an invariant, since a lightly loaded run may see no timeout.
    let _ = (aborted, timeouts.load(Ordering::SeqCst));
    round.check_eq(
        "lock: never two holders at once",
        overlaps.load(Ordering::SeqCst),
        0,
    );
    round.check_eq(
        "lock: counter == sections entered",
        value,
        entered.load(Ordering::SeqCst),
    );
}

fn semaphore_storm(rt: &corio::runtime::Runtime, round: &mut Round<'_>, ops: &Ops) {
    const PERMITS: usize = 7;
    let tasks = 300u64;
    let rounds = 100 * round.scale;
    let seed = round.seed;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let in_use = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    rt.block_on({
        let (sem, in_use, max_seen) = (sem.clone(), in_use.clone(), max_seen.clone());
        let ops = ops.clone();
        async move {
            let handles: Vec<_> = (0..tasks)
                .map(|t| {
                    let (sem, in_use, max_seen) = (sem.clone(), in_use.clone(), max_seen.clone());
                    let ops = ops.clone();
                    corio::spawn(async move {
                        let mut rng = Rng::new(corio_stress::splitmix(seed ^ (1_000 + t)));
                        for i in 0..rounds {
                            ops.add(1);
                            let n = if rng.chance(20) { 2 } else { 1 };
                            if t == 0 && fault("sem_bypass") {
                                let now = in_use.fetch_add(1, Ordering::SeqCst) + 1;
                                max_seen.fetch_max(now, Ordering::SeqCst);
                                corio::yield_now().await;
                                in_use.fetch_sub(1, Ordering::SeqCst);
                                continue;
                            }
                            let acquire = sem.acquire_many(n);
                            let _permit = if rng.chance(25) {
                                match wait_for(acquire, short(&mut rng)).await {
                                    Ok(permit) => permit,
                                    Err(_) => continue,
                                }
                            } else {
                                acquire.await
                            }
                            .expect("semaphore closed");
                            let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
                            let _release = (0..n).map(|_| Release(&in_use)).collect::<Vec<_>>();
                            if t == 1 && i == 0 && fault("sem_stuck_holder") {
                                in_use.fetch_add(1, Ordering::SeqCst);
                            }
                            if t == 2 && i == 0 && fault("sem_forget") {
                                let extra = sem.acquire().await.expect("semaphore closed");
                                extra.forget();
                            }
                            max_seen.fetch_max(now, Ordering::SeqCst);
                            if rng.chance(30) {
                                corio::yield_now().await;
                            }
                            // Scope end drops `_release` before `permit`
                            // (reverse declaration order), also on abort, so
                            // a holder leaves the count before its permit can
                            // be handed on.
                        }
                    })
                })
                .collect();
            let mut rng = Rng::new(corio_stress::splitmix(seed ^ 0xCD));
            for handle in &handles {
                if rng.chance(10) {
                    handle.abort();
                }
            }
            for result in corio::gather(handles).await {
                if let Err(e) = result {
                    assert!(e.is_cancelled(), "semaphore storm task panicked: {e:?}");
                }
            }
        }
    });
    round.check(
        max_seen.load(Ordering::SeqCst) <= PERMITS,
        "semaphore: holders never exceed the permits",
        format_args!(
            "max {} holders, {PERMITS} permits",
            max_seen.load(Ordering::SeqCst)
        ),
    );
    round.check_eq(
        "semaphore: permits conserved",
        sem.available_permits(),
        PERMITS,
    );
    round.check_eq(
        "semaphore: no holder left",
        in_use.load(Ordering::SeqCst),
        0,
    );
}

fn queue_storm(rt: &corio::runtime::Runtime, round: &mut Round<'_>, ops: &Ops) {
    let seed = round.seed;
    let mut rng = round.rng(3);
    let producers = 1 + rng.below(32);
    let consumers = 1 + rng.below(32);
    let per_producer = 50_000 / producers * round.scale;
    let capacity = [1, 2, 8, 64, 0][rng.below(5) as usize];
    let total = producers * per_producer;
    let queue = Arc::new(Queue::new(capacity));
    let seen: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let (put_timeouts, get_timeouts, joined) = rt.block_on({
        let (queue, seen) = (queue.clone(), seen.clone());
        let ops = ops.clone();
        async move {
            let put_timeouts = Arc::new(AtomicU64::new(0));
            let get_timeouts = Arc::new(AtomicU64::new(0));
            let producer_handles: Vec<_> = (0..producers)
                .map(|p| {
                    let (queue, put_timeouts) = (queue.clone(), put_timeouts.clone());
                    corio::spawn(async move {
                        let mut rng = Rng::new(corio_stress::splitmix(seed ^ (2_000 + p)));
                        for i in 0..per_producer {
                            let item = p * per_producer + i;
                            // A put cut short by its timeout did not put:
                            // retry the same item.
                            loop {
                                if rng.chance(20) {
                                    match wait_for(queue.put(item), short(&mut rng)).await {
                                        Ok(result) => break result.expect("queue shut down early"),
                                        Err(_) => put_timeouts.fetch_add(1, Ordering::Relaxed),
                                    };
                                } else {
                                    break queue.put(item).await.expect("queue shut down early");
                                }
                            }
                        }
                    })
                })
                .collect();
            let consumer_handles: Vec<_> = (0..consumers)
                .map(|c| {
                    let (queue, seen, get_timeouts) =
                        (queue.clone(), seen.clone(), get_timeouts.clone());
                    let ops = ops.clone();
                    corio::spawn(async move {
                        let mut rng = Rng::new(corio_stress::splitmix(seed ^ (3_000 + c)));
                        loop {
                            let item = if rng.chance(20) {
                                match wait_for(queue.get(), short(&mut rng)).await {
                                    Ok(result) => result,
                                    Err(_) => {
                                        get_timeouts.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                }
                            } else {
                                queue.get().await
                            };
                            // Err: shut down and drained.
                            let Ok(item) = item else { return };
                            ops.add(1);
                            if !(item == 5 && fault("queue_lose_item")) {
                                seen[item as usize].fetch_add(1, Ordering::SeqCst);
                            }
                            if item == 6 && fault("queue_dup_item") {
                                seen[item as usize].fetch_add(1, Ordering::SeqCst);
                            }
                            if !(item == 7 && fault("queue_skip_done")) {
                                queue.task_done().expect("task_done");
                            }
                        }
                    })
                })
                .collect();
            for result in corio::gather(producer_handles).await {
                result.expect("producer failed");
            }
            // Every item was put; join() returns once every one is done.
            let joined = wait_for(queue.join(), Duration::from_secs(10))
                .await
                .is_ok();
            queue.shutdown(false);
            for result in corio::gather(consumer_handles).await {
                result.expect("consumer failed");
            }
            (
                put_timeouts.load(Ordering::SeqCst),
                get_timeouts.load(Ordering::SeqCst),
                joined,
            )
        }
    });
    let lost = seen
        .iter()
        .filter(|n| n.load(Ordering::SeqCst) == 0)
        .count();
    let duplicated = seen.iter().filter(|n| n.load(Ordering::SeqCst) > 1).count();
    let _ = (put_timeouts, get_timeouts);
    round.check_eq("queue: no item lost", lost, 0);
    if duplicated > 0 {
        // A put is retried only after its wait_for timed out; an item got
        // twice means a put cut short by its timeout had put its item
        // anyway, against asyncio's rule that a cancelled put did not put.
        println!("    a put cancelled by its timeout had put its item ({duplicated} items)");
    }
    round.check_eq("queue: no item got twice", duplicated, 0);
    round.check(
        joined,
        "queue: join() returns once every item is task_done",
        format_args!("join() still waiting 10 s after the last put ({total} items)"),
    );
}

fn main() -> std::process::ExitCode {
    let common: Common = corio_stress::parse(
        NAME,
        "Lock, Semaphore and Queue under contention with random cancellation",
    );
    let mut stress = Stress::start(NAME, &common);
    let rt = stress.runtime();
    let ops = stress.ops();
    stress.rounds(|round| {
        lock_storm(&rt, round, &ops);
        semaphore_storm(&rt, round, &ops);
        queue_storm(&rt, round, &ops);
    });
    stress.alive();
    drop(rt);
    stress.finish()
}
