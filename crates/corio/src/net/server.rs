//! asyncio's `start_server`: a listener whose every connection runs a
//! handler in its own task, and the [`Server`] that stops it.
//!
//! # Shutdown protocol
//!
//! The connections share a `phase`: SERVING, CLOSED (no new connections;
//! live ones go on) and STOPPING (every handler still running is dropped).
//!
//! - The accept task inserts a slot for a new connection into the table
//!   only while the phase is SERVING, under the table's lock; `close()`
//!   stores CLOSED before it takes that lock. So once `close()` returns, no
//!   handler is added, even if the accept task was in the middle of an
//!   accept when it was aborted.
//! - A connection task, at each poll, first stores its waker in its slot if
//!   it is not the one stored already (under the lock), then reads the
//!   phase. `shutdown` stores STOPPING, then takes the lock and wakes every
//!   stored waker. Either the task stored its waker before, and is woken, or
//!   after, and then it reads STOPPING: no handler sleeps through the stop.
//!   A handler is dropped once, by its own task, whichever way it ends.
//! - After CLOSED the table only shrinks; the task that removes the last
//!   slot sets `idle`, and `wait_idle` checks emptiness under the same lock
//!   before waiting on it, so it cannot miss that.
//!
//! `corio_hyper::serve` follows the same protocol, with a draining step for
//! HTTP's graceful close.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use corio_io::net::{TcpListener, TcpStream, ToSocketAddrs};
use corio_rt::task::JoinHandle;
use corio_sync::Event;
use parking_lot::Mutex;
use slab::Slab;

use super::streams::{into_streams, StreamReader, StreamWriter};

/// Listens on `addr` and runs `handler(reader, writer)` in a new task for
/// every connection: asyncio's `start_server(client_connected_cb, host,
/// port)`.
///
/// The server accepts from the moment this returns (as asyncio's does);
/// [`Server::serve_forever`] waits until it is closed. Each connection gets
/// `TCP_NODELAY` and is handed over as a [`StreamReader`] and a
/// [`StreamWriter`]. The handler's output is dropped, as asyncio drops the
/// callback's result; a panic ends that connection's task only (and is
/// reported in debug mode). Accept errors that concern one connection, or
/// running out of descriptors, are logged through `tracing` and accepting
/// goes on (after a pause, for the latter); an error that breaks the
/// listener ends [`serve_forever`](Server::serve_forever) with it.
///
/// ```
/// use std::time::Duration;
/// use corio::io::{AsyncBufReadExt, AsyncWriteExt};
///
/// corio::run(async {
///     // asyncio: server = await asyncio.start_server(echo, "127.0.0.1", 0)
///     let server = corio::net::start_server(
///         |mut reader, mut writer| async move {
///             let mut line = String::new();
///             while reader.read_line(&mut line).await? > 0 {
///                 writer.write_all(line.as_bytes()).await?;
///                 writer.flush().await?; // asyncio: await writer.drain()
///                 line.clear();
///             }
///             std::io::Result::Ok(())
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///
///     let (mut reader, mut writer) = corio::net::open_connection(server.local_addr()?).await?;
///     writer.write_all(b"echo me\n").await?;
///     writer.flush().await?;
///     let mut line = String::new();
///     reader.read_line(&mut line).await?;
///     assert_eq!(line, "echo me\n");
///
///     server.shutdown(Duration::from_secs(5)).await;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Panics
/// When called outside a corio runtime.
pub async fn start_server<F, Fut, A>(handler: F, addr: A) -> io::Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    A: ToSocketAddrs,
{
    let listener = Arc::new(TcpListener::bind(addr).await?);
    let shared = Arc::new(Shared {
        local_addr: listener.local_addr()?,
        phase: AtomicU8::new(SERVING),
        slots: Mutex::new(Slab::new()),
        idle: Event::new(),
        closed: Event::new(),
        listener: Mutex::new(Some(listener.clone())),
        accept_task: Mutex::new(None),
        failure: Mutex::new(None),
    });
    let task = corio_rt::spawn(accept_loop(listener, Arc::new(handler), shared.clone()));
    *shared.accept_task.lock() = Some(task);
    // `close()` may not have run yet: nothing could call it.
    Ok(Server {
        handle: Arc::new(Owner { shared }),
    })
}

const SERVING: u8 = 0;
const CLOSED: u8 = 1;
const STOPPING: u8 = 2;

