//! Scheduler workloads: spawning, yielding and waking, the same shape on
//! corio, tokio and async-executor (smol).
//!
//! Each workload is a module with one function per runtime, side by side so
//! a reader can check they do the same thing. Around the scheduler they share
//! the same code: the "last one signals" countdown is [`Latch`], which works
//! under any executor, so no runtime's channel is measured against another's.
//! `ping_pong` alone uses each runtime's own oneshot, on purpose: waking a
//! task through a channel is the thing it measures.
//!
//! "From inside" means from a task running on a worker (corio and tokio push
//! to the worker's local queue); "from outside" means from the thread blocked
//! in `block_on`, which is not a worker (the global injection queue). For smol
//! the outside thread is likewise the caller, in `futures_lite::future::block_on`.
//!
//! The sizes follow the workload descriptions in the issue; each run takes
//! from a few hundred microseconds to a few tens of milliseconds.

use std::collections::VecDeque;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use corio_benches::Latch;
use futures_lite::future::block_on as smol_block_on;

use super::{Peers, Workload};

/// Tasks spawned by the `spawn_many_*` workloads.
const SPAWN_MANY: usize = 10_000;
/// Background tasks yielding in a loop in `spawn_many_remote_busy`.
const BUSY_TASKS: usize = 8;
/// Tasks in `yield_many`, each yielding [`YIELDS`] times.
const YIELD_TASKS: usize = 200;
/// Yields per task in `yield_many`.
const YIELDS: usize = 1_000;
/// Ping/pong task pairs in `ping_pong`.
const PING_PONGS: usize = 1_000;
/// Length of the spawn chain in `chained_spawn`.
const CHAIN: usize = 1_000;

/// The scheduler workloads, in table order.
pub(crate) fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "spawn_many_local",
            corio: spawn_many_local::corio,
            tokio: Some(spawn_many_local::tokio),
            smol: Some(spawn_many_local::smol),
        },
        Workload {
            name: "spawn_many_remote_idle",
            corio: spawn_many_remote_idle::corio,
            tokio: Some(spawn_many_remote_idle::tokio),
            smol: Some(spawn_many_remote_idle::smol),
        },
        Workload {
            name: "spawn_many_remote_busy",
            corio: spawn_many_remote_busy::corio,
            tokio: Some(spawn_many_remote_busy::tokio),
            smol: Some(spawn_many_remote_busy::smol),
        },
        Workload {
            name: "spawn_many floor",
            corio: floor::spawn_many,
            tokio: None,
            smol: None,
        },
        Workload {
            name: "yield_many",
            corio: yield_many::corio,
            tokio: Some(yield_many::tokio),
            smol: Some(yield_many::smol),
        },
        Workload {
            name: "ping_pong",
            corio: ping_pong::corio,
            tokio: Some(ping_pong::tokio),
            smol: Some(ping_pong::smol),
        },
        Workload {
            name: "chained_spawn",
            corio: chained_spawn::corio,
            tokio: Some(chained_spawn::tokio),
            smol: Some(chained_spawn::smol),
        },
    ]
}

