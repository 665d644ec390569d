//! Unix signals as futures and streams: [`ctrl_c`] and [`Signals`]
//! (asyncio's `loop.add_signal_handler`).
//!
//! # Why here
//!
//! A signal is one more event source for the I/O driver: the handler turns
//! it into a byte on a socket that the driver watches, like any other
//! descriptor. Nothing here needs a runtime (no spawn, no blocking pool), so
//! it lives in corio-io next to the driver it uses and works under any
//! executor; the `corio` facade re-exports it as `corio::signal`.
//!
//! # How a signal reaches a listener
//!
//! Each listener (a [`Signals`], or the one inside a [`CtrlC`]) owns:
//!
//! - a non-blocking Unix socket pair: the read end is an [`Async`] descriptor
//!   registered with the driver, the write end belongs to the handler;
//! - one *pending* flag per signal it listens to;
//! - one action per signal in `signal-hook-registry`, which installs the
//!   process's real `sigaction` handler the first time a signal is asked for
//!   and runs every registered action from it.
//!
//! The action runs inside the signal handler, so it does only what is
//! async-signal-safe: it sets the signal's pending flag, then `write(2)`s one
//! byte to the write end (a full socket drops the byte: a wake-up is already
//! queued). `errno` is saved and restored around it by the registry.
//!
//! The listener's poll is the other half:
//!
//! 1. take a pending flag (swap it to `false`); if one was set, yield that
//!    signal;
//! 2. otherwise read the socket until `WouldBlock`; bytes read mean a
//!    handler ran since the last look: back to 1;
//! 3. `WouldBlock` registers the task's waker with the driver (the tick
//!    protocol of `source.rs`, so an edge between the read and the
//!    registration is not lost).
//!
//! No wake-up is lost: the handler sets the flag *before* it writes the byte,
//! so a poll that finds the flag clear in step 1 either reads that byte in
//! step 2 (and goes back to 1, where the flag is now visible) or waits in
//! step 3 for the edge the byte makes. Bytes are only wake-ups; the flags say
//! which signal. Like the kernel, a listener coalesces: a signal delivered
//! twice before the listener looks is yielded once.
//!
//! Several listeners for one signal each have their own action, flag and
//! socket, so each sees every delivery. Each listener's actions are
//! registered in [`Signals::new`] itself, before it returns: a signal sent
//! right after the call is recorded even if the stream is never polled.
//!
//! # A handler stays for the life of the process
//!
//! Dropping a listener removes its actions (no further writes to its
//! socket; `unregister` waits for a running handler to finish before the
//! socket is closed). It does not, and cannot, put back the signal's default
//! disposition: `signal-hook-registry` keeps its handler installed until the
//! process exits. So once a signal has had a listener, **the process ignores
//! that signal while no listener is alive**: a `SIGTERM` or `SIGINT` that
//! would have killed the process is dropped. Keep a listener alive for as
//! long as the program wants to hear the signal, or exit when its listener
//! says so.

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use signal_hook_registry::SigId;

use crate::net::Async;

/// Interrupt from the keyboard (Ctrl-C); what [`ctrl_c`] listens for
/// (Python's `signal.SIGINT`).
pub const SIGINT: i32 = libc::SIGINT;
/// Termination request: what `kill PID`, systemd and container runtimes send
/// to stop a service (Python's `signal.SIGTERM`).
pub const SIGTERM: i32 = libc::SIGTERM;
/// Hang-up of the controlling terminal; daemons use it for "reload"
/// (Python's `signal.SIGHUP`).
pub const SIGHUP: i32 = libc::SIGHUP;
/// Quit from the keyboard, Ctrl-\\ (Python's `signal.SIGQUIT`).
pub const SIGQUIT: i32 = libc::SIGQUIT;
/// User-defined signal 1 (Python's `signal.SIGUSR1`).
pub const SIGUSR1: i32 = libc::SIGUSR1;
/// User-defined signal 2 (Python's `signal.SIGUSR2`).
pub const SIGUSR2: i32 = libc::SIGUSR2;
/// A child process stopped or exited (Python's `signal.SIGCHLD`).
pub const SIGCHLD: i32 = libc::SIGCHLD;
/// The terminal window changed size (Python's `signal.SIGWINCH`).
pub const SIGWINCH: i32 = libc::SIGWINCH;
/// A write to a pipe or socket with no reader (Rust programs ignore it by
/// default and get `EPIPE` instead; Python's `signal.SIGPIPE`).
pub const SIGPIPE: i32 = libc::SIGPIPE;
/// A timer set with `alarm(2)` expired (Python's `signal.SIGALRM`).
pub const SIGALRM: i32 = libc::SIGALRM;
/// Continue after a stop (Python's `signal.SIGCONT`).
pub const SIGCONT: i32 = libc::SIGCONT;
/// Stop from the keyboard, Ctrl-Z (Python's `signal.SIGTSTP`).
pub const SIGTSTP: i32 = libc::SIGTSTP;

