//! `serve`: an HTTP/1 server loop with graceful shutdown.
//!
//! One corio task per connection; the accept loop keeps a table of live
//! connections (a slab of the wakers their tasks last polled with) so that a
//! shutdown can reach every one of them.
//!
//! # Shutdown protocol
//!
//! The connections share a `phase`: SERVING, then DRAINING (each connection
//! calls hyper's `graceful_shutdown`: an idle keep-alive connection closes,
//! one in the middle of a request finishes its response first), then
//! STOPPING (each connection task drops its connection at once).
//!
//! - A connection task, at each poll, first stores its waker in its slot if
//!   it is not the one stored already (under the table's lock), then reads
//!   the phase. The shutdown stores the new phase, then takes the lock and
//!   wakes every stored waker. Either the task stored its waker before the
//!   shutdown took the lock, and is woken, or it stored it after, and then
//!   it reads the new phase: no connection sleeps through a phase change.
//! - A connection task reads the phase once per poll, but one poll of hyper's
//!   connection may run the handler to its end and write the response (the
//!   handler can finish on another thread's signal during that poll). So the
//!   service is wrapped ([`MarkDraining`]): when a handler's future resolves,
//!   it reads the phase, and once it has left SERVING the response gets
//!   `connection: close`, as hyper's `graceful_shutdown` would have added.
//!   A response whose handler finished after the shutdown began thus always
//!   says `close`, and hyper closes the connection after writing it.
//! - The accept loop stops before the phase leaves SERVING, so from then on
//!   the table only shrinks. The task that removes the last slot after that
//!   sets `idle`; `wait_idle` checks emptiness under the same lock first, so
//!   it cannot miss that. The listener is dropped (new connections are
//!   refused) only after the phase is DRAINING: a client that sees its
//!   connection refused knows that every response produced from then on
//!   says `connection: close`.
//!
//! `corio::net::Server` (asyncio's `start_server`) follows the same
//! protocol without the DRAINING step, for connections that are not HTTP.

use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio::sync::Event;
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use parking_lot::Mutex;
use slab::Slab;

use crate::rt::{CorioIo, CorioTimer};

type BoxError = Box<dyn StdError + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Serves HTTP/1.1 on `listener` with `service`, one corio task per
/// connection; await it to run (asyncio: `await server.serve_forever()` on
/// an `aiohttp`-style server, or `hypercorn.asyncio.serve`).
///
/// `service` is cloned for each connection (`hyper::service::service_fn`
/// over a closure is `Clone` when the closure is). Connections get
/// `TCP_NODELAY` and hyper's HTTP/1 defaults with [`CorioTimer`]; pass
/// your own `http1::Builder` with [`Serve::http1`].
///
/// Awaiting a plain `Serve` runs until an unrecoverable listener error.
/// [`Serve::with_graceful_shutdown`] adds a stop signal: see
/// [`WithGracefulShutdown`].
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use hyper::{Request, Response, body::Incoming, service::service_fn};
///
/// async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
///     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
/// }
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
///     let stop = corio::sync::oneshot::channel::<()>();
///     let server = corio::spawn(
///         corio_hyper::serve(listener, service_fn(hello))
///             .with_graceful_shutdown(async move { let _ = stop.1.await; })
///             .into_future(),
///     );
///     // ... serve a while, then:
///     let _ = stop.0.send(());
///     server.await.unwrap()
/// })
/// .unwrap();
/// # use std::future::IntoFuture;
/// ```
pub fn serve<S>(listener: TcpListener, service: S) -> Serve<S> {
    let mut http = http1::Builder::new();
    http.timer(CorioTimer);
    Serve {
        listener,
        service,
        http,
    }
}

/// An HTTP/1 server waiting to be awaited; made by [`serve`] (see there for
/// an example; asyncio: an `asyncio.Server` not yet serving).
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    http: http1::Builder,
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// Serves with `builder`'s HTTP/1 settings (keep-alive, header read
    /// timeout, ...); its timer is set to [`CorioTimer`].
    ///
    /// ```
    /// # corio::run(async {
    /// let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut http = hyper::server::conn::http1::Builder::new();
    /// http.keep_alive(false);
    /// let svc = hyper::service::service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
    ///     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("hi")))
    /// });
    /// let _server = corio_hyper::serve(listener, svc).http1(http);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn http1(mut self, mut builder: http1::Builder) -> Self {
        builder.timer(CorioTimer);
        self.http = builder;
        self
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// # corio::run(async {
    /// let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let svc = hyper::service::service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
    ///     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
    /// });
    /// assert_eq!(corio_hyper::serve(listener, svc).local_addr()?, addr);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Stops when `signal` completes (a Ctrl-C, a message, ...) and shuts
    /// down gracefully; see [`WithGracefulShutdown`] (asyncio:
    /// `loop.add_signal_handler(SIGINT, server.close)`, then
    /// `await server.wait_closed()`).
    ///
    /// ```no_run
    /// # corio::run(async {
    /// # let listener = corio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// # let svc = hyper::service::service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
    /// #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
    /// # });
    /// corio_hyper::serve(listener, svc)
    ///     .with_graceful_shutdown(async {
    ///         let _ = corio::signal::ctrl_c().await;
    ///     })
    ///     .await
    /// # }).unwrap();
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            grace: None,
        }
    }
}

