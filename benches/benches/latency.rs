//! Criterion benches of the latency workloads (`workloads/latency.rs`):
//! `mixed`, one group per CPU load, with corio, tokio and smol as its
//! functions; each iteration is one request round trip from a plain thread
//! while CPU tasks keep the workers busy, so criterion's time per iteration
//! is the mean round trip. `compare -- --filter mixed` prints the p50 / p99
//! / max the mean hides.
//!
//! ```text
//! cargo bench -p corio-benches --bench latency
//! cargo bench -p corio-benches --bench latency -- "8x500us"
//! ```
//!
//! `CORIO_BENCH_WORKERS` sets the worker count of each runtime (default 2).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use workloads::latency::{self, Load, Span};
use workloads::{bench_workers, Peers};

fn mixed(c: &mut Criterion) {
    let peers = Peers::new(bench_workers());
    for load in Load::DEFAULTS {
        let name = if load.cpu_tasks == 0 {
            "mixed_no_load".to_string()
        } else {
            format!("mixed_{}x{}us", load.cpu_tasks, load.chunk.as_micros())
        };
        let mut group = c.benchmark_group(name);
        for (i, runtime) in ["corio", "tokio", "smol"].into_iter().enumerate() {
            group.bench_function(runtime, |b| {
                b.iter_custom(|iters| {
                    latency::mixed(&peers, i, load, Span::Requests(iters as usize))
                        .into_iter()
                        .sum()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Each sample starts the load afresh (20 ms to settle): a few samples,
    // a short warm-up.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = mixed
}
criterion_main!(benches);
