//! HTTP/1.1 hello-world server: hyper 1.x on corio.
//!
//! `cargo run --release -p corio-examples --bin http [ADDR]` (default
//! `127.0.0.1:7780`), then `curl http://127.0.0.1:7780/` or
//! `wrk -t2 -c64 -d10s http://127.0.0.1:7780/`.
//!
//! hyper brings the HTTP; the `corio-hyper` crate brings the executor, the
//! socket adapter, the timer and the server loop (`corio_hyper::serve`). Its
//! tokio twin is `benches/examples/http_tokio.rs`.
//!
//! SIGTERM or Ctrl-C stops it gracefully: no new connections, requests in
//! progress are answered for up to a grace period (`GRACE_MS`, default
//! 10 s), then it exits 0.

use bytes::Bytes;
use corio::net::TcpListener;
use corio_examples::shutdown::{grace_period, signal_name, stop_signals};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::io;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

#[corio::main]
async fn main() -> io::Result<()> {
    // Caught from here on: a SIGTERM or Ctrl-C starts the graceful shutdown.
    let mut stop = stop_signals()?;
    let addr = corio_examples::listen_addr("127.0.0.1:7780");
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "http (hyper on corio) listening on http://{}",
        listener.local_addr()?
    );
    // On the signal: stop accepting, let requests in progress get their
    // response (idle keep-alive connections close), drop what is left after
    // the grace period, exit 0.
    let grace = grace_period();
    corio_hyper::serve(listener, service_fn(hello))
        .with_graceful_shutdown(async move {
            let signal = stop.recv().await;
            println!(
                "http: {}: no longer accepting; finishing requests in progress (up to {grace:?})",
                signal_name(signal)
            );
        })
        .grace(grace)
        .await?;
    println!("http: bye");
    Ok(())
}