/// A [`Serve`] that stops on a signal; made by
/// [`Serve::with_graceful_shutdown`].
///
/// When the signal completes, the server stops accepting (the listener is
/// closed, so new connections are refused), asks every open connection to
/// finish (hyper's `graceful_shutdown`: an idle keep-alive connection closes
/// at once, a request in progress gets its response, with
/// `connection: close`), and waits for them. With [`grace`](Self::grace)
/// it waits at most that long, then drops the connections still open. The
/// future then resolves to `Ok(())`.
///
/// If the future itself is dropped, the connections still open run on as
/// detached tasks.
///
/// asyncio: `server.close()`, then `await asyncio.wait_for(
/// server.wait_closed(), grace)`; see [`grace`](Self::grace) for an example.
pub struct WithGracefulShutdown<S, F> {
    serve: Serve<S>,
    signal: F,
    grace: Option<Duration>,
}

impl<S, F> fmt::Debug for WithGracefulShutdown<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl<S, F> WithGracefulShutdown<S, F> {
    /// After the signal, waits at most `grace` for open connections to
    /// finish, then drops the rest (default: waits as long as they take).
    ///
    /// ```
    /// # corio::run(async {
    /// # let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let svc = hyper::service::service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
    /// #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
    /// # });
    /// use std::time::Duration;
    /// corio_hyper::serve(listener, svc)
    ///     .with_graceful_shutdown(async {}) // stop at once
    ///     .grace(Duration::from_secs(10))
    ///     .await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self, None, None))
    }
}

impl<S, B, F> IntoFuture for WithGracefulShutdown<S, F>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        let signal: BoxFuture<()> = Box::pin(self.signal);
        Box::pin(run(self.serve, Some(signal), self.grace))
    }
}

/// The accept loop, then the shutdown.
async fn run<S, B>(
    serve: Serve<S>,
    signal: Option<BoxFuture<()>>,
    grace: Option<Duration>,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let Serve {
        listener,
        service,
        http,
    } = serve;
    let conns = Arc::new(Conns::new());
    let mut signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
    loop {
        let accepted = corio::race(async { Some(listener.accept().await) }, async {
            signal.as_mut().await;
            None
        })
        .await;
        let stream = match accepted {
            None => break,
            Some(Ok((stream, _peer))) => stream,
            Some(Err(e)) if is_fatal_accept_error(&e) => return Err(e),
            Some(Err(e)) => {
                // Out of descriptors and the like: the listener pauses its
                // next accept (corio::net), so logging and going on is safe.
                tracing::warn!("corio_hyper::serve: accept failed: {e}");
                continue;
            }
        };
        let key = conns.insert();
        let guard = SlotGuard {
            conns: conns.clone(),
            key,
        };
        let service = MarkDraining {
            inner: service.clone(),
            conns: conns.clone(),
        };
        let conn = serve_one(&http, stream, service);
        drop(corio::spawn(guard.run(conn)));
    }
    conns.set_phase(DRAINING);
    // After the phase: refused connections mean DRAINING (module header).
    drop(listener);
    match grace {
        None => conns.wait_idle().await,
        Some(grace) => {
            if corio::time::wait_for(conns.wait_idle(), grace)
                .await
                .is_err()
            {
                conns.set_phase(STOPPING);
                conns.wait_idle().await;
            }
        }
    }
    Ok(())
}

/// hyper's connection future for one stream.
fn serve_one<S, B>(
    http: &http1::Builder,
    stream: TcpStream,
    service: MarkDraining<S>,
) -> HttpConn<S>
where
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    // Each response is written with one write; no need for Nagle's delay.
    let _ = stream.set_nodelay(true);
    http.serve_connection(CorioIo::new(stream), service)
}

type HttpConn<S> = http1::Connection<CorioIo<TcpStream>, MarkDraining<S>>;