/// A running server made by [`start_server`]: asyncio's `Server`.
///
/// `Server` is a handle: clones share one server, so one task can
/// [`serve_forever`](Self::serve_forever) while another
/// [`close`](Self::close)s it or [`shutdown`](Self::shutdown)s it on a
/// signal. When the last handle is dropped the server is closed (it stops
/// accepting; connections still open run on to their end).
///
/// ```
/// use std::time::Duration;
///
/// corio::run(async {
///     let server = corio::net::start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
///     let stopper = server.clone();
///     corio::spawn(async move {
///         // In a real server: corio::signal::ctrl_c().await
///         corio::time::sleep(Duration::from_millis(10)).await;
///         stopper.shutdown(Duration::from_secs(5)).await;
///     });
///     server.serve_forever().await // asyncio: await server.serve_forever()
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Server {
    handle: Arc<Owner>,
}

/// Closes the server when the last [`Server`] handle goes.
struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// What the server handles, the accept task and the connection tasks share.
struct Shared {
    local_addr: SocketAddr,
    phase: AtomicU8,
    /// One slot per live connection task: the waker of its latest poll.
    slots: Mutex<Slab<Option<Waker>>>,
    /// Set when the last slot goes after the phase left SERVING.
    idle: Event,
    /// Set by `close()` and by the accept task ending on an error.
    closed: Event,
    /// The server's own reference to the listener, to shut it at `close()`.
    listener: Mutex<Option<Arc<TcpListener>>>,
    accept_task: Mutex<Option<JoinHandle<()>>>,
    /// The error that ended the accept task, for `serve_forever`.
    failure: Mutex<Option<(io::ErrorKind, String)>>,
}

impl Server {
    /// The address the server listens on (asyncio: `server.sockets[0].getsockname()`).
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// assert_ne!(server.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.shared().local_addr)
    }

    /// Waits until the server is closed (by [`close`](Self::close),
    /// [`shutdown`](Self::shutdown) or dropping every handle but this
    /// one's): asyncio's `serve_forever()`. Returns at once if it already
    /// is; returns the error if the listener broke.
    ///
    /// See [`Server`] for an example.
    pub async fn serve_forever(&self) -> io::Result<()> {
        let shared = self.shared();
        shared.closed.wait().await;
        match &*shared.failure.lock() {
            Some((kind, msg)) => Err(io::Error::new(*kind, msg.clone())),
            None => Ok(()),
        }
    }

    /// Stops accepting: asyncio's `close()`. The listening socket is shut
    /// at once (on Linux new connections are refused from here on, and the
    /// ones the kernel queued but the server had not accepted yet are
    /// reset; elsewhere that happens as soon as the accept task is dropped,
    /// right after); the connections already handed to a handler go on.
    /// Calling it again does nothing.
    ///
    /// ```
    /// use corio::io::{AsyncBufReadExt, AsyncWriteExt};
    /// # corio::run(async {
    /// let server = corio::net::start_server(
    ///     |mut r, mut w| async move {
    ///         let mut line = String::new();
    ///         while r.read_line(&mut line).await? > 0 {
    ///             w.write_all(line.as_bytes()).await?;
    ///             w.flush().await?;
    ///             line.clear();
    ///         }
    ///         std::io::Result::Ok(())
    ///     },
    ///     "127.0.0.1:0",
    /// )
    /// .await?;
    /// let (mut r, mut w) = corio::net::open_connection(server.local_addr()?).await?;
    /// let mut line = String::new();
    /// w.write_all(b"hello\n").await?;
    /// w.flush().await?;
    /// r.read_line(&mut line).await?; // a handler has the connection now
    ///
    /// server.close();
    /// assert!(!server.is_serving());
    /// // The open connection is still served.
    /// w.write_all(b"still here\n").await?;
    /// w.flush().await?;
    /// line.clear();
    /// r.read_line(&mut line).await?;
    /// assert_eq!(line, "still here\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn close(&self) {
        self.shared().close();
    }

    /// Closes the server, waits up to `grace` for the running handlers to
    /// finish, then drops the ones still running and waits until they are
    /// gone: asyncio's `close()`, then `wait_closed()` under a timeout, then
    /// `abort_clients()`.
    ///
    /// Each handler is dropped exactly once, in its own task, after its
    /// current poll; when this returns, no handler of this server runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// # corio::run(async {
    /// let server = corio::net::start_server(
    ///     |_r, _w| std::future::pending::<()>(), // never ends by itself
    ///     "127.0.0.1:0",
    /// )
    /// .await?;
    /// let _conn = corio::net::open_connection(server.local_addr()?).await?;
    /// server.shutdown(Duration::from_millis(10)).await; // cancels it
    /// assert_eq!(server.connections(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn shutdown(&self, grace: Duration) {
        let shared = self.shared();
        shared.close();
        if corio_io::time::wait_for(shared.wait_idle(), grace)
            .await
            .is_err()
        {
            shared.set_phase(STOPPING);
            shared.wait_idle().await;
        }
    }

    /// Waits until the server is closed and every handler has finished:
    /// asyncio's `wait_closed()` (3.12 and later). It does not close the
    /// server itself.
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// server.close();
    /// server.wait_closed().await;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn wait_closed(&self) {
        let shared = self.shared();
        shared.closed.wait().await;
        shared.wait_idle().await;
    }

    /// Whether the server still accepts connections (asyncio's
    /// `is_serving()`).
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// assert!(server.is_serving());
    /// server.close();
    /// assert!(!server.is_serving());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn is_serving(&self) -> bool {
        self.shared().phase.load(Ordering::SeqCst) == SERVING
    }

    /// How many connection handlers are running.
    ///
    /// ```
    /// # corio::run(async {
    /// let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// assert_eq!(server.connections(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn connections(&self) -> usize {
        self.shared().slots.lock().len()
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.shared().local_addr)
            .field("serving", &self.is_serving())
            .field("connections", &self.connections())
            .finish()
    }
}

