//! CPU work and I/O in one server: a hashing service.
//!
//! ```text
//! cargo run --release -p corio-examples --bin cpu_io [ADDR]   # serve (default 127.0.0.1:7790)
//! cargo run --release -p corio-examples --bin cpu_io --demo   # serve + run clients, then exit
//! ```
//!
//! Protocol, one request per line: `ROUNDS PAYLOAD\n`; the reply is the payload
//! hashed `ROUNDS` times (SipHash, chained), as 16 hex digits and a newline.
//! Try `printf '1000 hello\n' | nc 127.0.0.1 7790`.
//!
//! Where the hashing runs is the point of the example:
//! - a small job (under [`INLINE_BUDGET`] bytes hashed) runs right in the
//!   connection's task, on a worker thread: cheaper than a thread hop, and too
//!   short to hold up the other tasks on that worker;
//! - a big job goes to the blocking pool with `corio::to_thread` (asyncio's
//!   `to_thread`), so the workers keep serving I/O for every other connection
//!   while it runs.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use std::hash::{DefaultHasher, Hasher};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Jobs hashing fewer bytes than this (rounds × payload length) run inline on
/// the worker: about 100 µs of SipHash, around the asyncio debug-mode's idea of
/// a step that is still fine (it warns from 100 ms; we stay 1000× under).
const INLINE_BUDGET: usize = 128 * 1024;

/// Longest request line accepted.
const MAX_LINE: usize = 1024 * 1024;

fn main() -> io::Result<()> {
    let demo = std::env::args().nth(1).as_deref() == Some("--demo");
    corio::run(async move {
        if demo {
            return run_demo().await;
        }
        let listener = TcpListener::bind(corio_examples::listen_addr("127.0.0.1:7790")).await?;
        println!("cpu_io (corio) listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of descriptors, most likely: back off instead of spinning.
                eprintln!("accept: {e}");
                corio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        corio::spawn(async move {
            if let Err(e) = handle(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Serves one connection: reads lines, hashes, answers, in order.
async fn handle(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut input = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut output = Vec::new();
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        input.extend_from_slice(&chunk[..n]);
        while let Some(lf) = input.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = input.drain(..=lf).collect();
            let reply = match parse_request(&line[..lf]) {
                Some((rounds, payload)) => format!("{:016x}\n", hash_job(rounds, payload).await),
                None => "ERR expected: ROUNDS PAYLOAD\n".to_string(),
            };
            output.extend_from_slice(reply.as_bytes());
        }
        if input.len() > MAX_LINE {
            stream.write_all(b"ERR line too long\n").await?;
            return Ok(());
        }
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
        }
    }
}

fn parse_request(line: &[u8]) -> Option<(u32, Vec<u8>)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let space = line.iter().position(|&b| b == b' ')?;
    let rounds = std::str::from_utf8(&line[..space]).ok()?.parse().ok()?;
    Some((rounds, line[space + 1..].to_vec()))
}

/// Hashes on the worker or on the blocking pool, by size (see the module doc).
async fn hash_job(rounds: u32, payload: Vec<u8>) -> u64 {
    let work = (rounds as usize).saturating_mul(payload.len().max(1));
    if work < INLINE_BUDGET {
        chained_hash(rounds, &payload)
    } else {
        corio::to_thread(move || chained_hash(rounds, &payload))
            .await
            .expect("hashing does not panic")
    }
}

/// `rounds` chained SipHash passes over `payload`; pure CPU.
fn chained_hash(rounds: u32, payload: &[u8]) -> u64 {
    let mut h = 0u64;
    for _ in 0..rounds.max(1) {
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(h);
        hasher.write(payload);
        h = hasher.finish();
    }
    h
}

/// Starts the server on a free port, then while one client keeps asking for
/// big hashes (to_thread), many small requests keep flowing (inline): the
/// small ones' latency shows the workers were never blocked by the big ones.
async fn run_demo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("cpu_io demo: server on {addr}");
    corio::spawn(async move { serve(listener).await });

    let big = corio::spawn(async move {
        let mut client = Client::connect(addr).await?;
        let payload = "x".repeat(64 * 1024);
        let check = payload.clone();
        let expected = corio::to_thread(move || chained_hash(200, check.as_bytes()));
        let start = Instant::now();
        let mut got = 0;
        for _ in 0..8 {
            got = client.request(200, &payload).await?;
        }
        if Some(got) != expected.await.ok() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "wrong hash"));
        }
        io::Result::Ok(start.elapsed())
    });
    let small = (0..32).map(|i| {
        corio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let mut worst = Duration::ZERO;
            for j in 0..50 {
                let start = Instant::now();
                client.request(10, &format!("request {i}-{j}")).await?;
                worst = worst.max(start.elapsed());
            }
            io::Result::Ok(worst)
        })
    });
    let (big, small) = corio::gather!(big, corio::gather(small));
    let big = big.map_err(|e| io::Error::other(e.to_string()))??;
    let mut worst = Duration::ZERO;
    for result in small {
        worst = worst.max(result.map_err(|e| io::Error::other(e.to_string()))??);
    }
    println!("8 big jobs (200 x 64 KiB hashed each, via to_thread) took {big:.1?}");
    println!("1600 small jobs (inline on the workers) meanwhile, worst latency {worst:.1?}");
    Ok(())
}

/// A line-protocol client.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buf: Vec::new(),
        })
    }

    async fn request(&mut self, rounds: u32, payload: &str) -> io::Result<u64> {
        let request = format!("{rounds} {payload}\n");
        self.stream.write_all(request.as_bytes()).await?;
        let mut chunk = [0u8; 64];
        let line = loop {
            if let Some(lf) = self.buf.iter().position(|&b| b == b'\n') {
                break self.buf.drain(..=lf).collect::<Vec<u8>>();
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let text = std::str::from_utf8(&line).unwrap_or("").trim_end();
        let hash = u64::from_str_radix(text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("reply {text:?}")))?;
        // Check small jobs here; a big one is checked by its caller, off the worker.
        let small = (rounds as usize).saturating_mul(payload.len()) < INLINE_BUDGET;
        if small && hash != chained_hash(rounds, payload.as_bytes()) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "wrong hash"));
        }
        Ok(hash)
    }
}
