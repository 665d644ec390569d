//! mini-redis: a RESP server on corio that `redis-benchmark` and `redis-cli` talk to.
//!
//! `cargo run --release -p corio-examples --bin mini_redis [ADDR]` (default
//! `127.0.0.1:6380`, next to a real Redis on 6379), then e.g.
//! `redis-benchmark -p 6380 -q -t ping,set,get,incr` or `redis-cli -p 6380`.
//!
//! Commands: PING, ECHO, SET (EX/PX/NX/XX), GET, DEL, INCR, EXPIRE/PEXPIRE,
//! TTL/PTTL, and the CONFIG GET that redis-benchmark asks on start.
//!
//! - The key space is split into [`SHARDS`] shards, each behind a
//!   `corio::sync::Lock`, so connections on different keys do not queue.
//! - Each connection is a task: parsing (the CPU work) runs on the workers, and
//!   every complete request in the read buffer is answered before the replies go
//!   out in one write (pipelining, `redis-benchmark -P`).
//! - Expiry is lazy on read, plus a purge task on corio's timers that frees
//!   expired keys nobody reads.
//!
//! SIGTERM or Ctrl-C stops it gracefully: no new connections, the live ones
//! run on for a grace period (`GRACE_MS`, default 10 s), then it exits 0
//! (`corio_examples::shutdown`).
//!
//! Its tokio twin is `benches/examples/mini_redis_tokio.rs`.

use bytes::BytesMut;
use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::sync::Lock;
use corio_examples::redis_store::{earliest, purge_wait, shard_of, Command, Db, Route, SHARDS};
use corio_examples::resp::{parse_frame, Frame};
use corio_examples::shutdown::{stop_signals, Connections};
use std::io;
use std::sync::Arc;
use std::time::Instant;

/// Bytes read per `read` call and the initial size of the connection buffers.
const BUF_SIZE: usize = 16 * 1024;

/// The key space, split into shards so that connections touching different keys
/// do not queue behind one lock.
struct Store {
    shards: Vec<Lock<Db>>,
}

impl Store {
    fn new() -> Store {
        Store {
            shards: (0..SHARDS).map(|_| Lock::new(Db::new())).collect(),
        }
    }

    fn shard(&self, key: &[u8]) -> &Lock<Db> {
        &self.shards[shard_of(key, SHARDS)]
    }

    /// Runs one command and returns its reply.
    async fn execute(&self, cmd: &Command) -> Frame {
        match cmd.route() {
            Route::Local => cmd.local_reply(),
            Route::Key(key) => self.shard(key).acquire().await.apply(cmd, Instant::now()),
            Route::Keys(keys) => {
                let mut deleted = 0;
                for key in keys {
                    if self.shard(key).acquire().await.del(key, Instant::now()) {
                        deleted += 1;
                    }
                }
                Frame::Integer(deleted)
            }
        }
    }

    /// Active expiry: frees expired keys nobody reads, forever.
    async fn purge_expired_keys(&self) {
        loop {
            let now = Instant::now();
            let mut next = None;
            for shard in &self.shards {
                let deadline = shard.acquire().await.purge_expired(now);
                next = earliest(next, deadline);
            }
            corio::time::sleep(purge_wait(next, Instant::now())).await;
        }
    }
}

#[corio::main]
async fn main() -> io::Result<()> {
    // Caught from here on: a SIGTERM or Ctrl-C starts the graceful shutdown.
    let mut stop = stop_signals()?;
    let addr = corio_examples::listen_addr("127.0.0.1:6380");
    let listener = TcpListener::bind(&addr).await?;
    println!("mini_redis (corio) listening on {}", listener.local_addr()?);
    let store = Arc::new(Store::new());
    let purger = store.clone();
    corio::spawn(async move { purger.purge_expired_keys().await });
    let connections = Connections::new();
    let signal = loop {
        let (stream, peer) = corio::select! {
            signal = stop.recv() => break signal,
            conn = listener.accept() => match conn {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors, most likely: back off instead of spinning.
                    eprintln!("accept: {e}");
                    corio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let store = store.clone();
        let guard = connections.enter();
        corio::spawn(async move {
            let _guard = guard;
            if let Err(e) = serve(stream, &store).await {
                eprintln!("{peer}: {e}");
            }
        });
    };
    // Stop accepting, give live connections the grace period, exit 0.
    drop(listener);
    connections.drain("mini_redis", signal).await;
    Ok(())
}

/// Answers one client: reads what it sent, runs every complete request in the
/// buffer (pipelining), writes all the replies with one `write_all`.
async fn serve(mut stream: TcpStream, store: &Store) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut input = BytesMut::with_capacity(BUF_SIZE);
    let mut chunk = vec![0u8; BUF_SIZE];
    let mut output = Vec::with_capacity(BUF_SIZE);
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        input.extend_from_slice(&chunk[..n]);
        loop {
            match parse_frame(&mut input) {
                Ok(Some(frame)) => {
                    let reply = match Command::from_frame(frame) {
                        Ok(cmd) => store.execute(&cmd).await,
                        Err(error_reply) => error_reply,
                    };
                    reply.encode(&mut output);
                }
                Ok(None) => break,
                Err(e) => {
                    // Not RESP: say why, then hang up, as Redis does.
                    e.to_frame().encode(&mut output);
                    stream.write_all(&output).await?;
                    return Ok(());
                }
            }
        }
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
        }
    }
}
