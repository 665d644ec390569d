//! Primitive workloads: corio-sync against tokio::sync and async-lock /
//! async-channel, each on its own runtime with the same number of workers.
//!
//! - `lock_contended`: 1,000 tasks each take a shared lock 100 times to
//!   increment a counter (100,000 hand-offs under contention). corio `Lock`
//!   vs `tokio::sync::Mutex` vs `async_lock::Mutex` (on async-executor).
//! - `semaphore_1000`: 1,000 tasks share a `Semaphore(10)`; each acquires a
//!   permit 10 times, yields once while holding it (so permits are really
//!   held across a scheduling point) and releases. corio `Semaphore` vs
//!   `tokio::sync::Semaphore` vs `async_lock::Semaphore`.
//! - `queue_mpmc`: 4 producers put 250,000 items each through a queue bounded
//!   at 128 to 4 consumers (1,000,000 items). corio `Queue(128)` (producers
//!   done → `shutdown(false)`, consumers drain until `get` fails) vs tokio
//!   `mpsc::channel(128)` (mpsc has one receiver, so the 4 consumers share it
//!   behind a `tokio::sync::Mutex`, each taking the mutex around one `recv`;
//!   the channel closes when the senders drop) vs `async_channel::bounded(128)`
//!   (its receiver is cloneable: 4 clones).
//!
//! Every run spawns its tasks from inside one root task and awaits them all;
//! the time covers spawning, the work and joining. Each run checks its result
//! (the counter, the number of items) after the clock stops.

use std::time::{Duration, Instant};

use futures_lite::future::block_on as smol_block_on;

use super::{Peers, Workload};

/// Tasks in `lock_contended` and `semaphore_1000`.
const TASKS: usize = 1_000;
/// Lock round trips per task in `lock_contended`.
const LOCKS_PER_TASK: usize = 100;
/// Permits of the semaphore in `semaphore_1000`.
const PERMITS: usize = 10;
/// Acquire/yield/release rounds per task in `semaphore_1000`.
const ACQUIRES_PER_TASK: usize = 10;
/// Bound of the queue in `queue_mpmc`.
const QUEUE_BOUND: usize = 128;
/// Producers and consumers in `queue_mpmc`.
const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
/// Items moved in `queue_mpmc`, split evenly among the producers.
const ITEMS: usize = 1_000_000;

/// The primitive workloads, in table order.
pub(crate) fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "lock_contended",
            corio: lock_contended::corio,
            tokio: Some(lock_contended::tokio),
            smol: Some(lock_contended::smol),
        },
        Workload {
            name: "semaphore_1000",
            corio: semaphore_1000::corio,
            tokio: Some(semaphore_1000::tokio),
            smol: Some(semaphore_1000::smol),
        },
        Workload {
            name: "queue_mpmc",
            corio: queue_mpmc::corio,
            tokio: Some(queue_mpmc::tokio),
            smol: Some(queue_mpmc::smol),
        },
    ]
}

