//! The thread inside `block_on`: how it sleeps, and when it polls I/O itself.
//!
//! An asyncio program does its I/O in `main()`; here that is the future
//! `block_on` drives (`corio::run`, `#[corio::main]`). If only workers polled
//! the driver, every readiness event of that future would cost a hop: the
//! worker in the turn wakes, wakes the `block_on` thread, and goes back to
//! sleep, two thread wake-ups where a spawned task needs one. Yet the
//! `block_on` thread cannot simply take the turn whenever it sleeps: in a
//! server whose accept loop is the main future, the connections' events
//! would then all reach the `block_on` thread and hop to a worker instead.
//!
//! So the turn goes where the events go, by a **reservation**:
//!
//! - A worker that wakes a `block_on` future from its turn's batch reserves
//!   the turn for the `block_on` thread ([`TurnReservation::reserve`]; it
//!   holds for [`RESERVATION`]).
//! - A worker about to park while the turn is reserved does not take it: it
//!   registers to be offered it (`IoParker::wait_for_offer`), re-checks the
//!   reservation, and sleeps (`park.rs`).
//! - The `block_on` thread, about to sleep while the turn is reserved, takes
//!   it and blocks in the poll. If the poll woke its own future and nothing
//!   else, it renews the reservation and gives the turn back without
//!   offering it (it comes straight back). Otherwise (a worker's task was
//!   woken, or nothing was) it drops the reservation and offers the turn to
//!   a waiting worker: the events are not its own.
//! - A `block_on` thread that finds the reserved turn held, or leaves
//!   `block_on`, drops the reservation and offers the turn, so no worker
//!   waits for a thread that is not coming.
//!
//! Two hand-offs must lose nothing:
//!
//! 1. A worker registers just as the `block_on` thread drops the
//!    reservation. The worker registers (a SeqCst fence follows, in the
//!    gate), then reads the reservation; the `block_on` thread clears it,
//!    then fences and reads the waiting count (`io::offer_turn` or the end
//!    of its turn). One of the two sees the other: the worker takes the
//!    turn itself, or it is offered.
//! 2. The `block_on` future is woken while its thread is about to block in
//!    the poll. [`MainParker::wake`] sets `notified`, then reads `in_io`
//!    and wakes the poll (`io::unpark`) or the thread; [`MainParker::park`]
//!    sets `in_io`, then reads `notified` and skips the poll if it is set.
//!    Each side puts a SeqCst fence between its write and its read, so in
//!    the total order of the two fences one read comes after the other
//!    side's write and sees it. A poll wake that comes early stays pending
//!    in the driver, so the poll returns at once. The loom model `main_park::woken_while_taking_the_turn`
//!    checks this, and fails under `--cfg corio_mutant_main_recheck`, which
//!    skips the read of `notified`.

use std::task::Waker;
use std::time::{Duration, Instant};

use crate::loom::io::{self, IoParker};
use crate::loom::thread::{self, Thread};
use crate::loom::{fence, AtomicBool, AtomicU64, Ordering};

/// How long a reservation holds without renewal: a little longer than a
/// loopback round trip plus the poll of the future it wakes. A `block_on`
/// thread that is busy longer than that is not the one to poll.
pub(crate) const RESERVATION: Duration = Duration::from_millis(1);

/// The driver's turn reserved for the `block_on` threads of one runtime.
#[derive(Debug)]
pub struct TurnReservation {
    /// Nanoseconds since `epoch` until which the reservation holds, plus
    /// one; 0 when there is none (so the common check reads no clock).
    until: AtomicU64,
    epoch: Instant,
}

