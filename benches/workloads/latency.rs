//! Latency workloads: what a client sees, not how long a batch takes.
//!
//! - `mixed`: a TCP echo server on the runtime while CPU tasks keep every
//!   worker busy. Each CPU task spins for a chunk, then yields
//!   (cooperative CPU work), until told to stop. A plain thread outside the
//!   runtime sends 1-byte requests, [`GAP`] apart, and records each round
//!   trip. The load is `cpu_tasks × chunk`; `0 × _` is the idle server.
//! - `main_rtt`: request/reply from a future that the runtime drives, to an
//!   echo server on a plain thread: from a spawned task, from the main future
//!   of `block_on` after the workers have parked, and from `corio::run`
//!   (which builds its own runtime). asyncio programs do their I/O in
//!   `main()`; it must cost what a task's does.
//!
//! Every function returns the round trips it measured; `compare` pools them
//! over interleaved rounds and prints p50 / p99 / max.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future::block_on as smol_block_on;

use super::Peers;

/// Pause between two requests of the `mixed` client.
pub(crate) const GAP: Duration = Duration::from_micros(200);

/// How long CPU tasks run before the client starts, so that every worker is
/// busy when the first request goes out.
const SETTLE: Duration = Duration::from_millis(20);

/// A CPU load: `cpu_tasks` tasks, each spinning `chunk` between yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Load {
    /// CPU tasks running beside the server.
    pub cpu_tasks: usize,
    /// How long each spins before it yields.
    pub chunk: Duration,
}

impl Load {
    /// The loads of issue 9's table: two 8-task loads, two long chunks, idle.
    pub(crate) const DEFAULTS: [Load; 4] = [
        Load::new(8, Duration::from_micros(500)),
        Load::new(8, Duration::from_micros(100)),
        Load::new(2, Duration::from_millis(2)),
        Load::new(0, Duration::ZERO),
    ];

    /// `cpu_tasks × chunk`.
    pub(crate) const fn new(cpu_tasks: usize, chunk: Duration) -> Load {
        Load { cpu_tasks, chunk }
    }

    /// Parses `8x500us`, `2x2ms`, `0` / `none`.
    pub(crate) fn parse(s: &str) -> Option<Load> {
        if s == "0" || s == "none" {
            return Some(Load::new(0, Duration::ZERO));
        }
        let (n, chunk) = s.split_once('x')?;
        let n = n.parse().ok()?;
        let chunk = if let Some(us) = chunk.strip_suffix("us") {
            Duration::from_micros(us.parse().ok()?)
        } else if let Some(ms) = chunk.strip_suffix("ms") {
            Duration::from_millis(ms.parse().ok()?)
        } else {
            return None;
        };
        Some(Load::new(n, chunk))
    }

    /// `8 × 500 µs`, or `no CPU load`.
    pub(crate) fn label(&self) -> String {
        if self.cpu_tasks == 0 {
            return "no CPU load".to_string();
        }
        let us = self.chunk.as_micros();
        let chunk = if us >= 1000 && us.is_multiple_of(1000) {
            format!("{} ms", us / 1000)
        } else {
            format!("{us} µs")
        };
        format!("{} × {chunk}", self.cpu_tasks)
    }
}

/// Spins for `d`: one chunk of CPU work that does not yield.
fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// How long the `mixed` client measures.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Span {
    /// For this long.
    Time(Duration),
    /// This many requests.
    Requests(usize),
}

/// The client thread of `mixed`: 1-byte request/reply exchanges, [`GAP`]
/// apart, for `span`. Returns the round trips.
fn gap_client(addr: SocketAddr, span: Span) -> Vec<Duration> {
    let mut s = StdStream::connect(addr).expect("connect to the echo server");
    s.set_nodelay(true).unwrap();
    let (end, n) = match span {
        Span::Time(d) => (
            Some(Instant::now() + d),
            (d.as_micros() / GAP.as_micros()) as usize,
        ),
        Span::Requests(n) => (None, n),
    };
    let mut samples = Vec::with_capacity(n);
    let mut b = [0u8; 1];
    while end.map_or(samples.len() < n, |end| Instant::now() < end) {
        let t = Instant::now();
        s.write_all(&[7]).unwrap();
        s.read_exact(&mut b).unwrap();
        samples.push(t.elapsed());
        std::thread::sleep(GAP);
    }
    samples
}

/// `mixed` on one runtime: `load` beside an echo server, measured for `span`.
pub(crate) fn mixed(p: &Peers, runtime: usize, load: Load, span: Span) -> Vec<Duration> {
    match runtime {
        0 => mixed_corio(p, load, span),
        1 => mixed_tokio(p, load, span),
        _ => mixed_smol(p, load, span),
    }
}

fn mixed_corio(p: &Peers, load: Load, span: Span) -> Vec<Duration> {
    use corio::io::{AsyncReadExt, AsyncWriteExt};

    let rt = &p.corio;
    let stop = Arc::new(AtomicBool::new(false));
    let listener = rt
        .block_on(corio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).await.is_ok() {
            if s.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let cpu: Vec<_> = (0..load.cpu_tasks)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    spin(load.chunk);
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(SETTLE);
    let samples = gap_client(addr, span);
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in cpu {
            t.await.unwrap();
        }
        server.await.unwrap();
    });
    samples
}