/// 1,000 tasks × 100 acquire/increment/release on one shared counter.
pub(crate) mod lock_contended {
    use super::*;
    use std::sync::Arc;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let lock = Arc::new(corio::sync::Lock::new(0usize));
        let l = lock.clone();
        let start = Instant::now();
        p.corio.block_on(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let l = l.clone();
                    corio::spawn(async move {
                        for _ in 0..LOCKS_PER_TASK {
                            *l.acquire().await += 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let took = start.elapsed();
        assert_eq!(*lock.try_acquire().unwrap(), TASKS * LOCKS_PER_TASK);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let lock = Arc::new(tokio::sync::Mutex::new(0usize));
        let l = lock.clone();
        let start = Instant::now();
        p.tokio.block_on(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let l = l.clone();
                    tokio::spawn(async move {
                        for _ in 0..LOCKS_PER_TASK {
                            *l.lock().await += 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let took = start.elapsed();
        assert_eq!(*lock.try_lock().unwrap(), TASKS * LOCKS_PER_TASK);
        took
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let lock = Arc::new(async_lock::Mutex::new(0usize));
        let l = lock.clone();
        let ex = p.smol.ex.clone();
        let start = Instant::now();
        smol_block_on(p.smol.ex.spawn(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let l = l.clone();
                    ex.spawn(async move {
                        for _ in 0..LOCKS_PER_TASK {
                            *l.lock().await += 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
        }));
        let took = start.elapsed();
        assert_eq!(*lock.try_lock().unwrap(), TASKS * LOCKS_PER_TASK);
        took
    }
}

/// 1,000 tasks × 10 rounds of acquire / yield / release on `Semaphore(10)`.
pub(crate) mod semaphore_1000 {
    use super::*;
    use std::sync::Arc;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let sem = Arc::new(corio::sync::Semaphore::new(PERMITS));
        let s = sem.clone();
        let start = Instant::now();
        p.corio.block_on(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let s = s.clone();
                    corio::spawn(async move {
                        for _ in 0..ACQUIRES_PER_TASK {
                            let _permit = s.acquire().await.unwrap();
                            corio::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let took = start.elapsed();
        assert_eq!(sem.available_permits(), PERMITS);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        let s = sem.clone();
        let start = Instant::now();
        p.tokio.block_on(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        for _ in 0..ACQUIRES_PER_TASK {
                            let _permit = s.acquire().await.unwrap();
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let took = start.elapsed();
        assert_eq!(sem.available_permits(), PERMITS);
        took
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let sem = Arc::new(async_lock::Semaphore::new(PERMITS));
        let s = sem.clone();
        let ex = p.smol.ex.clone();
        let start = Instant::now();
        smol_block_on(p.smol.ex.spawn(async move {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let s = s.clone();
                    ex.spawn(async move {
                        for _ in 0..ACQUIRES_PER_TASK {
                            let _permit = s.acquire().await;
                            futures_lite::future::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
        }));
        let took = start.elapsed();
        assert!(sem.try_acquire_arc().is_some());
        took
    }
}

/// 4 producers → bounded(128) → 4 consumers, 1,000,000 items.
pub(crate) mod queue_mpmc {
    use super::*;
    use std::sync::Arc;

    const PER_PRODUCER: usize = ITEMS / PRODUCERS;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        let received = p.corio.block_on(async {
            let q = Arc::new(corio::sync::Queue::new(QUEUE_BOUND));
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    corio::spawn(async move {
                        let mut n = 0usize;
                        while q.get().await.is_ok() {
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|_| {
                    let q = q.clone();
                    corio::spawn(async move {
                        for i in 0..PER_PRODUCER {
                            q.put(i).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in producers {
                t.await.unwrap();
            }
            q.shutdown(false);
            let mut total = 0;
            for t in consumers {
                total += t.await.unwrap();
            }
            total
        });
        let took = start.elapsed();
        assert_eq!(received, ITEMS);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        let received = p.tokio.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::channel(QUEUE_BOUND);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let rx = rx.clone();
                    tokio::spawn(async move {
                        let mut n = 0usize;
                        loop {
                            let item = rx.lock().await.recv().await;
                            if item.is_none() {
                                break;
                            }
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|_| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..PER_PRODUCER {
                            tx.send(i).await.unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            for t in producers {
                t.await.unwrap();
            }
            let mut total = 0;
            for t in consumers {
                total += t.await.unwrap();
            }
            total
        });
        let took = start.elapsed();
        assert_eq!(received, ITEMS);
        took
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let start = Instant::now();
        let received = smol_block_on(p.smol.ex.spawn(async move {
            let (tx, rx) = async_channel::bounded(QUEUE_BOUND);
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let rx = rx.clone();
                    ex.spawn(async move {
                        let mut n = 0usize;
                        while rx.recv().await.is_ok() {
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            drop(rx);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|_| {
                    let tx = tx.clone();
                    ex.spawn(async move {
                        for i in 0..PER_PRODUCER {
                            tx.send(i).await.unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            for t in producers {
                t.await;
            }
            let mut total = 0;
            for t in consumers {
                total += t.await;
            }
            total
        }));
        let took = start.elapsed();
        assert_eq!(received, ITEMS);
        took
    }
}