/// The user's service as a connection runs it: a response whose handler
/// finishes after the shutdown began says `connection: close` (see the
/// module header).
struct MarkDraining<S> {
    inner: S,
    conns: Arc<Conns>,
}

impl<S, B> Service<Request<Incoming>> for MarkDraining<S>
where
    S: Service<Request<Incoming>, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = MarkDrainingFuture<S::Future>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        MarkDrainingFuture {
            inner: self.inner.call(req),
            conns: self.conns.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A handler's future; see [`MarkDraining`].
    struct MarkDrainingFuture<F> {
        #[pin]
        inner: F,
        conns: Arc<Conns>,
    }
}

impl<F, B, E> Future for MarkDrainingFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Ready(Ok(response)) => response,
            other => return other,
        };
        // SeqCst: ordered after whatever told the handler to finish (see the
        // module header); a shutdown that began before that is seen here.
        if this.conns.phase.load(Ordering::SeqCst) != SERVING {
            close_after(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}

/// Marks `response` as the connection's last (`connection: close`), keeping
/// any `connection` values the handler set.
fn close_after<B>(response: &mut Response<B>) {
    use hyper::header::{Entry, HeaderValue, CONNECTION};
    const CLOSE: HeaderValue = HeaderValue::from_static("close");
    match response.headers_mut().entry(CONNECTION) {
        Entry::Vacant(entry) => {
            entry.insert(CLOSE);
        }
        Entry::Occupied(mut entry) => {
            let says_close = entry.iter().any(|value| {
                value
                    .to_str()
                    .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
            });
            if !says_close {
                entry.append(CLOSE);
            }
        }
    }
}

/// Errors after which accepting again cannot succeed: the listener itself
/// is broken. Everything else (an aborted handshake, running out of
/// descriptors) concerns one connection or passes.
pub(crate) fn is_fatal_accept_error(e: &io::Error) -> bool {
    // EINVAL: the socket is not listening (any more).
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT)
    )
}

const SERVING: u8 = 0;
const DRAINING: u8 = 1;
const STOPPING: u8 = 2;

/// The live connections of one `serve` (see the module header).
struct Conns {
    phase: AtomicU8,
    /// One slot per live connection task: the waker of its latest poll.
    slots: Mutex<Slab<Option<Waker>>>,
    /// Set when the last slot goes after the phase left SERVING.
    idle: Event,
}

impl Conns {
    fn new() -> Conns {
        Conns {
            phase: AtomicU8::new(SERVING),
            slots: Mutex::new(Slab::new()),
            idle: Event::new(),
        }
    }

    fn insert(&self) -> usize {
        self.slots.lock().insert(None)
    }

    fn set_phase(&self, phase: u8) {
        // SeqCst store before the lock below: see the module header.
        self.phase.store(phase, Ordering::SeqCst);
        let wakers: Vec<Waker> = self
            .slots
            .lock()
            .iter()
            .filter_map(|(_, w)| w.clone())
            .collect();
        for w in wakers {
            w.wake();
        }
    }

    async fn wait_idle(&self) {
        if self.slots.lock().is_empty() {
            return;
        }
        self.idle.wait().await;
    }
}

/// A connection task's slot; removed when the task ends or is dropped.
struct SlotGuard {
    conns: Arc<Conns>,
    key: usize,
}

impl SlotGuard {
    /// Runs `conn` until it ends or the shutdown phase says otherwise.
    async fn run<S, B>(self, conn: HttpConn<S>)
    where
        S: Service<Request<Incoming>, Response = Response<B>>,
        S::Error: Into<BoxError>,
        B: Body + 'static,
        B::Error: Into<BoxError>,
    {
        let mut conn = pin!(conn);
        let mut stored: Option<Waker> = None;
        let mut draining = false;
        let result = poll_fn(|cx| {
            if !stored.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                let waker = cx.waker().clone();
                if let Some(slot) = self.conns.slots.lock().get_mut(self.key) {
                    *slot = Some(waker.clone());
                }
                stored = Some(waker);
            }
            // SeqCst load after the store above: see the module header.
            match self.conns.phase.load(Ordering::SeqCst) {
                STOPPING => return Poll::Ready(Ok(())),
                DRAINING if !draining => {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                _ => {}
            }
            conn.as_mut().poll(cx)
        })
        .await;
        if let Err(e) = result {
            tracing::debug!("corio_hyper::serve: connection ended with: {e}");
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut slots = self.conns.slots.lock();
        slots.remove(self.key);
        if slots.is_empty() && self.conns.phase.load(Ordering::SeqCst) != SERVING {
            drop(slots);
            self.conns.idle.set();
        }
    }
}
