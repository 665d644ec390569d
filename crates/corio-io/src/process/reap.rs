//! Reaping children without a thread per child.
//!
//! A child is reaped by `waitpid(pid, WNOHANG)` (std's `Child::try_wait`,
//! which also remembers the status) once something says it may have
//! exited. What says so is a [`Watch`], one per child:
//!
//! - **pidfd** (Linux 5.3+): `pidfd_open(pid)` gives a descriptor that turns
//!   readable when the process exits; it is an `Async` descriptor like any
//!   socket, so the driver wakes exactly the task waiting for that child.
//! - **SIGCHLD** (other Unixes, or a kernel or sandbox that refuses
//!   `pidfd_open` with `ENOSYS`/`EPERM`): one process-wide
//!   [`Signals`] listener for `SIGCHLD`, the [`Hub`]. `SIGCHLD` does not say
//!   which child exited (and several coalesce into one), so every delivery
//!   bumps the hub's *generation* and wakes every waiting child, each of
//!   which tries its own `waitpid`. Only ever `waitpid` of our own pids,
//!   never `waitpid(-1)`, so children that other code spawned are left to
//!   that code.
//!
//! # The wait loop, and why no exit is missed
//!
//! [`poll_wait`] is: `try_wait`; if the child runs, wait on the watch; when
//! the watch fires, `try_wait` again.
//!
//! - pidfd: `Async::poll_readable` asks `poll(2)` for the present state and
//!   the readiness tick for the future (see `net/async_fd.rs`), so an exit
//!   after the `try_wait` is seen either by the `poll(2)` or by the edge.
//! - SIGCHLD: [`Hub::poll`] first puts the task's waker in the hub's list,
//!   then drains the listener (bumping the generation and waking the list if
//!   it took anything), then compares the generation with the one the child
//!   last saw. An exit after the `try_wait` raises a SIGCHLD that is either
//!   drained by this poll or another (the generation moved: try again), or
//!   arrives later and wakes the list, which holds the waker. The hub's
//!   listener is created before the first child's first `try_wait`, so a
//!   child that exited before it existed is found by that `try_wait`.
//!
//! # Orphans
//!
//! A `Child` dropped before it was reaped (after `kill_on_drop` killed it,
//! or simply forgotten) becomes an [`Orphan`]: its std child and its watch
//! move into an `Arc` that is its own waker. Waking it runs `poll_wait`
//! right there, on whichever thread woke it (the driver's turn for a pidfd,
//! a hub poll for SIGCHLD); once the child is reaped the orphan drops its
//! watch and, with nobody referring to it any more, itself. No thread and no
//! runtime task is needed: the driver that already polls every descriptor
//! finishes the job. A wake that arrives while another thread is polling
//! the same orphan sets `notified`, and that thread polls once more before
//! it leaves.

use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

use crate::net::Async;
use crate::signal::{Signals, SIGCHLD};

/// What tells the wait loop that a child may have exited.
pub(crate) enum Watch {
    /// A pidfd, readable once the child exited.
    Pidfd(Async<OwnedFd>),
    /// The process-wide SIGCHLD hub; the generation this child last saw.
    Sigchld(u64),
}

/// Whether `pidfd_open` is worth trying: unknown, yes, no.
static PIDFD: AtomicU8 = AtomicU8::new(PIDFD_UNKNOWN);
const PIDFD_UNKNOWN: u8 = 0;
const PIDFD_YES: u8 = 1;
const PIDFD_NO: u8 = 2;

/// Makes every later child use the SIGCHLD hub instead of a pidfd; for
/// tests of that path on kernels that have pidfds.
pub(crate) fn force_sigchld() {
    // Relaxed: a configuration flag; each spawn reads whatever it sees, and
    // both answers reap correctly.
    PIDFD.store(PIDFD_NO, Ordering::Relaxed);
}

impl Watch {
    /// A watch for the child `pid`, which the caller has not reaped.
    pub(crate) fn new(pid: u32) -> io::Result<Watch> {
        // Relaxed: see `force_sigchld`.
        if PIDFD.load(Ordering::Relaxed) != PIDFD_NO {
            match pidfd_open(pid) {
                Ok(fd) => {
                    PIDFD.store(PIDFD_YES, Ordering::Relaxed);
                    return Ok(Watch::Pidfd(Async::new(fd)?));
                }
                Err(e) if pidfd_unsupported(&e) => PIDFD.store(PIDFD_NO, Ordering::Relaxed),
                Err(e) => return Err(e),
            }
        }
        let hub = Hub::get()?;
        Ok(Watch::Sigchld(hub.generation.load(Ordering::SeqCst)))
    }

    /// Which mechanism this is, for `Debug`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Watch::Pidfd(_) => "pidfd",
            Watch::Sigchld(_) => "sigchld",
        }
    }
}

/// `pidfd_open(2)`, close-on-exec as every pidfd is.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    // A descriptor fits in c_int by definition.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pidfd_open(_pid: u32) -> io::Result<OwnedFd> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// Errors that mean "no pidfds here" rather than "this call failed".
fn pidfd_unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM))
}

