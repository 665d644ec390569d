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
//! # Short stream reads: skipping the call that would say `WouldBlock`
//!
//! A read on a stream socket (TCP or Unix) that returns fewer bytes than the
//! buffer holds has emptied the socket's receive queue: the kernel copies
//! until the buffer is full or the queue is empty. The next read would
//! almost always fail with `EAGAIN`, one wasted system call per request in a
//! request/response server. So stream reads ([`Source::poll_stream_read`])
//! add one rule to the protocol:
//!
//! - A read that returns `Ok(n)` with `0 < n < len` stores the snapshot it
//!   took before its call as the read direction's *drained tick*.
//! - The next stream read loads the tick; if it equals the drained tick, it
//!   skips the call and goes straight to step 3 with that tick as the
//!   snapshot: under the lock, a moved tick means retry, an unmoved one
//!   means register the waker.
//!
//! Why this delays nothing: data in the queue after the short read arrived
//! after that read emptied it, so after its snapshot was taken. Edge-triggered
//! epoll (and kqueue with `EV_CLEAR`) reports every such arrival with a new
//! event, harvested after the arrival, and the driver bumps the tick for it
//! under the waiter lock. Either that bump is ordered before our locked
//! compare (the tick differs from the drained tick: retry the call) or after
//! it (our waker is in the list: the bump wakes it).
//!
//! End-of-file is the exception: data and the peer's FIN can arrive before
//! one edge, and a short read then takes the data and leaves the FIN, which
//! raises no further edge. So the poller must say when the read side closed
//! (`EPOLLRDHUP`, `EPOLLHUP`, `EPOLLERR`): the driver records it in the
//! source (`read_closed`, set before that edge's tick bump) and a read never
//! skips once it is set. Where the poller cannot say so (polling's kqueue
//! path, `wait::REPORTS_READ_CLOSED`), reads never skip. A stale or
//! out-of-order drained tick
//! is still the snapshot of some read that emptied the queue, and the tick
//! only grows, so it either equals the current tick (and the argument above
//! holds for it) or never matches again (and costs one ordinary call).
//!
//! `Ok(0)` (end-of-file) and a full buffer leave readiness as it is, and a
//! zero-length read never skips (it must keep returning `Ok(0)` at once).
//!
//! The rule applies only to stream sockets, through the stream types'
//! `AsyncRead` impls. Datagram sockets and `Async<T>` in general are left
//! out: a short read there does not mean "empty" (a datagram, a tty line, an
//! eventfd in semaphore mode, an inotify event that does not fit). Two rare
//! cases break "short means empty" even on stream sockets: TCP urgent data
//! (`MSG_OOB`: a read stops at the urgent mark) and Unix ancillary data (a
//! read stops where descriptors were passed, or at a change of sender when
//! `SO_PASSCRED` is set). corio has no API to send or receive either on its
//! stream types; a peer that uses them anyway can stall a read until its next
//! data or end-of-file, the same trade-off tokio makes.
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::wait;

/// A direction of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The descriptor can be read (or accepted from, or has hung up).
    Read = 0,
    /// The descriptor can be written (or a connect finished).
    Write = 1,
}

/// The drained tick of a direction no short read has drained yet: the tick
/// starts at 0 and never reaches it.
const NOT_DRAINED: u64 = u64::MAX;

/// Stream reads that skipped their system call after a short read (see the
/// module docs); reported by `driver_metrics()`.
static READS_SKIPPED: AtomicU64 = AtomicU64::new(0);

/// The number of stream reads that skipped their system call so far.
pub(crate) fn reads_skipped() -> u64 {
    // Relaxed: a statistic; it orders nothing.
    READS_SKIPPED.load(Ordering::Relaxed)
}

/// One direction's state.
struct DirState {
    /// Edges seen so far. Written only by the driver with `waiters` locked.
    tick: AtomicU64,
    /// The snapshot taken before the last short stream read, or
    /// `NOT_DRAINED` (see "Short stream reads" in the module docs). Only the
    /// read direction uses it.
    drained: AtomicU64,
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
    /// The poller reported the read side closed (peer's FIN, a hang-up or an
    /// error): from then on a short read proves nothing. Set by the driver
    /// before the tick bump of the edge that reported it; never cleared.
    read_closed: AtomicBool,
}

