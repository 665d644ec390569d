//! Workloads run identically on corio, tokio and async-executor (smol).
//!
//! Every workload is a [`Workload`]: one function per runtime, each running
//! the workload once on an already-built runtime and returning the time it
//! took. `compare` interleaves the runtimes run by run and reports medians;
//! the criterion benches call the same functions.
//!
//! Each concern has its own file: `spawn.rs` (scheduler), `tasks.rs`
//! (gather, TaskGroup, eager spawns), `sync.rs` (primitives), `io.rs`
//! (timers and loopback TCP). Each file exposes
//! `pub fn workloads() -> Vec<Workload>`.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub(crate) mod io;
pub(crate) mod latency;
pub(crate) mod spawn;
pub(crate) mod sync;
pub(crate) mod tasks;

/// The runtimes under comparison, built once with the same number of workers.
pub(crate) struct Peers {
    /// corio's multi-threaded runtime.
    pub corio: corio::runtime::Runtime,
    /// tokio's multi-threaded runtime.
    pub tokio: tokio::runtime::Runtime,
    /// async-executor run by `workers` threads (smol's executor).
    pub smol: SmolRuntime,
    /// Worker count shared by all three.
    pub workers: usize,
}

impl Peers {
    /// Builds all three runtimes with `workers` worker threads each.
    pub(crate) fn new(workers: usize) -> Peers {
        Peers {
            corio: corio::runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .expect("corio runtime"),
            tokio: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .expect("tokio runtime"),
            smol: SmolRuntime::new(workers),
            workers,
        }
    }
}

/// async-executor driven by `n` threads, each running `ex.run(stop)`.
pub(crate) struct SmolRuntime {
    /// The shared executor; spawn onto it.
    pub ex: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SmolRuntime {
    /// Starts `n` runner threads.
    pub(crate) fn new(n: usize) -> SmolRuntime {
        let ex = Arc::new(async_executor::Executor::new());
        let (tx, rx) = async_channel::bounded::<()>(1);
        let threads = (0..n)
            .map(|i| {
                let ex = ex.clone();
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || futures_lite::future::block_on(ex.run(rx.recv())).unwrap_or(()))
                    .expect("spawn smol thread")
            })
            .collect();
        SmolRuntime {
            ex,
            stop: Some(tx),
            threads,
        }
    }

    /// Runs `fut` on the executor and blocks the caller until it finishes.
    pub(crate) fn block_on<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> T {
        futures_lite::future::block_on(self.ex.spawn(fut))
    }
}

impl Drop for SmolRuntime {
    fn drop(&mut self) {
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One run of a workload on one runtime; returns the measured time.
pub(crate) type RunFn = fn(&Peers) -> Duration;

/// A workload with its implementation on each runtime.
pub(crate) struct Workload {
    /// Row name in the table, e.g. `spawn_many_local`.
    pub name: &'static str,
    /// corio's implementation.
    pub corio: RunFn,
    /// tokio's implementation, if the workload has one.
    pub tokio: Option<RunFn>,
    /// async-executor's implementation, if the workload has one.
    pub smol: Option<RunFn>,
}

/// Every workload of every file, in table order.
pub(crate) fn all() -> Vec<Workload> {
    let mut v = spawn::workloads();
    v.extend(tasks::workloads());
    v.extend(sync::workloads());
    v.extend(io::workloads());
    v
}

/// Worker count of each runtime in the criterion benches:
/// `CORIO_BENCH_WORKERS`, default 2.
pub(crate) fn bench_workers() -> usize {
    std::env::var("CORIO_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}

/// One criterion group per workload, with corio, tokio and smol as its
/// functions. Each iteration is one run timed by the workload itself
/// (`iter_custom`), so criterion measures exactly what `compare` does.
pub(crate) fn criterion_groups(c: &mut criterion::Criterion, workloads: Vec<Workload>) {
    let peers = Peers::new(bench_workers());
    for w in workloads {
        let mut group = c.benchmark_group(w.name);
        let impls = [
            ("corio", Some(w.corio)),
            ("tokio", w.tokio),
            ("smol", w.smol),
        ];
        for (runtime, f) in impls {
            let Some(f): Option<RunFn> = f else { continue };
            group.bench_function(runtime, |b| {
                b.iter_custom(|iters| (0..iters).map(|_| f(&peers)).sum())
            });
        }
        group.finish();
    }
}
