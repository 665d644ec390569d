//! Hundreds of loopback clients against an echo server on the same runtime.
//!
//! Each round binds a fresh echo server and starts `--clients` clients at
//! once. Every client draws from the round's seed 1 to 6 messages of 1 B to
//! 1 MiB (log-uniform, so tiny and huge both occur), writes them while it
//! reads the echo back, and ends in one of four ways:
//! - **half-close** (55%): `shutdown(Write)` after the last message, then
//!   read until the server's end of file;
//! - **half-close mid-message** (15%): the same, after part of one more
//!   message;
//! - **drop mid-message** (15%): close (FIN) after part of one more message
//!   while its echo is still in flight;
//! - **reset mid-message** (15%): the same with `SO_LINGER` 0, so the close
//!   is a reset (RST).
//!
//! The server task per connection reads into a 64 KiB buffer and writes
//! back what it read until end of file (then half-closes) or a reset.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every byte a client finished sending came back intact: each finished
//!   message's echo has the message's FNV-1a checksum, and a half-closed
//!   stream ends exactly after the last byte sent (`corrupt_echo`: the
//!   server flips one byte of one connection's echo);
//! - every client that was not told to disconnect finishes without an I/O
//!   error (`reset_client`: the server resets one connection);
//! - server connection tasks end cleanly: end of file, or a reset / broken
//!   pipe from a client that disconnected; never a panic or another error
//!   (`server_panic`: one connection task panics);
//! - the server ends with zero live connections once every client is done
//!   (`stuck_conn`: one connection task never returns);
//! - no descriptor leaks: `/proc/self/fd` is back to its start value after
//!   each round (`leak_fd`: one accepted socket is leaked with
//!   `mem::forget`).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio::sync::{Event, Queue};
use corio::JoinHandle;
use corio_stress::{fault, Checksum, Common, Ops, Rng, Stress};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

const NAME: &str = "tcp_flood";
/// Largest message.
const MAX_MESSAGE: usize = 1 << 20;
/// Buffer size of the server's reads and the clients' reads and writes.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, clap::Args)]
struct Flags {
    #[command(flatten)]
    common: Common,
    /// Clients started at once in each round (times --scale).
    #[arg(long, default_value_t = 200)]
    clients: u64,
}

/// How a client ends its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    HalfClose,
    HalfCloseMid,
    DropMid,
    ResetMid,
}

/// What one client will do, drawn from its seed.
#[derive(Debug)]
struct Plan {
    sizes: Vec<usize>,
    /// Bytes of one more message sent before the ending (0 for `HalfClose`).
    partial: usize,
    ending: Ending,
}

impl Plan {
    fn draw(rng: &mut Rng) -> Plan {
        let sizes = (0..1 + rng.below(6))
            .map(|_| rng.log_size(MAX_MESSAGE))
            .collect();
        let ending = match rng.below(100) {
            0..=54 => Ending::HalfClose,
            55..=69 => Ending::HalfCloseMid,
            70..=84 => Ending::DropMid,
            _ => Ending::ResetMid,
        };
        let partial = match ending {
            Ending::HalfClose => 0,
            _ => rng.log_size(MAX_MESSAGE),
        };
        Plan {
            sizes,
            partial,
            ending,
        }
    }

    /// Bytes the client will have finished sending and must see echoed.
    fn echoed_bytes(&self) -> u64 {
        let full: usize = self.sizes.iter().sum();
        match self.ending {
            Ending::HalfClose => full as u64,
            Ending::HalfCloseMid => (full + self.partial) as u64,
            Ending::DropMid | Ending::ResetMid => full as u64,
        }
    }
}

/// What a client saw.
#[derive(Debug, Default)]
struct Seen {
    /// Bytes echoed back and verified.
    verified: u64,
}

/// Why a client failed.
#[derive(Debug)]
enum ClientError {
    /// The echo differed from what was sent.
    Corrupt(String),
    /// An I/O error, or a task that failed.
    Io(String),
}

/// Writes `len` bytes drawn from `payload` in chunks; returns their checksum.
async fn send(stream: &TcpStream, payload: &mut Rng, len: usize) -> io::Result<Checksum> {
    let mut sum = Checksum::default();
    let mut buf = vec![0u8; CHUNK.min(len)];
    let mut left = len;
    let mut w = stream;
    while left > 0 {
        let n = left.min(CHUNK);
        payload.fill(&mut buf[..n]);
        sum.update(&buf[..n]);
        w.write_all(&buf[..n]).await?;
        left -= n;
    }
    Ok(sum)
}

