//! Tokio twin of `examples/src/bin/mini_redis.rs`: the same RESP server, line for
//! line, with `tokio::sync::Mutex` where corio uses `corio::sync::Lock`. The
//! protocol and command code is shared (`corio_examples::{resp, redis_store}`).
//!
//! `cargo run --release -p corio-benches --example mini_redis_tokio [ADDR]`

use bytes::BytesMut;
use corio_examples::redis_store::{earliest, purge_wait, shard_of, Command, Db, Route, SHARDS};
use corio_examples::resp::{parse_frame, Frame};
use std::io;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// Bytes read per `read` call and the initial size of the connection buffers.
const BUF_SIZE: usize = 16 * 1024;

/// The key space, split into shards so that connections touching different keys
/// do not queue behind one lock.
struct Store {
    shards: Vec<Mutex<Db>>,
}

impl Store {
    fn new() -> Store {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::new(Db::new())).collect(),
        }
    }

    fn shard(&self, key: &[u8]) -> &Mutex<Db> {
        &self.shards[shard_of(key, SHARDS)]
    }

    /// Runs one command and returns its reply.
    async fn execute(&self, cmd: &Command) -> Frame {
        match cmd.route() {
            Route::Local => cmd.local_reply(),
            Route::Key(key) => self.shard(key).lock().await.apply(cmd, Instant::now()),
            Route::Keys(keys) => {
                let mut deleted = 0;
                for key in keys {
                    if self.shard(key).lock().await.del(key, Instant::now()) {
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
                let deadline = shard.lock().await.purge_expired(now);
                next = earliest(next, deadline);
            }
            tokio::time::sleep(purge_wait(next, Instant::now())).await;
        }
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = corio_examples::listen_addr("127.0.0.1:6380");
    let listener = TcpListener::bind(&addr).await?;
    println!("mini_redis (tokio) listening on {}", listener.local_addr()?);
    let store = Arc::new(Store::new());
    let purger = store.clone();
    tokio::spawn(async move { purger.purge_expired_keys().await });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of descriptors, most likely: back off instead of spinning.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(stream, &store).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
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