/// 10,000 tasks spawned from inside a task; each counts down, the last one
/// releases the caller.
pub(crate) mod spawn_many_local {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let done = Latch::new(SPAWN_MANY);
        let start = Instant::now();
        p.corio.block_on(async move {
            let d = done.clone();
            drop(corio::spawn(async move {
                for _ in 0..SPAWN_MANY {
                    let d = d.clone();
                    drop(corio::spawn(async move { d.count_down() }));
                }
            }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let done = Latch::new(SPAWN_MANY);
        let start = Instant::now();
        p.tokio.block_on(async move {
            let d = done.clone();
            drop(tokio::spawn(async move {
                for _ in 0..SPAWN_MANY {
                    let d = d.clone();
                    drop(tokio::spawn(async move { d.count_down() }));
                }
            }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let done = Latch::new(SPAWN_MANY);
        let start = Instant::now();
        smol_block_on(async move {
            let d = done.clone();
            let inner = ex.clone();
            ex.spawn(async move {
                for _ in 0..SPAWN_MANY {
                    let d = d.clone();
                    inner.spawn(async move { d.count_down() }).detach();
                }
            })
            .detach();
            done.wait().await;
        });
        start.elapsed()
    }
}

/// 10,000 tasks spawned from outside the workers, all awaited.
pub(crate) mod spawn_many_remote_idle {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.corio.block_on(async {
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| corio::spawn(async {})).collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.tokio.block_on(async {
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = &p.smol.ex;
        let start = Instant::now();
        smol_block_on(async {
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
            for t in tasks {
                t.await;
            }
        });
        start.elapsed()
    }
}

/// `spawn_many_remote_idle` while 8 background tasks yield in a loop. Only
/// the spawning and awaiting is timed: the busy tasks are all running before
/// the clock starts and are stopped after it stops.
pub(crate) mod spawn_many_remote_busy {
    use super::*;

    /// The busy tasks' shared state: `started` releases once each has been
    /// polled, `stop` ends their loops.
    struct Busy {
        started: Arc<Latch>,
        stop: Arc<AtomicBool>,
    }

    impl Busy {
        fn new() -> Busy {
            Busy {
                started: Latch::new(BUSY_TASKS),
                stop: Arc::new(AtomicBool::new(false)),
            }
        }

        /// The loop one busy task runs, given its runtime's `yield_now`.
        fn task<Y: Future<Output = ()>>(&self, yield_now: fn() -> Y) -> impl Future<Output = ()> {
            let started = self.started.clone();
            let stop = self.stop.clone();
            async move {
                started.count_down();
                while !stop.load(Ordering::Relaxed) {
                    yield_now().await;
                }
            }
        }
    }

    pub(crate) fn corio(p: &Peers) -> Duration {
        let busy = Busy::new();
        p.corio.block_on(async {
            let background: Vec<_> = (0..BUSY_TASKS)
                .map(|_| corio::spawn(busy.task(corio::yield_now)))
                .collect();
            busy.started.wait().await;

            let start = Instant::now();
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| corio::spawn(async {})).collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
            let elapsed = start.elapsed();

            busy.stop.store(true, Ordering::Relaxed);
            for t in background {
                assert!(t.await.is_ok());
            }
            elapsed
        })
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let busy = Busy::new();
        p.tokio.block_on(async {
            let background: Vec<_> = (0..BUSY_TASKS)
                .map(|_| tokio::spawn(busy.task(tokio::task::yield_now)))
                .collect();
            busy.started.wait().await;

            let start = Instant::now();
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
            let elapsed = start.elapsed();

            busy.stop.store(true, Ordering::Relaxed);
            for t in background {
                assert!(t.await.is_ok());
            }
            elapsed
        })
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = &p.smol.ex;
        let busy = Busy::new();
        smol_block_on(async {
            let background: Vec<_> = (0..BUSY_TASKS)
                .map(|_| ex.spawn(busy.task(futures_lite::future::yield_now)))
                .collect();
            busy.started.wait().await;

            let start = Instant::now();
            let tasks: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
            for t in tasks {
                t.await;
            }
            let elapsed = start.elapsed();

            busy.stop.store(true, Ordering::Relaxed);
            for t in background {
                t.await;
            }
            elapsed
        })
    }
}

/// 200 tasks spawned from outside, each yielding 1,000 times; all awaited.
pub(crate) mod yield_many {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.corio.block_on(async {
            let tasks: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    corio::spawn(async {
                        for _ in 0..YIELDS {
                            corio::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        p.tokio.block_on(async {
            let tasks: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    tokio::spawn(async {
                        for _ in 0..YIELDS {
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                assert!(t.await.is_ok());
            }
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = &p.smol.ex;
        let start = Instant::now();
        smol_block_on(async {
            let tasks: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    ex.spawn(async {
                        for _ in 0..YIELDS {
                            futures_lite::future::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
        });
        start.elapsed()
    }
}

/// From inside a task, 1,000 "ping" tasks are spawned; each spawns its
/// "pong", sends it a message on one oneshot and awaits the reply on another;
/// the last ping to finish releases the caller. Uses each runtime's oneshot
/// (async-channel's `bounded(1)` for smol, which has none of its own).
pub(crate) mod ping_pong {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        use corio::sync::oneshot;
        let done = Latch::new(PING_PONGS);
        let start = Instant::now();
        p.corio.block_on(async move {
            let d = done.clone();
            drop(corio::spawn(async move {
                for _ in 0..PING_PONGS {
                    let d = d.clone();
                    drop(corio::spawn(async move {
                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                        drop(corio::spawn(async move {
                            let _ = ping_rx.await;
                            let _ = pong_tx.send(());
                        }));
                        let _ = ping_tx.send(());
                        let _ = pong_rx.await;
                        d.count_down();
                    }));
                }
            }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        use tokio::sync::oneshot;
        let done = Latch::new(PING_PONGS);
        let start = Instant::now();
        p.tokio.block_on(async move {
            let d = done.clone();
            drop(tokio::spawn(async move {
                for _ in 0..PING_PONGS {
                    let d = d.clone();
                    drop(tokio::spawn(async move {
                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                        drop(tokio::spawn(async move {
                            let _ = ping_rx.await;
                            let _ = pong_tx.send(());
                        }));
                        let _ = ping_tx.send(());
                        let _ = pong_rx.await;
                        d.count_down();
                    }));
                }
            }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let done = Latch::new(PING_PONGS);
        let start = Instant::now();
        smol_block_on(async move {
            let d = done.clone();
            let outer = ex.clone();
            ex.spawn(async move {
                for _ in 0..PING_PONGS {
                    let d = d.clone();
                    let inner = outer.clone();
                    outer
                        .spawn(async move {
                            let (ping_tx, ping_rx) = async_channel::bounded::<()>(1);
                            let (pong_tx, pong_rx) = async_channel::bounded::<()>(1);
                            inner
                                .spawn(async move {
                                    let _ = ping_rx.recv().await;
                                    let _ = pong_tx.try_send(());
                                })
                                .detach();
                            let _ = ping_tx.try_send(());
                            let _ = pong_rx.recv().await;
                            d.count_down();
                        })
                        .detach();
                }
            })
            .detach();
            done.wait().await;
        });
        start.elapsed()
    }
}

/// A chain of 1,000 spawns: each task spawns the next, the last one releases
/// the caller.
pub(crate) mod chained_spawn {
    use super::*;

    fn corio_link(done: Arc<Latch>, left: usize) {
        if left == 0 {
            done.count_down();
        } else {
            drop(corio::spawn(async move { corio_link(done, left - 1) }));
        }
    }

    fn tokio_link(done: Arc<Latch>, left: usize) {
        if left == 0 {
            done.count_down();
        } else {
            drop(tokio::spawn(async move { tokio_link(done, left - 1) }));
        }
    }

    fn smol_link(ex: Arc<async_executor::Executor<'static>>, done: Arc<Latch>, left: usize) {
        if left == 0 {
            done.count_down();
        } else {
            let next = ex.clone();
            ex.spawn(async move { smol_link(next, done, left - 1) })
                .detach();
        }
    }

    pub(crate) fn corio(p: &Peers) -> Duration {
        let done = Latch::new(1);
        let start = Instant::now();
        p.corio.block_on(async move {
            let d = done.clone();
            drop(corio::spawn(async move { corio_link(d, CHAIN) }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let done = Latch::new(1);
        let start = Instant::now();
        p.tokio.block_on(async move {
            let d = done.clone();
            drop(tokio::spawn(async move { tokio_link(d, CHAIN) }));
            done.wait().await;
        });
        start.elapsed()
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let done = Latch::new(1);
        let start = Instant::now();
        smol_block_on(async move {
            let d = done.clone();
            let first = ex.clone();
            ex.spawn(async move { smol_link(first, d, CHAIN) }).detach();
            done.wait().await;
        });
        start.elapsed()
    }
}

/// What no scheduler can beat: the work of a spawn, done in one thread with
/// no scheduler. Shown in the corio column; the other columns stay empty.
pub(crate) mod floor {
    use super::*;

    /// What a runtime's task allocation holds, minus the scheduler: a header
    /// (state word, reference count, id, join waker) and the future, in one
    /// allocation, polled through a vtable.
    struct Task<F> {
        state: AtomicUsize,
        refs: AtomicUsize,
        id: u64,
        join_waker: Option<Waker>,
        future: F,
    }

    /// The vtable the queue sees: poll once, then free.
    trait RunOnce {
        fn run(self: Box<Self>, cx: &mut Context<'_>);
    }

    impl<F: Future<Output = ()>> RunOnce for Task<F> {
        fn run(mut self: Box<Self>, cx: &mut Context<'_>) {
            self.state.store(1, Ordering::Relaxed);
            // SAFETY: the task is boxed and never moved out of its box
            // while the future is polled; it is dropped in place after.
            let future = unsafe { Pin::new_unchecked(&mut self.future) };
            let ready = future.poll(cx).is_ready();
            self.state
                .store(if ready { 2 } else { 0 }, Ordering::Relaxed);
            black_box((self.refs.load(Ordering::Relaxed), self.id, &self.join_waker));
            // `self` is freed here.
        }
    }

    /// `spawn_many`'s 10,000 tasks: each allocated with a clone of the
    /// countdown and pushed to a queue, then each popped, polled once (it
    /// counts down) and freed, in one thread.
    pub(crate) fn spawn_many(_: &Peers) -> Duration {
        let done = Latch::new(SPAWN_MANY);
        let mut queue: VecDeque<Box<dyn RunOnce + Send>> = VecDeque::with_capacity(SPAWN_MANY);
        let mut cx = Context::from_waker(Waker::noop());
        let start = Instant::now();
        for id in 0..SPAWN_MANY as u64 {
            let d = done.clone();
            queue.push_back(Box::new(Task {
                state: AtomicUsize::new(0),
                refs: AtomicUsize::new(1),
                id,
                join_waker: None,
                future: async move { d.count_down() },
            }));
        }
        black_box(&mut queue);
        while let Some(task) = queue.pop_front() {
            task.run(&mut cx);
        }
        let elapsed = start.elapsed();
        assert!(done.is_released());
        elapsed
    }
}