/// Reaps `child` if it exited; otherwise registers `cx` with `watch` for the
/// moment it may have.
pub(crate) fn poll_wait(
    child: &mut std::process::Child,
    watch: &mut Watch,
    cx: &mut Context<'_>,
) -> Poll<io::Result<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Poll::Ready(Ok(status));
        }
        match watch {
            Watch::Pidfd(fd) => match fd.poll_readable(cx) {
                Poll::Ready(Ok(())) => {
                    // Readable means exited, so this `try_wait` reaps it.
                    if let Some(status) = child.try_wait()? {
                        return Poll::Ready(Ok(status));
                    }
                    // Not expected from any kernel; yield instead of
                    // spinning if it ever happens.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            Watch::Sigchld(seen) => match Hub::get()?.poll(cx, seen) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
        }
    }
}

/// The process-wide SIGCHLD listener and the children waiting on it.
struct Hub {
    signals: Mutex<Signals>,
    /// Bumped each time a poll drained at least one SIGCHLD.
    generation: AtomicU64,
    /// Tasks (and orphans) waiting for the next SIGCHLD.
    waiters: Mutex<Vec<Waker>>,
    /// The waker the listener is polled with (one, so that the socket's
    /// waiter list holds it once however often the hub is polled).
    broadcast: Waker,
}

static HUB: OnceLock<Hub> = OnceLock::new();
/// Serializes the creation of the hub, which can fail.
static HUB_INIT: Mutex<()> = Mutex::new(());

/// The waker the hub's listener is polled with: it wakes every waiter.
struct Broadcast;

impl Wake for Broadcast {
    fn wake(self: Arc<Self>) {
        if let Some(hub) = HUB.get() {
            hub.wake_all();
        }
    }
}

impl Hub {
    /// The hub, created (and SIGCHLD caught) on first use.
    fn get() -> io::Result<&'static Hub> {
        if let Some(hub) = HUB.get() {
            return Ok(hub);
        }
        let _guard = HUB_INIT.lock();
        if let Some(hub) = HUB.get() {
            return Ok(hub);
        }
        let hub = Hub {
            signals: Mutex::new(Signals::new(&[SIGCHLD])?),
            generation: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
            broadcast: Waker::from(Arc::new(Broadcast)),
        };
        Ok(HUB.get_or_init(|| hub))
    }

    /// `Ready` once a SIGCHLD was drained since generation `seen` (which is
    /// then updated); otherwise `cx` waits for the next one.
    fn poll(&self, cx: &mut Context<'_>, seen: &mut u64) -> Poll<io::Result<()>> {
        {
            let mut waiters = self.waiters.lock();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
        }
        let mut drained = false;
        let mut failed = false;
        // The drain is shared bookkeeping, not the task's own I/O: it
        // polls with the broadcast waker, so it does not spend the budget.
        crate::coop::without_budget(|| {
            let mut bcx = Context::from_waker(&self.broadcast);
            let mut signals = self.signals.lock();
            loop {
                match signals.poll_recv(&mut bcx) {
                    Poll::Ready(Some(_)) => drained = true,
                    Poll::Ready(None) => {
                        failed = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        });
        if drained {
            // SeqCst: the bump must be visible to a poll that registered its
            // waker before `wake_all` below took the list (it loads the
            // generation after registering, under the same lock order).
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.wake_all();
        }
        if failed {
            return Poll::Ready(Err(io::Error::other(
                "the SIGCHLD listener stopped: children can no longer be reaped",
            )));
        }
        let now = self.generation.load(Ordering::SeqCst);
        if now != *seen {
            *seen = now;
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    /// Wakes every waiter, with no lock held while they run.
    fn wake_all(&self) {
        let waiters = std::mem::take(&mut *self.waiters.lock());
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// A dropped, unreaped child that reaps itself when woken.
struct Orphan {
    state: Mutex<Option<(std::process::Child, Watch)>>,
    /// A wake arrived while another thread held `state`.
    notified: AtomicBool,
}

impl Orphan {
    /// Polls until reaped, or until it is registered and no wake is
    /// outstanding.
    fn run(self: &Arc<Self>) {
        // This may run inside a task's poll (a `Child` dropped there). Its
        // own waker retries at once, so a spent budget's `Pending` would
        // spin here: nothing is counted.
        crate::coop::without_budget(|| self.run_unbudgeted());
    }

    fn run_unbudgeted(self: &Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            let Some(mut state) = self.state.try_lock() else {
                // The holder re-checks `notified` after unlocking.
                return;
            };
            // SeqCst, here and in `wake`: the holder's clear-then-poll and
            // the waker's set-then-try_lock must not both miss each other.
            self.notified.store(false, Ordering::SeqCst);
            let done = match state.as_mut() {
                None => return,
                Some((child, watch)) => match poll_wait(child, watch, &mut cx) {
                    Poll::Pending => None,
                    // Reaped, or an error that no retry will fix (the pid is
                    // gone): either way there is nothing left to wait for.
                    Poll::Ready(_) => state.take(),
                },
            };
            drop(state);
            // Dropped with no lock held: deregistering the pidfd wakes its
            // waiters, which may be this orphan again.
            let finished = done.is_some();
            drop(done);
            if finished || !self.notified.load(Ordering::SeqCst) {
                return;
            }
        }
    }
}

impl Wake for Orphan {
    fn wake(self: Arc<Self>) {
        self.notified.store(true, Ordering::SeqCst);
        self.run();
    }
}

/// Hands an unreaped child to the driver (see "Orphans" above).
pub(crate) fn orphan(child: std::process::Child, watch: Watch) {
    let orphan = Arc::new(Orphan {
        state: Mutex::new(Some((child, watch))),
        notified: AtomicBool::new(false),
    });
    orphan.run();
}