/// Reads exactly `len` bytes; returns their checksum.
async fn receive(stream: &TcpStream, buf: &mut [u8], len: usize) -> io::Result<Checksum> {
    let mut sum = Checksum::default();
    let mut left = len;
    let mut r = stream;
    while left > 0 {
        let want = left.min(buf.len());
        let n = r.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("end of file with {left} of {len} bytes still to come"),
            ));
        }
        sum.update(&buf[..n]);
        left -= n;
    }
    Ok(sum)
}

/// One client: connects, streams its messages while verifying their echo,
/// and ends as its plan says.
async fn client(addr: SocketAddr, id: u64, seed: u64, ops: Ops) -> Result<Seen, ClientError> {
    let plan = Plan::draw(&mut Rng::new(seed));
    let mut payload = Rng::new(corio_stress::splitmix(seed));
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| ClientError::Io(format!("client {id}: connect: {e}")))?;
    // Checksums of sent messages, writer to reader, in order.
    let sums: Queue<Checksum> = Queue::new(0);
    let wrote_all = Event::new();
    let writer = async {
        for &size in &plan.sizes {
            let sum = send(&stream, &mut payload, size).await?;
            let _ = sums.put_nowait(sum);
        }
        if plan.partial > 0 {
            let sum = send(&stream, &mut payload, plan.partial).await?;
            let _ = sums.put_nowait(sum);
        }
        if matches!(plan.ending, Ending::HalfClose | Ending::HalfCloseMid) {
            stream.shutdown(Shutdown::Write)?;
        }
        wrote_all.set();
        io::Result::Ok(())
    };
    let reader = async {
        let mut buf = vec![0u8; CHUNK];
        let mut seen = Seen::default();
        let mut expected: Vec<usize> = plan.sizes.clone();
        if plan.ending == Ending::HalfCloseMid {
            expected.push(plan.partial);
        }
        for (i, &size) in expected.iter().enumerate() {
            let got = receive(&stream, &mut buf, size).await?;
            let sent = sums.get().await.expect("checksum queue never shut");
            if got != sent {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "message {i} of {size} bytes: checksum {:#x} back, {:#x} sent",
                        got.0, sent.0
                    ),
                ));
            }
            seen.verified += size as u64;
            ops.add(1);
        }
        match plan.ending {
            Ending::HalfClose | Ending::HalfCloseMid => {
                // The echo must end exactly here.
                let mut r = &stream;
                let n = r.read(&mut buf).await?;
                if n != 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{n} bytes echoed past the {} sent", plan.echoed_bytes()),
                    ));
                }
            }
            Ending::DropMid | Ending::ResetMid => {
                // Keep draining (the server may be echoing the partial
                // message) until the writer is done, then disconnect.
                let drain = async {
                    let mut r = &stream;
                    while let Ok(n) = r.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                    futures_lite::future::pending::<()>().await
                };
                futures_lite::future::or(drain, wrote_all.wait()).await;
            }
        }
        io::Result::Ok(seen)
    };
    let (wrote, read) = futures_lite::future::zip(writer, reader).await;
    let ending = plan.ending;
    let seen = read.map_err(|e| {
        let what = format!("client {id} ({ending:?}): read: {e}");
        if e.kind() == io::ErrorKind::InvalidData {
            ClientError::Corrupt(what)
        } else {
            ClientError::Io(what)
        }
    })?;
    wrote.map_err(|e| ClientError::Io(format!("client {id} ({ending:?}): write: {e}")))?;
    if ending == Ending::ResetMid {
        corio_stress::set_linger_zero(&stream)
            .map_err(|e| ClientError::Io(format!("SO_LINGER: {e}")))?;
    }
    drop(stream);
    if seen.verified != plan.echoed_bytes() {
        return Err(ClientError::Corrupt(format!(
            "client {id}: {} bytes verified, {} finished sending",
            seen.verified,
            plan.echoed_bytes()
        )));
    }
    Ok(seen)
}

