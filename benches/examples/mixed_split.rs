//! Where a `mixed` round trip's time goes, corio beside tokio.
//!
//! `cargo run --release -p corio-benches --example mixed_split -- [TASKS] [CHUNK_US] [ROUNDS]`
//! (default `8 100 6`): the `mixed` workload of `compare` (an echo task on a
//! 2-worker runtime, TASKS CPU tasks spinning CHUNK_US between yields, a
//! plain client thread sending 1-byte requests 200 µs apart), with each round
//! trip cut in two at the moment the echo task has read the request:
//!
//! - **in**: request written → echo task has read it. This is the runtime's
//!   wake path: the driver seeing the readiness, the woken task reaching a
//!   worker, that worker reaching it.
//! - **out**: echo task has read it → client has the reply. The echo task's
//!   write, then the kernel waking the client thread and the client getting
//!   a CPU from the spinning workers.
//!
//! Each round also prints the context switches of every thread group in the
//! process (`/proc/self/task/*/status`) and, for corio, the driver turns
//! taken by workers and by the backup thread. Rounds alternate the runtimes;
//! `MIXED_SPLIT_RUNTIME=corio` (or `tokio`) runs one side only.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the client measures per runtime and round.
const SPAN: Duration = Duration::from_secs(2);
/// Pause between two requests, as in `compare`'s `mixed`.
const GAP: Duration = Duration::from_micros(200);
/// CPU tasks run this long before the client starts.
const SETTLE: Duration = Duration::from_millis(20);

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Nanoseconds since `base`: a clock that the client and the echo task share.
fn ns(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// The client: (in, out) of every round trip, in nanoseconds. `read_at` is
/// where the echo task stamps the moment it has read a request.
fn client(addr: SocketAddr, base: Instant, read_at: &AtomicU64) -> Vec<(u64, u64)> {
    let mut s = TcpStream::connect(addr).expect("connect to the echo task");
    s.set_nodelay(true).unwrap();
    let end = Instant::now() + SPAN;
    let mut samples = Vec::new();
    let mut b = [0u8; 1];
    while Instant::now() < end {
        let sent = ns(base);
        s.write_all(&[7]).unwrap();
        s.read_exact(&mut b).unwrap();
        let back = ns(base);
        // SeqCst: the stamp was stored before the reply was written, and the
        // reply has arrived; any ordering would do, this one needs no argument.
        let read = read_at.load(Ordering::SeqCst);
        samples.push((read.saturating_sub(sent), back.saturating_sub(read)));
        std::thread::sleep(GAP);
    }
    samples
}

/// Voluntary and involuntary context switches per thread name (first 12 chars).
fn switches() -> BTreeMap<String, (u64, u64)> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for t in tasks.flatten() {
        let dir = t.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let field = |key: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let e = by_name
            .entry(comm.trim().chars().take(12).collect())
            .or_insert((0, 0));
        e.0 += field("voluntary_ctxt_switches");
        e.1 += field("nonvoluntary_ctxt_switches");
    }
    by_name
}

fn switch_delta(a: &BTreeMap<String, (u64, u64)>, b: &BTreeMap<String, (u64, u64)>) -> String {
    let mut out = Vec::new();
    for (name, &(v, nv)) in b {
        let (v0, nv0) = a.get(name).copied().unwrap_or((0, 0));
        if (v - v0, nv - nv0) != (0, 0) {
            out.push(format!("{name} {}v/{}nv", v - v0, nv - nv0));
        }
    }
    out.join(", ")
}

fn percentile(mut v: Vec<u64>, p: f64) -> f64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