impl Source {
    pub(crate) fn new(fd: RawFd, key: usize) -> Source {
        let dir = || DirState {
            tick: AtomicU64::new(0),
            drained: AtomicU64::new(NOT_DRAINED),
            waiters: Mutex::new(Vec::new()),
        };
        Source {
            read_closed: AtomicBool::new(false),
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
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_snapshot(dir, cx, op)
            .map(|res| res.map(|(_, r)| r))
    }

    /// [`poll_io`](Self::poll_io) for a read of up to `len` bytes from a
    /// stream socket, with the short-read rule of the module docs: after a
    /// read returned `0 < n < len`, the next one waits for a newer edge
    /// without trying the system call.
    pub(crate) fn poll_stream_read(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let state = &self.dirs[Direction::Read as usize];
        if len > 0 && wait::REPORTS_READ_CLOSED {
            let tick = self.tick(Direction::Read);
            // Relaxed: the drained tick only decides whether to try the call.
            // Any value read is the snapshot of a read that emptied the queue
            // (or NOT_DRAINED), and the locked compare in `poll_edge` decides
            // between waiting and retrying, as after a real `WouldBlock`.
            // Acquire on `read_closed`, loaded after the tick: an edge that
            // reported the close before the tick we hold is visible here.
            if state.drained.load(Ordering::Relaxed) == tick
                && !self.read_closed.load(Ordering::Acquire)
            {
                // Relaxed: a statistic.
                READS_SKIPPED.fetch_add(1, Ordering::Relaxed);
                if self.poll_edge(Direction::Read, tick, cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
        self.poll_io_snapshot(Direction::Read, cx, op).map(|res| {
            res.map(|(snapshot, n)| {
                if 0 < n && n < len {
                    // Relaxed: the value itself is the whole message; a
                    // reader that sees an older one only tries the call.
                    state.drained.store(snapshot, Ordering::Relaxed);
                }
                n
            })
        })
    }

    /// The loop of [`poll_io`](Self::poll_io); a result comes with the
    /// snapshot taken before the call that produced it.
    fn poll_io_snapshot<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<(u64, R)>> {
        // With the task's budget spent, yield before trying (coop.rs).
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            let snapshot = self.tick(dir);
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.poll_edge(dir, snapshot, cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => {
                    crate::coop::spend();
                    return Poll::Ready(res.map(|r| (snapshot, r)));
                }
            }
        }
    }

    /// Called by the driver for an edge in `dir`: bumps the tick and moves
    /// the waiters into `batch`, to be woken once the driver holds no lock.
    pub(crate) fn fire(&self, dir: Direction, batch: &mut Vec<Waker>) {
        self.fire_edge(dir, false, batch);
    }

    /// [`fire`](Self::fire), recording first (for the read direction) that
    /// the edge reported the read side closed.
    pub(crate) fn fire_edge(&self, dir: Direction, read_closed: bool, batch: &mut Vec<Waker>) {
        let state = &self.dirs[dir as usize];
        let mut waiters = state.waiters.lock();
        if read_closed {
            // Release (and the Release bump below): a reader that sees this
            // edge's tick sees the flag.
            self.read_closed.store(true, Ordering::Release);
        }
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
    use crate::test_util::CountWake;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

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

    /// A stream read of `len` bytes whose call returns `res`, counting calls.
    fn stream_read(
        src: &Source,
        len: usize,
        calls: &mut usize,
        res: io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut res = Some(res);
        src.poll_stream_read(&mut cx, len, || {
            *calls += 1;
            res.take().unwrap_or_else(would_block)
        })
    }

    #[test]
    fn after_a_short_read_the_next_read_waits_without_the_call() {
        let src = Source::new(-1, 0);
        let mut calls = 0;
        assert!(matches!(
            stream_read(&src, 16, &mut calls, Ok(5)),
            Poll::Ready(Ok(5))
        ));
        assert_eq!(calls, 1);
        // No edge since: the call is skipped and the read waits.
        assert!(stream_read(&src, 16, &mut calls, Ok(3)).is_pending());
        assert_eq!(calls, 1);
        // An edge: the next read tries the call again.
        src.fire(Direction::Read, &mut Vec::new());
        assert!(matches!(
            stream_read(&src, 16, &mut calls, Ok(3)),
            Poll::Ready(Ok(3))
        ));
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_skipped_read_registers_for_the_next_edge() {
        let src = Source::new(-1, 0);
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut calls = 0;
        let short = src.poll_stream_read(&mut cx, 8, || {
            calls += 1;
            Ok(2)
        });
        assert!(matches!(short, Poll::Ready(Ok(2))));
        let skipped = src.poll_stream_read(&mut cx, 8, || {
            calls += 1;
            Ok(8)
        });
        assert!(skipped.is_pending());
        assert_eq!(calls, 1);
        let mut batch = Vec::new();
        src.fire(Direction::Read, &mut batch);
        assert_eq!(batch.len(), 1);
        batch.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_edge_during_the_short_read_is_not_skipped() {
        // Data arrives (and its edge is counted) while the short read runs:
        // the drained tick is the older snapshot, so the next read calls.
        let src = Source::new(-1, 0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let res = src.poll_stream_read(&mut cx, 8, || {
            src.fire(Direction::Read, &mut Vec::new());
            Ok(2)
        });
        assert!(matches!(res, Poll::Ready(Ok(2))));
        let mut calls = 0;
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(4)),
            Poll::Ready(Ok(4))
        ));
        assert_eq!(calls, 1);
    }

    #[test]
    fn full_reads_eof_and_empty_buffers_do_not_skip() {
        let src = Source::new(-1, 0);
        let mut calls = 0;
        // A full buffer may have left data behind.
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(8)),
            Poll::Ready(Ok(8))
        ));
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(8)),
            Poll::Ready(Ok(8))
        ));
        assert_eq!(calls, 2);
        // End-of-file keeps returning end-of-file.
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(0)),
            Poll::Ready(Ok(0))
        ));
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(0)),
            Poll::Ready(Ok(0))
        ));
        assert_eq!(calls, 4);
        // After a short read, a zero-length read still calls (and gets 0).
        assert!(matches!(
            stream_read(&src, 8, &mut calls, Ok(1)),
            Poll::Ready(Ok(1))
        ));
        assert!(matches!(
            stream_read(&src, 0, &mut calls, Ok(0)),
            Poll::Ready(Ok(0))
        ));
        assert_eq!(calls, 6);
        // A general `poll_io` on the read direction ignores the rule.
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(
            src.poll_io(Direction::Read, &mut cx, || Ok(7)),
            Poll::Ready(Ok(7))
        ));
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
