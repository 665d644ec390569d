//! `corio_hyper::serve` against hyper's own client over corio sockets:
//! requests over keep-alive, then graceful shutdown (in-flight requests
//! finish, idle connections close, new ones are refused) and the grace
//! period's end (stuck connections dropped, each exactly once).
//!
//! Every wait is on a signal and bounded by a watchdog; no timing asserts.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bytes::Bytes;
use corio::net::{TcpListener, TcpStream};
use corio::sync::Event;
use corio_hyper::CorioIo;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper::{Request, Response};

const BOUND: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread; fails if it does not return within BOUND.
fn with_watchdog(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(BOUND)
        .unwrap_or_else(|_| panic!("{what}: failed or no result within {BOUND:?}"));
}

/// A hyper client connection over a corio socket; the connection task is
/// returned too, to see when the server closed it.
async fn client(
    addr: std::net::SocketAddr,
) -> (
    SendRequest<Empty<Bytes>>,
    corio::JoinHandle<hyper::Result<()>>,
) {
    let stream = CorioIo::new(TcpStream::connect(addr).await.unwrap());
    let (sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    (sender, corio::spawn(conn))
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

async fn body_of(resp: Response<Incoming>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn hyper_client_gets_responses_over_keep_alive() {
    with_watchdog("keep-alive", || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let hits = Arc::new(AtomicUsize::new(0));
            let seen = hits.clone();
            let svc = service_fn(move |req: Request<Incoming>| {
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    let text = format!("{} #{n}", req.uri().path());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
                }
            });
            let server = corio::spawn(corio_hyper::serve(listener, svc).into_future());

            let (mut sender, conn) = client(addr).await;
            for i in 1..=3 {
                // The connection takes the next request once done with the last.
                sender.ready().await.unwrap();
                let resp = sender.send_request(get(&format!("/r{i}"))).await.unwrap();
                assert_eq!(resp.status(), 200);
                assert_eq!(body_of(resp).await, format!("/r{i} #{i}"));
            }
            // A second client at the same time.
            let (mut other, _conn2) = client(addr).await;
            other.ready().await.unwrap();
            let resp = other.send_request(get("/other")).await.unwrap();
            assert_eq!(body_of(resp).await, "/other #4");
            assert_eq!(hits.load(Ordering::SeqCst), 4);

            drop(sender);
            conn.await.unwrap().unwrap();
            server.abort();
        });
    });
}

/// Counts drops of a handler's state.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn graceful_shutdown_finishes_requests_closes_idle_connections_and_refuses_new_ones() {
    with_watchdog("graceful", || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let started = Arc::new(Event::new());
            let release = Arc::new(Event::new());
            let (s, r) = (started.clone(), release.clone());
            let svc = service_fn(move |req: Request<Incoming>| {
                let (started, release) = (s.clone(), r.clone());
                async move {
                    if req.uri().path() == "/slow" {
                        started.set();
                        release.wait().await;
                    }
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done"))))
                }
            });
            let stop = Arc::new(Event::new());
            let signal = {
                let stop = stop.clone();
                async move { stop.wait().await }
            };
            let server = corio::spawn(
                corio_hyper::serve(listener, svc)
                    .with_graceful_shutdown(signal)
                    .into_future(),
            );

            // An idle keep-alive connection and one with a request in flight.
            let (mut idle, idle_conn) = client(addr).await;
            idle.ready().await.unwrap();
            let resp = idle.send_request(get("/")).await.unwrap();
            assert_eq!(body_of(resp).await, "done");
            let (mut busy, busy_conn) = client(addr).await;
            let in_flight = corio::spawn(async move {
                busy.ready().await.unwrap();
                let resp = busy.send_request(get("/slow")).await.unwrap();
                let close = resp.headers().get("connection").cloned();
                (body_of(resp).await, close)
            });
            started.wait().await;

            stop.set();
            // The idle connection is closed by the server...
            idle_conn.await.unwrap().unwrap();
            // ...and the listener: new connections are refused.
            loop {
                match TcpStream::connect(addr).await {
                    Err(e) => {
                        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
                        break;
                    }
                    // Accepted just before the listener closed: try again.
                    Ok(_) => corio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            assert!(!server.is_finished(), "waits for the request in flight");

            release.set();
            let (body, close) = in_flight.await.unwrap();
            assert_eq!(body, "done");
            assert_eq!(close.as_ref().map(|v| v.as_bytes()), Some(&b"close"[..]));
            busy_conn.await.unwrap().unwrap();
            server.await.unwrap().unwrap();
        });
    });
}

