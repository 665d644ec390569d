//! HTTP/1.1 hello-world server: hyper 1.x on corio.
//!
//! `cargo run --release -p corio-examples --bin http [ADDR]` (default
//! `127.0.0.1:7780`), then `curl http://127.0.0.1:7780/` or
//! `wrk -t2 -c64 -d10s http://127.0.0.1:7780/`.
//!
//! hyper brings the HTTP; corio brings the executor, the socket adapter and the
//! timer (`corio_examples::hyper_rt`). Its tokio twin is
//! `benches/examples/http_tokio.rs`.

use bytes::Bytes;
use corio::net::TcpListener;
use corio_examples::hyper_rt::{CorioExecutor, CorioIo, CorioTimer};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::server::conn::http1;
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
    let addr = corio_examples::listen_addr("127.0.0.1:7780");
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "http (hyper on corio) listening on http://{}",
        listener.local_addr()?
    );
    let mut http = http1::Builder::new();
    http.timer(CorioTimer);
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
        stream.set_nodelay(true)?;
        let conn = http.serve_connection(CorioIo::new(stream), service_fn(hello));
        CorioExecutor.execute(async move {
            if let Err(e) = conn.await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
