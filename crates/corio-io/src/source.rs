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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct CountWake(AtomicUsize);
    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn would_block<T>() -> io::Result<T> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    #[test]
    fn would_block_registers_and_an_edge_wakes() {
        let src = Source::new(-1, 0);
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(src
            .poll_io(Direction::Read, &mut cx, would_block::<()>)
            .is_pending());
        // Polling again with the same task does not add a second waiter.
        assert!(src
            .poll_io(Direction::Read, &mut cx, would_block::<()>)
            .is_pending());
        // An edge in the other direction wakes nobody.
        let mut batch = Vec::new();
        src.fire(Direction::Write, &mut batch);
        assert!(batch.is_empty());
        src.fire(Direction::Read, &mut batch);
        assert_eq!(batch.len(), 1);
        batch.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_edge_during_the_call_means_retry() {
        let src = Source::new(-1, 0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut calls = 0;
        let res = src.poll_io(Direction::Write, &mut cx, || {
            calls += 1;
            if calls == 1 {
                // Readiness arrives after the snapshot, while the call that
                // is about to say WouldBlock runs.
                src.fire(Direction::Write, &mut Vec::new());
                would_block()
            } else {
                Ok(42)
            }
        });
        assert!(matches!(res, Poll::Ready(Ok(42))));
        assert_eq!(calls, 2);
    }

    #[test]
    fn stale_snapshot_is_ready_fresh_one_waits() {
        let src = Source::new(-1, 0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let old = src.tick(Direction::Read);
        src.fire(Direction::Read, &mut Vec::new());
        assert!(src.poll_edge(Direction::Read, old, &mut cx).is_ready());
        let fresh = src.tick(Direction::Read);
        assert!(src.poll_edge(Direction::Read, fresh, &mut cx).is_pending());
    }

    #[test]
    fn errors_and_interrupts() {
        let src = Source::new(-1, 0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut n = 0;
        let res: Poll<io::Result<()>> = src.poll_io(Direction::Read, &mut cx, || {
            n += 1;
            if n < 3 {
                Err(io::ErrorKind::Interrupted.into())
            } else {
                Err(io::ErrorKind::ConnectionReset.into())
            }
        });
        match res {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("unexpected {other:?}"),
        }
    }
}
