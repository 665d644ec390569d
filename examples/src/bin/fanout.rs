//! Fan-out client: many concurrent connections under a `Semaphore` limit, the
//! replies `gather`ed, latency percentiles printed.
//!
//! ```text
//! cargo run --release -p corio-examples --bin fanout [ADDR] [-n N] [-c LIMIT] [-s SIZE]
//! ```
//!
//! Each of `N` tasks (default 2000) waits for one of `LIMIT` permits (default 64),
//! connects to the echo server at `ADDR`, sends `SIZE` bytes (default 64), reads
//! them back and reports how long that took. Without `ADDR` it starts its own
//! echo server on a free loopback port first, so it runs on defaults; point it at
//! `echo` or `echo_tokio` to load those.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::sync::Semaphore;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    addr: Option<String>,
    connections: usize,
    limit: usize,
    size: usize,
}

fn options() -> Result<Options, String> {
    let mut opts = Options {
        addr: None,
        connections: 2000,
        limit: 64,
        size: 64,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let value = args.next().ok_or(format!("{name} needs a value"))?;
            match value.parse() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name}: not a positive number: {value}")),
            }
        };
        match arg.as_str() {
            "-n" => opts.connections = number("-n")?,
            "-c" => opts.limit = number("-c")?,
            "-s" => opts.size = number("-s")?,
            "-h" | "--help" => {
                return Err("usage: fanout [ADDR] [-n CONNECTIONS] [-c LIMIT] [-s SIZE]".into())
            }
            _ if opts.addr.is_none() && !arg.starts_with('-') => opts.addr = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?} (try --help)")),
        }
    }
    Ok(opts)
}

#[corio::main]
async fn main() -> io::Result<()> {
    let opts = options().unwrap_or_else(|msg| {
        eprintln!("{msg}");
        std::process::exit(2);
    });
    let addr: SocketAddr = match &opts.addr {
        Some(addr) => addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no address for {addr}"),
            )
        })?,
        None => {
            let addr = start_echo_server().await?;
            println!("no address given: started an echo server on {addr}");
            addr
        }
    };
    println!(
        "fanout: {} connections to {addr}, at most {} at once, {} bytes each",
        opts.connections, opts.limit, opts.size
    );

    let limit = Arc::new(Semaphore::new(opts.limit));
    let started = Instant::now();
    let tasks = (0..opts.connections).map(|i| {
        let limit = limit.clone();
        let size = opts.size;
        corio::spawn(async move {
            let _permit = limit.acquire_owned().await.expect("never closed");
            round_trip(addr, i, size).await
        })
    });
    let results = corio::gather(tasks).await;
    let elapsed = started.elapsed();

    let mut latencies = Vec::with_capacity(results.len());
    let mut failures = 0;
    for result in results {
        match result {
            Ok(Ok(latency)) => latencies.push(latency),
            Ok(Err(e)) => {
                failures += 1;
                if failures <= 5 {
                    eprintln!("connection failed: {e}");
                }
            }
            Err(join_error) => {
                failures += 1;
                eprintln!("task failed: {join_error}");
            }
        }
    }
    latencies.sort_unstable();
    println!(
        "{} ok, {failures} failed in {:.1?} ({:.0} connections/s)",
        latencies.len(),
        elapsed,
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    if !latencies.is_empty() {
        println!(
            "latency (connect + round trip): p50 {:.0?}  p90 {:.0?}  p99 {:.0?}  max {:.0?}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 90.0),
            percentile(&latencies, 99.0),
            latencies[latencies.len() - 1],
        );
    }
    if failures > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Connects, sends `size` bytes, reads them back; returns how long it all took.
async fn round_trip(addr: SocketAddr, i: usize, size: usize) -> io::Result<Duration> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let message: Vec<u8> = (0..size).map(|j| b'a' + ((i + j) % 26) as u8).collect();
    stream.write_all(&message).await?;
    let mut reply = vec![0u8; size];
    stream.read_exact(&mut reply).await?;
    if reply != message {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "echo mismatch"));
    }
    Ok(start.elapsed())
}

/// The nearest-rank percentile of sorted, non-empty `samples`.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// An echo server on a free loopback port, for running without a peer.
async fn start_echo_server() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    corio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            corio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(addr)
}
