//! Tokio twin of `examples/src/bin/http.rs`: the same hyper 1.x hello-world
//! server on tokio. The hyper glue below mirrors the `corio-hyper` crate's
//! `CorioIo`, `CorioTimer` and `CorioExecutor` (same buffering, same
//! choices), and the accept loop does what `corio_hyper::serve` does, so that
//! `wrk` compares the runtimes, not two different adapters.
//!
//! `cargo run --release -p corio-benches --example http_tokio [ADDR]`

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::io;
use tokio::net::TcpListener;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = corio_examples::listen_addr("127.0.0.1:7780");
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "http (hyper on tokio) listening on http://{}",
        listener.local_addr()?
    );
    let mut http = http1::Builder::new();
    http.timer(TokioTimer);
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
        stream.set_nodelay(true)?;
        let conn = http.serve_connection(TokioIo::new(stream), service_fn(hello));
        TokioExecutor.execute(async move {
            if let Err(e) = conn.await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// hyper's runtime traits for tokio, written like corio-hyper's.
mod hyper_rt {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};

    /// Spawns hyper's background futures as tokio tasks.
    #[derive(Clone, Copy, Debug, Default)]
    pub(crate) struct TokioExecutor;

    impl<F> hyper::rt::Executor<F> for TokioExecutor
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        fn execute(&self, fut: F) {
            tokio::spawn(fut);
        }
    }

    /// Bytes read from the socket per `poll_read` at most.
    const READ_CHUNK: usize = 8 * 1024;

    /// A tokio stream seen through hyper's `rt::Read` / `rt::Write`.
    ///
    /// Reads go through a small initialised scratch buffer and `put_slice`, which
    /// needs no `unsafe`; the copy is of the bytes actually read.
    pub(crate) struct TokioIo<T> {
        inner: T,
        scratch: Box<[u8]>,
    }

    impl<T> TokioIo<T> {
        pub(crate) fn new(inner: T) -> Self {
            TokioIo {
                inner,
                scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            }
        }
    }

    impl<T: tokio::io::AsyncRead + Unpin> hyper::rt::Read for TokioIo<T> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let len = buf.remaining().min(this.scratch.len());
            let mut scratch = tokio::io::ReadBuf::new(&mut this.scratch[..len]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut scratch) {
                Poll::Ready(Ok(())) => {
                    buf.put_slice(scratch.filled());
                    Poll::Ready(Ok(()))
                }
                other => other,
            }
        }
    }

    impl<T: tokio::io::AsyncWrite + Unpin> hyper::rt::Write for TokioIo<T> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
        }
    }

    /// hyper's timer (header read timeouts) on tokio's timers.
    #[derive(Clone, Copy, Debug, Default)]
    pub(crate) struct TokioTimer;

    /// A tokio `Sleep` as a hyper `rt::Sleep`.
    struct TokioSleep {
        inner: Pin<Box<tokio::time::Sleep>>,
    }

    impl Future for TokioSleep {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.get_mut().inner.as_mut().poll(cx)
        }
    }

    impl hyper::rt::Sleep for TokioSleep {}

    impl hyper::rt::Timer for TokioTimer {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
            Box::pin(TokioSleep {
                inner: Box::pin(tokio::time::sleep(duration)),
            })
        }

        fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
            self.sleep(deadline.saturating_duration_since(Instant::now()))
        }
    }
}