#[test]
fn grace_period_end_drops_each_stuck_connection_exactly_once() {
    with_watchdog("grace", || {
        corio::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let started = Arc::new(AtomicUsize::new(0));
            let all_started = Arc::new(Event::new());
            let drops = Arc::new(AtomicUsize::new(0));
            const STUCK: usize = 5;
            let (s, a, d) = (started.clone(), all_started.clone(), drops.clone());
            let svc = service_fn(move |_req: Request<Incoming>| {
                let guard = DropCount(d.clone());
                if s.fetch_add(1, Ordering::SeqCst) + 1 == STUCK {
                    a.set();
                }
                async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
                }
            });
            let stop = Arc::new(Event::new());
            let signal = {
                let stop = stop.clone();
                async move { stop.wait().await }
            };
            let server = corio::spawn(
                corio_hyper::serve(listener, svc)
                    .with_graceful_shutdown(signal)
                    .grace(Duration::from_millis(50))
                    .into_future(),
            );

            let mut clients = Vec::new();
            for _ in 0..STUCK {
                let (mut sender, conn) = client(addr).await;
                let req = corio::spawn(async move {
                    sender.ready().await?;
                    sender.send_request(get("/")).await
                });
                clients.push((req, conn));
            }
            all_started.wait().await;
            assert_eq!(drops.load(Ordering::SeqCst), 0);

            stop.set();
            server.await.unwrap().unwrap();
            // Every stuck handler was dropped by the time serve returned.
            assert_eq!(drops.load(Ordering::SeqCst), STUCK);
            for (req, conn) in clients {
                // The server closed them without an answer.
                assert!(req.await.unwrap().is_err());
                let _ = conn.await.unwrap();
            }
            assert_eq!(drops.load(Ordering::SeqCst), STUCK);
        });
    });
}

/// The shutdown begins while a connection is in the middle of one poll, and
/// the handler finishes in that same poll: the response still says
/// `connection: close` (the connection task read the phase before the poll,
/// so only the response itself can carry the news).
#[test]
fn a_response_finished_in_the_poll_the_shutdown_began_in_says_close() {
    with_watchdog("same poll", || {
        // Three workers: one blocked in the handler below, the others run
        // the accept loop and the idle connection meanwhile.
        let rt = corio::runtime::Builder::new()
            .worker_threads(3)
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let stop = Arc::new(Event::new());
            // Fires when the server closed the idle connection, i.e. after
            // the shutdown reached the connections.
            let (idle_closed_tx, idle_closed_rx) = mpsc::channel::<()>();
            let idle_closed_rx = Arc::new(std::sync::Mutex::new(idle_closed_rx));
            let svc = {
                let stop = stop.clone();
                service_fn(move |req: Request<Incoming>| {
                    let (stop, idle_closed) = (stop.clone(), idle_closed_rx.clone());
                    async move {
                        if req.uri().path() == "/last" {
                            // Start the shutdown from another thread and block
                            // this poll until it has closed the idle
                            // connection: the response is written in the poll
                            // that began before the shutdown.
                            std::thread::spawn(move || stop.set());
                            idle_closed
                                .lock()
                                .unwrap()
                                .recv_timeout(BOUND)
                                .expect("the idle connection was never closed");
                        }
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    }
                })
            };
            let signal = {
                let stop = stop.clone();
                async move { stop.wait().await }
            };
            let server = corio::spawn(
                corio_hyper::serve(listener, svc)
                    .with_graceful_shutdown(signal)
                    .into_future(),
            );

            let (mut idle, idle_conn) = client(addr).await;
            idle.ready().await.unwrap();
            let resp = idle.send_request(get("/")).await.unwrap();
            assert_eq!(body_of(resp).await, "ok");
            corio::spawn(async move {
                idle_conn.await.unwrap().unwrap();
                idle_closed_tx.send(()).unwrap();
            });

            let (mut last, last_conn) = client(addr).await;
            last.ready().await.unwrap();
            let resp = last.send_request(get("/last")).await.unwrap();
            let close = resp.headers().get("connection").cloned();
            assert_eq!(body_of(resp).await, "ok");
            assert_eq!(close.as_ref().map(|v| v.as_bytes()), Some(&b"close"[..]));
            // hyper closed the connection after that response.
            last_conn.await.unwrap().unwrap();
            server.await.unwrap().unwrap();
        });
    });
}
