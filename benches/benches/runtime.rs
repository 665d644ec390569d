//! Criterion benches of the scheduler workloads (`workloads/spawn.rs`): one
//! group per workload, with corio, tokio and smol as its functions.
//!
//! ```text
//! cargo bench -p corio-benches --bench runtime
//! cargo bench -p corio-benches --bench runtime -- spawn_many
//! ```
//!
//! Each iteration is one run of the workload, timed by the workload itself
//! (`iter_custom`), so criterion measures exactly what `compare` does.
//! `CORIO_BENCH_WORKERS` sets the worker count of each runtime (default 2).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn runtime(c: &mut Criterion) {
    workloads::criterion_groups(c, workloads::spawn::workloads());
}

criterion_group! {
    name = benches;
    // 7 groups of up to 3 functions, ~2.5 s each: about a minute in all.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = runtime
}
criterion_main!(benches);
