//! Criterion benches of the primitive workloads (`workloads/sync.rs`): one
//! group per workload, with corio, tokio and smol as its functions.
//!
//! ```text
//! cargo bench -p corio-benches --bench sync
//! cargo bench -p corio-benches --bench sync -- lock_contended
//! ```
//!
//! Each iteration is one run of the workload, timed by the workload itself
//! (`iter_custom`), so criterion measures exactly what `compare` does.
//! `CORIO_BENCH_WORKERS` sets the worker count of each runtime (default 2).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn sync(c: &mut Criterion) {
    workloads::criterion_groups(c, workloads::sync::workloads());
}

criterion_group! {
    name = benches;
    // 3 groups of 3 functions; queue_mpmc runs take ~0.1-0.5 s, so few samples.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = sync
}
criterion_main!(benches);
