//! Graceful shutdown for the example servers: stop accepting on SIGTERM or
//! Ctrl-C, let the live connections finish for a grace period, exit 0.
//!
//! The shape, as in asyncio (`loop.add_signal_handler(SIGTERM, ...)`, then
//! `server.close()` and `asyncio.wait(handlers, timeout=grace)`):
//!
//! ```no_run
//! use corio::net::TcpListener;
//! use corio_examples::shutdown::{stop_signals, Connections};
//!
//! #[corio::main]
//! async fn main() -> std::io::Result<()> {
//!     // Catch the signals before listening, so none arrives uncaught.
//!     let mut stop = stop_signals()?;
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let connections = Connections::new();
//!     let signal = loop {
//!         let (stream, _) = corio::select! {
//!             signal = stop.recv() => break signal,
//!             conn = listener.accept() => conn?,
//!         };
//!         let guard = connections.enter();
//!         corio::spawn(async move {
//!             let _guard = guard; // counts this connection until it ends
//!             drop(stream);
//!         });
//!     };
//!     drop(listener); // stop accepting
//!     connections.drain("demo", signal).await;
//!     Ok(())
//! }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::signal::{Signals, SIGINT, SIGTERM};
use corio::sync::Event;

/// The grace period when `GRACE_MS` is not set.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How long live connections may run on after the stop signal: the
/// `GRACE_MS` environment variable (milliseconds), else [`DEFAULT_GRACE`].
pub fn grace_period() -> Duration {
    std::env::var("GRACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_GRACE)
}

/// Listens for SIGTERM (what `kill`, systemd and container runtimes send)
/// and SIGINT (Ctrl-C).
pub fn stop_signals() -> std::io::Result<Signals> {
    Signals::new(&[SIGTERM, SIGINT])
}

/// A signal's name, for the log line.
pub fn signal_name(signal: Option<i32>) -> &'static str {
    match signal {
        Some(SIGTERM) => "SIGTERM",
        Some(SIGINT) => "SIGINT",
        Some(_) => "a signal",
        None => "the signal listener failing",
    }
}

/// Counts live connections, so shutdown can wait for them.
#[derive(Debug)]
pub struct Connections {
    live: AtomicUsize,
    /// Set each time the count drops to zero.
    idle: Event,
}

/// One live connection; dropping it (when the handler task ends or is
/// cancelled) takes it off the count.
#[derive(Debug)]
pub struct ConnectionGuard {
    connections: Arc<Connections>,
}

impl Connections {
    /// No connections yet.
    pub fn new() -> Arc<Connections> {
        Arc::new(Connections {
            live: AtomicUsize::new(0),
            idle: Event::new(),
        })
    }

    /// Counts a new connection until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> ConnectionGuard {
        // SeqCst: `drain` reads the count after clearing `idle`, and the
        // guard's decrement sets `idle` after it; with one total order the
        // drainer cannot miss the last decrement.
        self.live.fetch_add(1, Ordering::SeqCst);
        ConnectionGuard {
            connections: self.clone(),
        }
    }

    /// Connections that have not ended yet.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// After the listener is closed: waits up to [`grace_period`] for the
    /// live connections to end, printing what happens (`server` names the
    /// program, `signal` is what [`Signals::recv`] returned). Connections
    /// still open afterwards are dropped when `main` returns and the runtime
    /// cancels their tasks.
    pub async fn drain(&self, server: &str, signal: Option<i32>) {
        let grace = grace_period();
        println!(
            "{server}: {}: no longer accepting; waiting up to {grace:?} for {} connection(s)",
            signal_name(signal),
            self.live()
        );
        let all_ended = async {
            loop {
                if self.live() == 0 {
                    return;
                }
                self.idle.clear();
                if self.live() == 0 {
                    return;
                }
                self.idle.wait().await;
            }
        };
        match corio::time::wait_for(all_ended, grace).await {
            Ok(()) => println!("{server}: every connection ended; bye"),
            Err(_) => println!(
                "{server}: grace period over; dropping {} connection(s); bye",
                self.live()
            ),
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if self.connections.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.connections.idle.set();
        }
    }
}