impl TurnReservation {
    /// No reservation.
    pub fn new() -> TurnReservation {
        TurnReservation {
            until: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// Reserves (or renews) the turn for [`RESERVATION`].
    pub fn reserve(&self) {
        let until = self.now().saturating_add(RESERVATION.as_nanos() as u64);
        // SeqCst: half of hand-off 1 in the module header.
        self.until.store(until, Ordering::SeqCst);
    }

    /// Whether the turn is reserved now.
    pub fn is_reserved(&self) -> bool {
        // SeqCst: the worker's half of hand-off 1.
        let until = self.until.load(Ordering::SeqCst);
        until != 0 && self.now() < until
    }

    /// Whether a reservation is set, expired or not.
    fn is_set(&self) -> bool {
        self.until.load(Ordering::SeqCst) != 0
    }

    /// Drops the reservation and offers the turn to a worker that deferred
    /// to it (hand-off 1).
    pub fn release(&self) {
        if self.is_set() {
            self.until.store(0, Ordering::SeqCst);
            io::offer_turn();
        }
    }
}

impl Default for TurnReservation {
    fn default() -> TurnReservation {
        TurnReservation::new()
    }
}

/// How the `block_on` thread sleeps: on its thread parker, or in the
/// driver's poll when the turn is reserved for it.
#[derive(Debug)]
pub struct MainParker {
    notified: AtomicBool,
    in_io: AtomicBool,
    thread: Thread,
}

impl MainParker {
    /// A parker for the calling thread.
    pub fn new() -> MainParker {
        MainParker {
            notified: AtomicBool::new(false),
            in_io: AtomicBool::new(false),
            thread: thread::current(),
        }
    }

    /// Wakes the thread, wherever it sleeps, or makes its next `park`
    /// return at once.
    pub fn wake(&self) {
        // AcqRel: releases what the waker's caller wrote to the thread that
        // consumes the wake. Then the fence of hand-off 2 (module header).
        if self.notified.swap(true, Ordering::AcqRel) {
            return;
        }
        fence(Ordering::SeqCst);
        if self.in_io.load(Ordering::Relaxed) {
            io::unpark();
        } else {
            self.thread.unpark();
        }
    }

    /// Consumes a pending wake; `true` if there was one.
    pub fn take_wake(&self) -> bool {
        // Acquire: what the waker's caller wrote before waking is visible to
        // the next poll of the future.
        self.notified.swap(false, Ordering::Acquire)
    }

    /// Sleeps until [`MainParker::wake`]. With `io` and the turn reserved,
    /// sleeps in the driver's poll instead and renews or drops the
    /// reservation by what the poll woke (module header); `own` is the
    /// waker of the future this thread drives.
    pub fn park(&self, mut io: Option<&mut IoParker>, own: &Waker, reservation: &TurnReservation) {
        loop {
            if self.take_wake() {
                return;
            }
            if let Some(io) = io.as_deref_mut() {
                if reservation.is_reserved() {
                    let polled = match io.try_turn() {
                        Some(mut turn) => {
                            // Hand-off 2: store, fence, load.
                            self.in_io.store(true, Ordering::Relaxed);
                            fence(Ordering::SeqCst);
                            loop {
                                #[cfg(not(corio_mutant_main_recheck))]
                                let woken = self.notified.load(Ordering::Relaxed);
                                #[cfg(corio_mutant_main_recheck)]
                                let woken = false;
                                if woken || turn.has_batch() {
                                    break;
                                }
                                // Readiness nobody waits for (a write edge)
                                // or a stale wake: poll on.
                                turn.poll(true);
                            }
                            // Relaxed: a wake that still sees `true` only
                            // costs the next poll an early return.
                            self.in_io.store(false, Ordering::Relaxed);
                            if turn.batch_only_wakes(own) {
                                reservation.reserve();
                                turn.finish(false);
                            } else {
                                // Not (only) our events, or woken by other
                                // means: let a worker poll. Clearing first,
                                // then the offer at the end of the turn, is
                                // hand-off 1.
                                reservation.release_without_offer();
                                turn.finish(true);
                            }
                            true
                        }
                        None => false,
                    };
                    if polled {
                        io.wake_batch();
                        continue;
                    }
                    // A worker took the turn before us: it polls, and we do
                    // not keep others waiting for us.
                    reservation.release();
                }
            }
            thread::park();
        }
    }
}

impl TurnReservation {
    /// Drops the reservation; the caller offers the turn itself.
    fn release_without_offer(&self) {
        self.until.store(0, Ordering::SeqCst);
    }
}

impl Default for MainParker {
    fn default() -> MainParker {
        MainParker::new()
    }
}