impl Shared {
    fn close(&self) {
        // SeqCst: the accept task's insert reads the phase under the lock
        // taken below (see the module header).
        if self
            .phase
            .compare_exchange(SERVING, CLOSED, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        drop(self.slots.lock());
        if let Some(listener) = self.listener.lock().take() {
            // Linux: shutting a listening socket's read side stops it
            // listening now (queued and new connections are refused),
            // though the accept task still holds the descriptor. Other
            // systems refuse this; the descriptor closes with the task.
            let _ = socket2::SockRef::from(&*listener).shutdown(std::net::Shutdown::Read);
        }
        if let Some(task) = self.accept_task.lock().take() {
            task.abort();
        }
        self.closed.set();
    }

    fn set_phase(&self, phase: u8) {
        // SeqCst store before the lock: see the module header.
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

    /// Reserves a slot for a new connection, unless the server is closed.
    fn insert(&self) -> Option<usize> {
        let mut slots = self.slots.lock();
        (self.phase.load(Ordering::SeqCst) == SERVING).then(|| slots.insert(None))
    }

    async fn wait_idle(&self) {
        if self.slots.lock().is_empty() {
            return;
        }
        self.idle.wait().await;
    }
}

/// Accepts until the listener breaks or the task is aborted by `close()`.
async fn accept_loop<F, Fut>(listener: Arc<TcpListener>, handler: Arc<F>, shared: Arc<Shared>)
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
{
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) if shared.phase.load(Ordering::SeqCst) != SERVING => {
                // The listener was shut by close(); this task is going.
                drop(e);
                return;
            }
            Err(e) if is_fatal_accept_error(&e) => {
                *shared.failure.lock() = Some((e.kind(), e.to_string()));
                shared.close();
                return;
            }
            Err(e) => {
                // An aborted handshake, or out of descriptors (the listener
                // then pauses before its next accept): log and go on.
                tracing::warn!("corio::net::start_server: accept failed: {e}");
                continue;
            }
        };
        let Some(key) = shared.insert() else { return };
        let slot = Slot {
            shared: shared.clone(),
            key,
        };
        let handler = handler.clone();
        drop(corio_rt::spawn(slot.run(stream, handler)));
    }
}

/// Errors after which accepting again cannot succeed: the listener itself
/// is broken. Everything else concerns one connection or passes.
fn is_fatal_accept_error(e: &io::Error) -> bool {
    // EINVAL: the socket is not listening (any more).
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT)
    )
}

/// A connection task's slot; removed when the task ends or is dropped.
struct Slot {
    shared: Arc<Shared>,
    key: usize,
}

impl Slot {
    /// Runs the handler on `stream` until it returns or the server stops it.
    async fn run<F, Fut>(self, stream: TcpStream, handler: Arc<F>)
    where
        F: Fn(StreamReader, StreamWriter) -> Fut,
        Fut: Future,
    {
        // Replies go out when the handler flushes; no Nagle delay on top.
        let _ = stream.set_nodelay(true);
        let (reader, writer) = into_streams(stream);
        let mut fut = pin!(handler(reader, writer));
        let mut stored: Option<Waker> = None;
        poll_fn(|cx| {
            if !stored.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                let waker = cx.waker().clone();
                if let Some(slot) = self.shared.slots.lock().get_mut(self.key) {
                    *slot = Some(waker.clone());
                }
                stored = Some(waker);
            }
            // SeqCst load after the store above: see the module header.
            if self.shared.phase.load(Ordering::SeqCst) == STOPPING {
                return Poll::Ready(());
            }
            fut.as_mut().poll(cx).map(drop)
        })
        .await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut slots = self.shared.slots.lock();
        slots.remove(self.key);
        if slots.is_empty() && self.shared.phase.load(Ordering::SeqCst) != SERVING {
            drop(slots);
            self.shared.idle.set();
        }
    }
}