/// Counts a live server connection; uncounts it when the task ends.
struct Live(Arc<AtomicI64>);
impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How a server connection ended.
fn clean_end(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// The server side of one connection: echo until end of file, then
/// half-close.
async fn serve(stream: TcpStream, index: u64, live: Live) -> io::Result<()> {
    let _live = live;
    if index == 0 && fault("server_panic") {
        panic!("tcp_flood: injected server panic");
    }
    if index == 0 && fault("reset_client") {
        corio_stress::set_linger_zero(&stream)?;
        return Ok(());
    }
    let result = echo(&stream, index == 0 && fault("corrupt_echo")).await;
    if index == 0 && fault("leak_fd") {
        std::mem::forget(stream);
    } else if index == 0 && fault("stuck_conn") {
        futures_lite::future::pending::<()>().await;
    }
    result
}

async fn echo(stream: &TcpStream, mut corrupt: bool) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let mut r = stream;
        let n = match r.read(&mut buf).await {
            Ok(0) => {
                // The client half-closed: so do we, after the last echo.
                return match stream.shutdown(Shutdown::Write) {
                    Err(e) if !clean_end(&e) && e.kind() != io::ErrorKind::NotConnected => Err(e),
                    _ => Ok(()),
                };
            }
            Ok(n) => n,
            Err(e) if clean_end(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        if std::mem::take(&mut corrupt) {
            buf[n / 2] ^= 0x40;
        }
        let mut w = stream;
        match w.write_all(&buf[..n]).await {
            Ok(()) => {}
            Err(e) if clean_end(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn main() -> std::process::ExitCode {
    let flags: Flags = corio_stress::parse(
        NAME,
        "Hundreds of loopback clients against an echo server on the same runtime",
    );
    let mut stress = Stress::start(NAME, &flags.common);
    let rt = stress.runtime();
    let ops = stress.ops();
    // Start the I/O driver (its poller descriptors live for the process)
    // before taking the descriptor baseline.
    rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let _ = TcpStream::connect(l.local_addr().expect("addr")).await;
    });
    let fd_baseline = corio_stress::fd_count();

    stress.rounds(|round| {
        let clients = flags.clients * round.scale;
        let seed = round.seed;
        let live = Arc::new(AtomicI64::new(0));
        let conns: Arc<Mutex<Vec<JoinHandle<io::Result<()>>>>> = Arc::default();
        let accepted = Arc::new(AtomicU64::new(0));
        let (results, accept_loop) = rt.block_on({
            let (live, conns, accepted, ops) =
                (live.clone(), conns.clone(), accepted.clone(), ops.clone());
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("local_addr");
                let accept_loop = corio::spawn(async move {
                    loop {
                        let stream = match listener.accept().await {
                            Ok((stream, _)) => stream,
                            // Out of descriptors or memory: the listener
                            // pauses; try again.
                            Err(_) => continue,
                        };
                        let index = accepted.fetch_add(1, Ordering::SeqCst);
                        live.fetch_add(1, Ordering::SeqCst);
                        let task = corio::spawn(serve(stream, index, Live(live.clone())));
                        conns.lock().expect("conns").push(task);
                    }
                });
                let handles = (0..clients).map(|c| {
                    let client_seed = corio_stress::splitmix(seed ^ (c + 1));
                    corio::spawn(client(addr, c, client_seed, ops.clone()))
                });
                (corio::gather(handles).await, accept_loop)
            }
        });
        let (mut corrupt, mut failed) = (Vec::new(), Vec::new());
        for r in results {
            match r {
                Ok(Ok(_)) => {}
                Ok(Err(ClientError::Corrupt(e))) => corrupt.push(e),
                Ok(Err(ClientError::Io(e))) => failed.push(e),
                Err(e) => failed.push(format!("client task: {e:?}")),
            }
        }
        round.check(
            corrupt.is_empty(),
            "every byte a client finished sending came back intact",
            format_args!(
                "{} clients saw a bad echo, first: {:?}",
                corrupt.len(),
                corrupt.first()
            ),
        );
        round.check(
            failed.is_empty(),
            "clients finish without an I/O error",
            format_args!(
                "{} of {clients} clients failed, first: {:?}",
                failed.len(),
                failed.first()
            ),
        );
        // Every client is done: every server connection must end.
        let settled =
            corio_stress::settle(Duration::from_secs(10), || live.load(Ordering::SeqCst) == 0);
        round.check(
            settled,
            "the server ends with zero live connections",
            format_args!(
                "{} connections still live 10 s after the last client finished",
                live.load(Ordering::SeqCst)
            ),
        );
        accept_loop.abort();
        let conns = std::mem::take(&mut *conns.lock().expect("conns"));
        let outcomes = rt.block_on(async move {
            let _ = accept_loop.await;
            // A connection stuck by the fault injection is cancelled here.
            for c in &conns {
                c.abort();
            }
            corio::gather(conns).await
        });
        let bad: Vec<String> = outcomes
            .into_iter()
            .filter_map(|r| match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("connection error: {e}")),
                Err(e) if e.is_cancelled() && !settled => None,
                Err(e) => Some(format!("connection task: {e:?}")),
            })
            .collect();
        round.check(
            bad.is_empty(),
            "server connection tasks end cleanly",
            format_args!(
                "{} of {} connections, first: {:?}",
                bad.len(),
                accepted.load(Ordering::SeqCst),
                bad.first()
            ),
        );
        let fds_back = corio_stress::settle(Duration::from_secs(10), || {
            corio_stress::fd_count() <= fd_baseline
        });
        round.check(
            fds_back,
            "no descriptor leaks (/proc/self/fd back to its start value)",
            format_args!(
                "{} descriptors open, {fd_baseline} at the start",
                corio_stress::fd_count()
            ),
        );
    });

    stress.alive();
    drop(rt);
    stress.finish()
}