fn report(name: &str, samples: &[(u64, u64)], extra: &str) {
    let part = |f: fn(&(u64, u64)) -> u64| samples.iter().map(f).collect::<Vec<u64>>();
    let (total, inn, out) = (part(|s| s.0 + s.1), part(|s| s.0), part(|s| s.1));
    println!(
        "{name:9} n {:5} | total p50 {:7.1} p99 {:7.1} | in p50 {:6.1} p99 {:7.1} max {:8.1} | out p50 {:6.1} p99 {:7.1} max {:8.1} µs",
        samples.len(),
        percentile(total.clone(), 0.5),
        percentile(total, 0.99),
        percentile(inn.clone(), 0.5),
        percentile(inn.clone(), 0.99),
        percentile(inn, 1.0),
        percentile(out.clone(), 0.5),
        percentile(out.clone(), 0.99),
        percentile(out, 1.0),
    );
    println!("          {extra}");
}

fn round_corio(rt: &corio::runtime::Runtime, base: Instant, tasks: usize, chunk: Duration) {
    use corio::io::{AsyncReadExt, AsyncWriteExt};
    let read_at = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = rt
        .block_on(corio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stamp = read_at.clone();
    let server = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).await.is_ok() {
            stamp.store(ns(base), Ordering::SeqCst);
            if s.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let cpu: Vec<_> = (0..tasks)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                // Relaxed: a stop flag; the join below synchronises.
                while !stop.load(Ordering::Relaxed) {
                    spin(chunk);
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(SETTLE);
    let (m0, s0) = (rt.metrics(), switches());
    let samples = client(addr, base, &read_at);
    let (m1, s1) = (rt.metrics(), switches());
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in cpu {
            t.await.unwrap();
        }
        server.await.unwrap();
    });
    let extra = format!(
        "driver turns: workers +{}, backup +{}; switches: {}",
        m1.driver_turns_by_workers - m0.driver_turns_by_workers,
        m1.driver_turns_by_backup - m0.driver_turns_by_backup,
        switch_delta(&s0, &s1)
    );
    report("corio", &samples, &extra);
}

fn round_tokio(rt: &tokio::runtime::Runtime, base: Instant, tasks: usize, chunk: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let read_at = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stamp = read_at.clone();
    let server = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).await.is_ok() {
            stamp.store(ns(base), Ordering::SeqCst);
            if s.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let cpu: Vec<_> = (0..tasks)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                // Relaxed: a stop flag; the join below synchronises.
                while !stop.load(Ordering::Relaxed) {
                    spin(chunk);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(SETTLE);
    let s0 = switches();
    let samples = client(addr, base, &read_at);
    let s1 = switches();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in cpu {
            t.await.unwrap();
        }
        server.await.unwrap();
    });
    report(
        "tokio",
        &samples,
        &format!("switches: {}", switch_delta(&s0, &s1)),
    );
}

fn main() {
    let arg = |i: usize, default: u64| -> u64 {
        std::env::args().nth(i).map_or(default, |a| {
            a.parse().expect("arguments: TASKS CHUNK_US ROUNDS")
        })
    };
    let (tasks, chunk, rounds) = (
        arg(1, 8) as usize,
        Duration::from_micros(arg(2, 100)),
        arg(3, 6),
    );
    let base = Instant::now();
    let corio_rt = corio::runtime::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("mixed_split: {tasks} CPU tasks × {chunk:?} chunks, 2 workers, {rounds} rounds × {SPAN:?} per runtime");
    // MIXED_SPLIT_RUNTIME=corio|tokio runs one side only (for a kernel
    // trace of one runtime, e.g. under `perf sched record`).
    let only = std::env::var("MIXED_SPLIT_RUNTIME").ok();
    let (corio_on, tokio_on) = match only.as_deref() {
        None => (true, true),
        Some("corio") => (true, false),
        Some("tokio") => (false, true),
        Some(other) => panic!("MIXED_SPLIT_RUNTIME={other}: expected corio or tokio"),
    };
    for round in 0..rounds {
        println!("round {round}");
        for side in [round % 2, 1 - round % 2] {
            match side {
                0 if corio_on => round_corio(&corio_rt, base, tasks, chunk),
                1 if tokio_on => round_tokio(&tokio_rt, base, tasks, chunk),
                _ => {}
            }
        }
    }
}
