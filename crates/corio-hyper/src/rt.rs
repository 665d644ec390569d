//! The three runtime traits hyper asks of its host, on corio.
//!
//! hyper does no I/O, spawning or timing of its own: [`CorioExecutor`]
//! spawns its background futures as corio tasks, [`CorioIo`] turns a
//! futures-io stream (a `corio::net::TcpStream`) into hyper's `rt::Read` and
//! `rt::Write`, and [`CorioTimer`] runs its timeouts on corio's timing
//! wheel.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

/// Spawns hyper's background futures (HTTP/2 streams, client connections)
/// as corio tasks, detached: hyper tracks their completion itself.
///
/// asyncio has no executor object; this is `asyncio.create_task` handed to
/// hyper.
///
/// ```
/// use hyper::rt::Executor;
/// corio::run(async {
///     let (tx, rx) = corio::sync::oneshot::channel();
///     corio_hyper::CorioExecutor.execute(async move {
///         let _ = tx.send("ran");
///     });
///     assert_eq!(rx.await.ok(), Some("ran"));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CorioExecutor;

impl<F> hyper::rt::Executor<F> for CorioExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // Dropping the JoinHandle detaches the task.
        drop(corio::spawn(fut));
    }
}

/// Bytes read from the stream per `poll_read` at most.
const READ_CHUNK: usize = 8 * 1024;

/// A futures-io stream seen through hyper's `rt::Read` and `rt::Write`
/// (asyncio's transport, for hyper).
///
/// hyper hands `poll_read` a cursor over possibly uninitialised memory, while
/// `futures_io::AsyncRead` wants an initialised `&mut [u8]`. Rather than
/// treating hyper's memory as initialised with `unsafe`, reads land in a
/// small initialised scratch buffer owned by the adapter and are copied over
/// with the safe `put_slice`: one copy of the bytes actually read.
///
/// Writes go straight through. `is_write_vectored` stays hyper's default
/// (`false`), so hyper flattens headers and body into one buffer and issues
/// a single `write` per response.
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
/// use corio_hyper::CorioIo;
/// use http_body_util::{BodyExt, Empty};
///
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = corio::spawn(corio_hyper::serve(
///         listener,
///         hyper::service::service_fn(|_req| async {
///             Ok::<_, std::convert::Infallible>(hyper::Response::new(
///                 http_body_util::Full::new(bytes::Bytes::from_static(b"hi")),
///             ))
///         }),
///     ).into_future());
///     // A hyper client over a corio socket.
///     let stream = CorioIo::new(TcpStream::connect(addr).await?);
///     let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
///     corio::spawn(conn);
///     let req = hyper::Request::get("/")
///         .header("host", "localhost")
///         .body(Empty::<bytes::Bytes>::new())
///         .unwrap();
///     sender.ready().await.unwrap();
///     let resp = sender.send_request(req).await.unwrap();
///     let body = resp.into_body().collect().await.unwrap().to_bytes();
///     assert_eq!(&body[..], b"hi");
///     server.abort();
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// # use std::future::IntoFuture;
/// ```
#[derive(Debug)]
pub struct CorioIo<T> {
    inner: T,
    scratch: Box<[u8]>,
}

impl<T> CorioIo<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// let (a, _b) = corio::net::UnixStream::pair()?;
    /// let io = corio_hyper::CorioIo::new(a);
    /// assert!(io.get_ref().peer_addr().is_ok());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(inner: T) -> Self {
        CorioIo {
            inner,
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// The wrapped stream (asyncio: `transport.get_extra_info("socket")`).
    ///
    /// See [`new`](Self::new) for an example.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// ```
    /// let (a, _b) = corio::net::UnixStream::pair()?;
    /// let mut io = corio_hyper::CorioIo::new(a);
    /// io.get_mut().shutdown(std::net::Shutdown::Write)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream (after an HTTP upgrade, say).
    ///
    /// ```
    /// let (a, _b) = corio::net::UnixStream::pair()?;
    /// let stream: corio::net::UnixStream = corio_hyper::CorioIo::new(a).into_inner();
    /// # std::io::Result::Ok(())
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for CorioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let len = buf.remaining().min(this.scratch.len());
        match Pin::new(&mut this.inner).poll_read(cx, &mut this.scratch[..len]) {
            Poll::Ready(Ok(n)) => {
                // 0 bytes read (end of stream) is reported as an unchanged cursor.
                buf.put_slice(&this.scratch[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for CorioIo<T> {
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
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// hyper's timer (header read timeouts, keep-alive) on corio's timing wheel
/// (asyncio's `loop.call_later`, for hyper).
///
/// ```
/// use hyper::rt::Timer;
/// use std::time::Duration;
/// corio::run(async {
///     corio_hyper::CorioTimer.sleep(Duration::from_millis(1)).await;
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CorioTimer;

/// A `corio::time::Sleep` as a hyper `rt::Sleep`. corio's `Sleep` is `Unpin`
/// and can be re-armed in place, so `reset` reuses it.
struct CorioSleep {
    inner: corio::time::Sleep,
}

impl Future for CorioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl hyper::rt::Sleep for CorioSleep {}

impl hyper::rt::Timer for CorioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: corio::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: corio::time::sleep_until(deadline),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CorioSleep>() {
            Some(ours) => ours.get_mut().inner.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    #[test]
    fn timer_sleeps_and_resets_in_place() {
        corio::run(async {
            let start = Instant::now();
            let mut sleep = CorioTimer.sleep(Duration::from_millis(5));
            sleep.as_mut().await;
            assert!(start.elapsed() >= Duration::from_millis(5));
            let later = Instant::now() + Duration::from_millis(5);
            CorioTimer.reset(&mut sleep, later);
            assert!(sleep.is::<CorioSleep>(), "reset re-armed, not replaced");
            sleep.as_mut().await;
            assert!(Instant::now() >= later);
        });
    }
}
