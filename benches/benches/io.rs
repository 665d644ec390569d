//! Criterion benches of the I/O workloads (`workloads/io.rs`): one group per
//! workload, with corio, tokio and smol as its functions.
//!
//! ```text
//! cargo bench -p corio-benches --bench io
//! cargo bench -p corio-benches --bench io -- tcp_rtt
//! ```
//!
//! Each iteration is one run of the workload, timed by the workload itself
//! (`iter_custom`), so criterion measures exactly what `compare` does.
//! `CORIO_BENCH_WORKERS` sets the worker count of each runtime (default 2).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn io(c: &mut Criterion) {
    workloads::criterion_groups(c, workloads::io::workloads());
}

criterion_group! {
    name = benches;
    // tcp_rtt runs for a second or more per iteration: the minimum sample
    // count keeps the whole bench to a few minutes.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = io
}
criterion_main!(benches);
