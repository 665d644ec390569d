//! corio's I/O driver thread, timing wheel and network types.
//!
//! This crate is runtime-agnostic: it talks to executors only through
//! `Waker`s, so its futures run under corio, under any other executor, or
//! under a bare `block_on`. The `corio` facade re-exports its public
//! modules as `corio::net`, `corio::io`, `corio::time`, `corio::signal` and
//! `corio::process`.
//!
//! - [`net`]: `TcpListener`, `TcpStream`, `TcpSocket`, `UdpSocket`,
//!   `UnixListener`, `UnixStream`, `UnixDatagram`, and `Async<T>` for any
//!   other descriptor. Host names are resolved off the caller's thread.
//! - [`io`]: the futures-io traits, futures-lite's extension methods
//!   (`read_exact`, `write_all`, `read_line`, ...) and buffered adapters,
//!   re-exported, and `copy_bidirectional`.
//! - [`time`]: `sleep`, `sleep_until`, `interval`, `wait_for`.
//! - [`signal`]: `ctrl_c` and `Signals`, signals read through the driver.
//! - [`process`]: `Command` and `Child`, with pipes as `Async` descriptors
//!   and children reaped through the driver (a pidfd, or one SIGCHLD
//!   listener).
//! - [`blocking`]: the hook through which an executor lends its blocking
//!   pool for corio-io's blocking work (host-name lookups).
//!
//! All of them are served by one process-wide driver, started on first use:
//! a poller (corio's own epoll set on Linux, `polling` on the BSDs and
//! macOS) and a timing wheel, polled with the next timer
//! deadline as the timeout by whichever thread holds the driver's turn. That
//! is the "corio-io" thread under any executor; under corio it is usually an
//! idle worker, so that readiness wakes the thread that runs the woken
//! tasks. The files follow that path: `driver.rs` (the turn and the
//! thread), `turn.rs` (who polls), `wait.rs` (the poll itself), `park.rs`
//! (the door for a runtime's workers), `source_table.rs` (registered
//! sources by key), `source.rs` (a registered descriptor and its readiness
//! ticks), `wheel.rs` (the timing wheel), then `time/`,
//! `net/` and `io.rs` on top.
//!
//! ```
//! use std::time::Duration;
//! use corio_io::io::{AsyncReadExt, AsyncWriteExt};
//! use corio_io::net::{TcpListener, TcpStream};
//! use corio_io::time::wait_for;
//!
//! futures_lite::future::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"hello").await?;
//!     let mut buf = [0u8; 5];
//!     wait_for(server.read_exact(&mut buf), Duration::from_secs(5)).await??;
//!     assert_eq!(&buf, b"hello");
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```
#![warn(missing_docs)]

pub mod blocking;
pub mod coop;
mod driver;
pub mod io;
mod loom;
pub mod net;
#[doc(hidden)]
pub mod park;
pub mod process;
pub mod signal;
mod source;
mod source_table;
#[cfg(test)]
mod test_util;
pub mod time;
#[doc(hidden)]
pub mod turn;
mod wait;
mod wheel;

/// A snapshot of the driver's bookkeeping, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverMetrics {
    /// Timer entries armed in the wheel.
    pub timer_entries: usize,
    /// Descriptors registered with the poller.
    pub registered_sources: usize,
    /// Stream reads (TCP, Unix) that did not try the system call because the
    /// previous read was short, i.e. emptied the socket; counted since the
    /// process started.
    pub stream_reads_skipped: u64,
    /// Turns (polls of I/O and timers) taken by the "corio-io" backup
    /// thread since the process started; the rest are taken by runtime
    /// workers (see a runtime's metrics).
    pub backup_turns: u64,
}

/// Reads the driver's bookkeeping (starting the driver if needed).
///
/// ```
/// let m = corio_io::driver_metrics();
/// assert_eq!(m.timer_entries, corio_io::time::timer_entries());
/// ```
pub fn driver_metrics() -> DriverMetrics {
    let d = driver::Driver::get();
    DriverMetrics {
        timer_entries: d.timer_count(),
        registered_sources: d.source_count(),
        stream_reads_skipped: source::reads_skipped(),
        backup_turns: driver::backup_turns(),
    }
}
