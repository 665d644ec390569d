//! TCP echo server on corio.
//!
//! `cargo run --release -p corio-examples --bin echo [ADDR]` (default
//! `127.0.0.1:7700`; `ADDR` may also come from the environment), then e.g.
//! `nc 127.0.0.1 7700`. Its tokio twin is `benches/examples/echo_tokio.rs`.
//!
//! SIGTERM or Ctrl-C stops it gracefully: no new connections, the live ones
//! run on for a grace period (`GRACE_MS`, default 10 s), then it exits 0
//! (`corio_examples::shutdown`).

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio_examples::shutdown::{stop_signals, Connections};
use std::io;

#[corio::main]
async fn main() -> io::Result<()> {
    // Caught from here on: a SIGTERM or Ctrl-C starts the graceful shutdown.
    let mut stop = stop_signals()?;
    let addr = corio_examples::listen_addr("127.0.0.1:7700");
    let listener = TcpListener::bind(&addr).await?;
    println!("echo (corio) listening on {}", listener.local_addr()?);
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
        let guard = connections.enter();
        corio::spawn(async move {
            let _guard = guard;
            if let Err(e) = echo(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    };
    // Stop accepting, give live connections the grace period, exit 0.
    drop(listener);
    connections.drain("echo", signal).await;
    Ok(())
}

/// Writes back whatever the peer sends until it closes its side.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