fn mixed_tokio(p: &Peers, load: Load, span: Span) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let rt = &p.tokio;
    let stop = Arc::new(AtomicBool::new(false));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).await.is_ok() {
            if s.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let cpu: Vec<_> = (0..load.cpu_tasks)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    spin(load.chunk);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(SETTLE);
    let samples = gap_client(addr, span);
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in cpu {
            t.await.unwrap();
        }
        server.await.unwrap();
    });
    samples
}

fn mixed_smol(p: &Peers, load: Load, span: Span) -> Vec<Duration> {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use smol::Async;

    let ex = &p.smol.ex;
    let stop = Arc::new(AtomicBool::new(false));
    let listener = Async::<StdListener>::bind(([127, 0, 0, 1], 0)).unwrap();
    let addr = listener.get_ref().local_addr().unwrap();
    let server = ex.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.get_ref().set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).await.is_ok() {
            if s.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let cpu: Vec<_> = (0..load.cpu_tasks)
        .map(|_| {
            let stop = stop.clone();
            ex.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    spin(load.chunk);
                    futures_lite::future::yield_now().await;
                }
            })
        })
        .collect();
    std::thread::sleep(SETTLE);
    let samples = gap_client(addr, span);
    stop.store(true, Ordering::Relaxed);
    smol_block_on(async {
        for t in cpu {
            t.await;
        }
        server.await;
    });
    samples
}

/// Where the `main_rtt` client runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MainSide {
    /// A task spawned on corio's runtime, awaited by `block_on`.
    Spawned,
    /// The main future of `Runtime::block_on`, after the workers parked.
    BlockOn,
    /// The main future of `corio::run`, which builds a runtime for it.
    Run,
    /// tokio: a spawned task (for scale).
    TokioSpawned,
    /// tokio: the main future of `Runtime::block_on`.
    TokioBlockOn,
}

impl MainSide {
    /// Every side, in table order.
    pub(crate) const ALL: [MainSide; 5] = [
        MainSide::Spawned,
        MainSide::BlockOn,
        MainSide::Run,
        MainSide::TokioSpawned,
        MainSide::TokioBlockOn,
    ];

    /// Row label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            MainSide::Spawned => "corio spawned task",
            MainSide::BlockOn => "corio block_on (workers parked)",
            MainSide::Run => "corio::run",
            MainSide::TokioSpawned => "tokio spawned task",
            MainSide::TokioBlockOn => "tokio block_on",
        }
    }
}

/// A plain-thread echo server for `main_rtt`: one connection, echoes 1-byte
/// messages until the client closes.
fn echo_thread() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let l = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let t = std::thread::Builder::new()
        .name("echo".into())
        .spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_nodelay(true).unwrap();
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).is_ok() {
                if s.write_all(&b).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    (addr, t)
}

/// Back-to-back 1-byte exchanges on corio; the round trips.
async fn corio_exchanges(addr: SocketAddr, n: usize) -> Vec<Duration> {
    use corio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = corio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut out = Vec::with_capacity(n);
    let mut b = [0u8; 1];
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&[7]).await.unwrap();
        s.read_exact(&mut b).await.unwrap();
        out.push(t.elapsed());
    }
    out
}

/// Back-to-back 1-byte exchanges on tokio; the round trips.
async fn tokio_exchanges(addr: SocketAddr, n: usize) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut out = Vec::with_capacity(n);
    let mut b = [0u8; 1];
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&[7]).await.unwrap();
        s.read_exact(&mut b).await.unwrap();
        out.push(t.elapsed());
    }
    out
}

/// `main_rtt` from `side`: `n` back-to-back exchanges with a plain-thread
/// echo server.
pub(crate) fn main_rtt(p: &Peers, side: MainSide, n: usize) -> Vec<Duration> {
    let (addr, echo) = echo_thread();
    // Let every worker finish what it did and park, as in a program whose
    // main future starts its I/O after a pause.
    std::thread::sleep(Duration::from_millis(5));
    let out = match side {
        MainSide::Spawned => p
            .corio
            .block_on(p.corio.spawn(corio_exchanges(addr, n)))
            .unwrap(),
        MainSide::BlockOn => p.corio.block_on(corio_exchanges(addr, n)),
        // A default runtime, as `corio::run` builds: one worker per core.
        MainSide::Run => corio::run(corio_exchanges(addr, n)),
        MainSide::TokioSpawned => p
            .tokio
            .block_on(p.tokio.spawn(tokio_exchanges(addr, n)))
            .unwrap(),
        MainSide::TokioBlockOn => p.tokio.block_on(tokio_exchanges(addr, n)),
    };
    echo.join().unwrap();
    out
}

/// p-th percentile (0..=100) of a sorted, non-empty slice, nearest rank.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
