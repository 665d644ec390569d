//! The task toolbox: `gather` over many futures, a `TaskGroup` of many
//! tasks, and eager spawning of futures that are ready at once.
//!
//! Every workload runs inside a task on a worker (spawned from the caller and
//! awaited), the place servers call these from. The peers: tokio's
//! `futures::future::join_all` for `gather`, tokio's `JoinSet` for
//! `TaskGroup` (smol has neither: its column spawns the tasks and awaits them
//! in order), and a plain spawn for eager spawns (neither peer has eager
//! tasks, so the eager row shows the same peer spawn as the plain row).

use std::hint::black_box;
use std::time::{Duration, Instant};

use futures_lite::future::block_on as smol_block_on;

use super::{Peers, Workload};

/// Futures or tasks per run, as the issue asks.
const N: u64 = 10_000;

/// The task-toolbox workloads, in table order.
pub(crate) fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "gather_10k",
            corio: gather::corio,
            tokio: Some(gather::tokio),
            smol: None,
        },
        Workload {
            name: "task_group_10k",
            corio: task_group::corio,
            tokio: Some(task_group::tokio),
            smol: Some(task_group::smol),
        },
        Workload {
            name: "spawn_ready_10k",
            corio: spawn_ready::corio,
            tokio: Some(spawn_ready::tokio),
            smol: Some(spawn_ready::smol),
        },
        Workload {
            name: "spawn_ready_10k eager",
            corio: spawn_ready::corio_eager,
            tokio: Some(spawn_ready::tokio),
            smol: Some(spawn_ready::smol),
        },
    ]
}

/// The sum every workload computes: 0 + 1 + ... + (N - 1).
const SUM: u64 = N * (N - 1) / 2;

/// `gather` of 10,000 futures that are ready at once, inside one task.
pub(crate) mod gather {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.corio.block_on(p.corio.spawn(async {
            let outputs = corio::gather((0..N).map(|i| async move { black_box(i) })).await;
            outputs.into_iter().sum::<u64>()
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.tokio.block_on(p.tokio.spawn(async {
            let outputs =
                futures_util::future::join_all((0..N).map(|i| async move { black_box(i) })).await;
            outputs.into_iter().sum::<u64>()
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }
}

/// A group of 10,000 tasks, each returning a number, joined: corio's
/// `TaskGroup` (values in spawn order) against tokio's `JoinSet` (values in
/// completion order).
pub(crate) mod task_group {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.corio.block_on(p.corio.spawn(async {
            let group = corio::task::TaskGroup::<u64, ()>::new();
            for i in 0..N {
                group.spawn(async move { Ok(black_box(i)) });
            }
            group.join().await.unwrap().into_iter().sum::<u64>()
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.tokio.block_on(p.tokio.spawn(async {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..N {
                set.spawn(async move { black_box(i) });
            }
            let mut sum = 0;
            while let Some(value) = set.join_next().await {
                sum += value.unwrap();
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let start = Instant::now();
        let inner = ex.clone();
        let sum = smol_block_on(ex.spawn(async move {
            let tasks: Vec<_> = (0..N)
                .map(|i| inner.spawn(async move { black_box(i) }))
                .collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await;
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum, SUM);
        took
    }
}

/// 10,000 tasks whose futures are ready at once, spawned from a task, every
/// handle awaited: plainly (queued, run later) or eagerly (corio only: run
/// inside the spawn, never queued).
pub(crate) mod spawn_ready {
    use super::*;

    pub(crate) fn corio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.corio.block_on(p.corio.spawn(async {
            let handles: Vec<_> = (0..N)
                .map(|i| corio::spawn(async move { black_box(i) }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn corio_eager(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.corio.block_on(p.corio.spawn(async {
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    corio::task::Builder::new()
                        .eager(true)
                        .spawn(async move { black_box(i) })
                })
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn tokio(p: &Peers) -> Duration {
        let start = Instant::now();
        let sum = p.tokio.block_on(p.tokio.spawn(async {
            let handles: Vec<_> = (0..N)
                .map(|i| tokio::spawn(async move { black_box(i) }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum.unwrap(), SUM);
        took
    }

    pub(crate) fn smol(p: &Peers) -> Duration {
        let ex = p.smol.ex.clone();
        let start = Instant::now();
        let inner = ex.clone();
        let sum = smol_block_on(ex.spawn(async move {
            let handles: Vec<_> = (0..N)
                .map(|i| inner.spawn(async move { black_box(i) }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await;
            }
            sum
        }));
        let took = start.elapsed();
        assert_eq!(sum, SUM);
        took
    }
}