/// What the handler of one listener shares with the listener.
struct Shared {
    /// The write end of the listener's socket pair; written (one byte) by
    /// the signal handler. Closed when the last action is unregistered and
    /// the listener is dropped.
    wake: OwnedFd,
    /// One flag per signal of the listener, in the order of `signals`.
    pending: Box<[AtomicBool]>,
    /// The signal numbers, deduplicated, in the order given.
    signals: Box<[i32]>,
}

impl Shared {
    /// The action registered for `signals[index]`; runs inside the signal
    /// handler, so it only stores an atomic and calls `write(2)`.
    fn on_signal(&self, index: usize) {
        // SeqCst: signals are rare, and the store must be visible to a
        // reader that reads the byte written below (the kernel's socket
        // lock orders the write with that read as well).
        self.pending[index].store(true, Ordering::SeqCst);
        let byte = 1u8;
        // SAFETY: `wake` is an open descriptor owned by `self`, which the
        // registered action keeps alive; the buffer is one valid byte. A
        // full socket (EAGAIN) is fine: a wake-up byte is already queued.
        unsafe {
            libc::write(self.wake.as_raw_fd(), (&byte as *const u8).cast(), 1);
        }
    }
}

/// A stream of the signals delivered to the process, among those it was
/// created with (asyncio's `loop.add_signal_handler`, as a stream).
///
/// The handler is installed in [`Signals::new`]: from the moment `new`
/// returns, those signals are caught (a `SIGTERM` no longer kills the
/// process) and recorded for this stream, polled or not. Each item is the
/// number of a signal that arrived; a signal delivered several times before
/// the stream is polled is yielded once (signals coalesce, as in the
/// kernel). Several `Signals` (and [`ctrl_c`] futures) may listen to the
/// same signal: each sees every delivery.
///
/// Once a signal has been listened to, its handler stays installed for the
/// life of the process; when the last listener is dropped the signal is
/// **ignored**, not restored to its default action (see the module docs).
///
/// ```
/// use corio_io::signal::{Signals, SIGHUP, SIGUSR1};
///
/// futures_lite::future::block_on(async {
///     // asyncio: loop.add_signal_handler(signal.SIGUSR1, callback)
///     let mut signals = Signals::new(&[SIGUSR1, SIGHUP])?;
///     // SAFETY: kill(2) sends a signal the process now catches.
///     unsafe { libc::kill(libc::getpid(), SIGUSR1) };
///     assert_eq!(signals.recv().await, Some(SIGUSR1));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Signals {
    shared: Arc<Shared>,
    /// The registered actions, one per signal; unregistered on drop.
    ids: Vec<SigId>,
    /// The read end of the socket pair, watched by the driver.
    reader: Async<UnixStream>,
    /// Where the next scan of the pending flags starts, so that one signal
    /// arriving in a tight loop does not starve the others.
    next: usize,
}

