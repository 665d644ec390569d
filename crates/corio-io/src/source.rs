//! A descriptor registered with the driver: readiness ticks and waiters.
//!
//! # The readiness tick protocol
//!
//! Every source is registered once, edge-triggered, for both directions. Each
//! direction (read, write) keeps a *tick*: a counter the driver bumps each
//! time the poller reports an edge in that direction. An edge means "the
//! descriptor may have become ready since you last looked"; the tick lets an
//! operation tell an edge it has already seen from a newer one.
//!
//! An operation runs like this (see [`Source::poll_io`]):
//!
//! 1. Read the direction's tick (the snapshot).
//! 2. Try the system call. Success or a real error is returned: the hot path
//!    costs exactly the one system call.
//! 3. On `WouldBlock`, lock the direction's waiter list and compare the tick
//!    with the snapshot. If it moved, an edge arrived after step 1 and may
//!    have been caused by data the call in step 2 did not see: retry. If not,
//!    any future edge must bump the tick under this same lock, so registering
//!    the waker now cannot miss it: return `Pending`.
//!
//! Stale events are harmless: an edge for data that a later call already
//! consumed only costs a spurious wake and one `WouldBlock`.
//!
//! # Waiters
//!
//! Each direction holds a list of wakers, because several tasks may wait on
//! one direction (two tasks reading a shared `&TcpStream`, a `readable()`
//! future next to a read). A waker already in the list (`will_wake`) is not
//! added twice. An edge drains the whole list: every waiter retries its
//! operation, and those that still get `WouldBlock` register again.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// A direction of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The descriptor can be read (or accepted from, or has hung up).
    Read = 0,
    /// The descriptor can be written (or a connect finished).
    Write = 1,
}

/// One direction's state.
struct DirState {
    /// Edges seen so far. Written only by the driver with `waiters` locked.
    tick: AtomicU64,
    /// Tasks waiting for the next edge.
    waiters: Mutex<Vec<Waker>>,
}

/// A descriptor registered with the driver.
pub(crate) struct Source {
    /// The registered descriptor; owned by the I/O object holding this source.
    pub(crate) fd: RawFd,
    /// The poller key (index in the driver's source table).
    pub(crate) key: usize,
    dirs: [DirState; 2],
}

impl Source {
    pub(crate) fn new(fd: RawFd, key: usize) -> Source {
        let dir = || DirState {
            tick: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
        };
        Source {
            fd,
            key,
            dirs: [dir(), dir()],
        }
    }

    /// The direction's current tick (step 1 of the protocol).
    pub(crate) fn tick(&self, dir: Direction) -> u64 {
        // Acquire: the system call that follows must not be hoisted above this
        // load, or a snapshot could claim to predate an edge the call missed.
        // It pairs with the driver's Release bump in `fire`.
        self.dirs[dir as usize].tick.load(Ordering::Acquire)
    }

    /// Step 3 of the protocol: after `WouldBlock` observed with `snapshot`,
    /// either report that a newer edge arrived (`Ready`, retry) or register
    /// the waker (`Pending`).
    pub(crate) fn poll_edge(
        &self,
        dir: Direction,
        snapshot: u64,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let state = &self.dirs[dir as usize];
        let mut waiters = state.waiters.lock();
        // Relaxed is enough: the driver bumps the tick while holding this
        // lock, and the lock orders that bump with this load.
        if state.tick.load(Ordering::Relaxed) != snapshot {
            return Poll::Ready(());
        }
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Runs `op` under the tick protocol until it does not return
    /// `WouldBlock` (or `Interrupted`), registering `cx` for the next edge.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let snapshot = self.tick(dir);
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.poll_edge(dir, snapshot, cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => return Poll::Ready(res),
            }
        }
    }

    /// Called by the driver for an edge in `dir`: bumps the tick and moves
    /// the waiters into `batch`, to be woken once the driver holds no lock.
    pub(crate) fn fire(&self, dir: Direction, batch: &mut Vec<Waker>) {
        let state = &self.dirs[dir as usize];
        let mut waiters = state.waiters.lock();
        // Release pairs with the Acquire snapshot in `tick`.
        state.tick.fetch_add(1, Ordering::Release);
        batch.append(&mut waiters);
    }

    /// Wakes every waiter of both directions (used on deregistration, so
    /// that nothing waits on a descriptor the poller no longer watches).
    pub(crate) fn wake_all(&self) {
        let mut batch = Vec::new();
        self.fire(Direction::Read, &mut batch);
        self.fire(Direction::Write, &mut batch);
        batch.into_iter().for_each(Waker::wake);
    }
}