impl Signals {
    /// Starts listening to `signals`; the handlers are installed before this
    /// returns.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty list, a number that is not a signal, and
    /// the signals that cannot or must not be caught (`SIGKILL`, `SIGSTOP`,
    /// `SIGILL`, `SIGFPE`, `SIGSEGV`); the OS error if the socket pair or a
    /// handler cannot be set up. Nothing stays registered after an error.
    ///
    /// ```
    /// use corio_io::signal::{Signals, SIGTERM};
    ///
    /// assert!(Signals::new(&[SIGTERM]).is_ok());
    /// assert!(Signals::new(&[libc::SIGKILL]).is_err());
    /// assert!(Signals::new(&[]).is_err());
    /// ```
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let mut list: Vec<i32> = Vec::new();
        for &s in signals {
            check_signal(s)?;
            if !list.contains(&s) {
                list.push(s);
            }
        }
        if list.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Signals::new: no signal given",
            ));
        }
        let (read, write) = UnixStream::pair()?;
        write.set_nonblocking(true)?;
        let reader = Async::new(read)?;
        let shared = Arc::new(Shared {
            wake: OwnedFd::from(write),
            pending: list.iter().map(|_| AtomicBool::new(false)).collect(),
            signals: list.into_boxed_slice(),
        });
        let mut this = Signals {
            shared,
            ids: Vec::new(),
            reader,
            next: 0,
        };
        for (index, &signal) in this.shared.signals.iter().enumerate() {
            let shared = this.shared.clone();
            // SAFETY: the action only stores an atomic and calls write(2) on
            // a descriptor it keeps open (`Shared::on_signal`), both
            // async-signal-safe; it allocates, locks and panics nowhere. The
            // signal is not in FORBIDDEN (`check_signal`), so `register`
            // does not panic.
            let id =
                unsafe { signal_hook_registry::register(signal, move || shared.on_signal(index)) };
            match id {
                Ok(id) => this.ids.push(id),
                // `this` is dropped here, unregistering what was registered.
                Err(e) => return Err(e),
            }
        }
        Ok(this)
    }

    /// The signals this stream listens to.
    ///
    /// ```
    /// use corio_io::signal::{Signals, SIGHUP, SIGTERM};
    /// let s = Signals::new(&[SIGTERM, SIGHUP, SIGTERM])?;
    /// assert_eq!(s.signals(), &[SIGTERM, SIGHUP]);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn signals(&self) -> &[i32] {
        &self.shared.signals
    }

    /// Waits for the next signal and returns its number; the same as the
    /// stream's `next()`, without importing an extension trait.
    ///
    /// `None` only if waiting on the driver itself failed (the stream is
    /// then finished); a signal never ends the stream.
    ///
    /// Cancel-safe: a signal that arrives while the future is dropped stays
    /// pending for the next call.
    ///
    /// ```
    /// use corio_io::signal::{Signals, SIGUSR2};
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut signals = Signals::new(&[SIGUSR2])?;
    ///     // SAFETY: raise(3) sends a signal the process now catches.
    ///     unsafe { libc::raise(SIGUSR2) };
    ///     assert_eq!(signals.recv().await, Some(SIGUSR2));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&mut self) -> Option<i32> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll form of [`recv`](Self::recv), for hand-written futures
    /// (what asyncio's loop does with the handler's wake-up byte).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use corio_io::signal::{Signals, SIGWINCH};
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut signals = Signals::new(&[SIGWINCH])?;
    ///     // SAFETY: raise(3) sends a signal the process now catches.
    ///     unsafe { libc::raise(SIGWINCH) };
    ///     let sig = poll_fn(|cx| signals.poll_recv(cx)).await;
    ///     assert_eq!(sig, Some(SIGWINCH));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        let mut buf = [0u8; 64];
        loop {
            if let Some(signal) = self.take_pending() {
                return Poll::Ready(Some(signal));
            }
            match self.reader.poll_read_with(cx, |mut s| s.read(&mut buf)) {
                // Wake-up bytes: a handler ran; look at the flags again.
                Poll::Ready(Ok(n)) if n > 0 => {}
                // End-of-file cannot happen while `shared` holds the write
                // end; an error means the driver cannot watch the socket.
                // Either way no signal can be reported any more.
                Poll::Ready(_) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Takes one pending signal, scanning from `next`.
    fn take_pending(&mut self) -> Option<i32> {
        let n = self.shared.signals.len();
        for k in 0..n {
            let index = (self.next + k) % n;
            // SeqCst: pairs with the handler's store (see `on_signal`).
            if self.shared.pending[index].swap(false, Ordering::SeqCst) {
                self.next = (index + 1) % n;
                return Some(self.shared.signals[index]);
            }
        }
        None
    }
}

impl Stream for Signals {
    type Item = i32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // After `unregister` returns, the action is not running and will not
        // run again, so the write end (dropped with the last `Shared`) is
        // never written after it is closed. The read end goes after this.
        for id in self.ids.drain(..) {
            signal_hook_registry::unregister(id);
        }
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals")
            .field("signals", &self.shared.signals)
            .field("fd", &self.reader.as_raw_fd())
            .finish()
    }
}

/// Refuses what is not a signal or must not be caught.
fn check_signal(signal: i32) -> io::Result<()> {
    if signal_hook_registry::FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signal} cannot be caught (SIGKILL, SIGSTOP) or must not be (SIGILL, SIGFPE, SIGSEGV)"),
        ));
    }
    if !(1..=max_signal()).contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signal} is not a signal number"),
        ));
    }
    Ok(())
}

/// The largest signal number.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn max_signal() -> i32 {
    libc::SIGRTMAX()
}

/// The largest signal number (no real-time signals assumed).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn max_signal() -> i32 {
    31
}

/// Completes when the process receives `SIGINT` (Ctrl-C): the Rust form of
/// asyncio's `loop.add_signal_handler(signal.SIGINT, ...)`, and what
/// `asyncio.run` does for `KeyboardInterrupt`.
///
/// The handler is installed by the call itself, before the first poll: a
/// Ctrl-C that arrives between the call and the first `.await` is not lost
/// and does not kill the process. Afterwards `SIGINT` stays caught for the
/// life of the process (see [`Signals`]), so a program that stops listening
/// should exit on its own.
///
/// The future fails only if the handler cannot be set up (descriptors
/// exhausted, say).
///
/// ```no_run
/// futures_lite::future::block_on(async {
///     // asyncio: loop.add_signal_handler(signal.SIGINT, stop.set)
///     corio_io::signal::ctrl_c().await?;
///     println!("Ctrl-C: shutting down");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn ctrl_c() -> CtrlC {
    CtrlC {
        signals: Some(Signals::new(&[SIGINT])),
    }
}

/// The future returned by [`ctrl_c`]; its SIGINT handler is installed
/// already. Race it against the work it should interrupt, as asyncio's
/// `add_signal_handler(SIGINT, task.cancel)` does:
///
/// ```
/// use std::time::Duration;
///
/// futures_lite::future::block_on(async {
///     let interrupted = corio_io::signal::ctrl_c();
///     let work = async {
///         corio_io::time::sleep(Duration::from_millis(10)).await;
///         Ok("done")
///     };
///     let outcome = futures_lite::future::or(work, async {
///         interrupted.await.map(|()| "interrupted")
///     })
///     .await?;
///     assert_eq!(outcome, "done"); // nobody pressed Ctrl-C
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[must_use = "futures do nothing unless awaited; the SIGINT handler is installed already"]
pub struct CtrlC {
    /// The listener, or the error to report on the first poll; `None` once
    /// the error has been reported.
    signals: Option<io::Result<Signals>>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(Ok(signals)) = &mut this.signals else {
            return Poll::Ready(Err(match this.signals.take() {
                Some(Err(e)) => e,
                _ => io::Error::other("ctrl_c: polled again after it reported its error"),
            }));
        };
        match signals.poll_recv(cx) {
            Poll::Ready(Some(_)) => Poll::Ready(Ok(())),
            Poll::Ready(None) => Poll::Ready(Err(io::Error::other(
                "ctrl_c: the I/O driver stopped watching the signal socket",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrlC").finish_non_exhaustive()
    }
}
