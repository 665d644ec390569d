//! [`Parker`]: how an idle worker sleeps.
//!
//! Two ways to sleep, one wakeup. A flag under a mutex records an `unpark`
//! (so `unpark` before `park` is remembered and their order never matters),
//! and a second flag says *where* the worker sleeps:
//!
//! - on its condvar, the usual way; `unpark` signals the condvar;
//! - in the I/O driver's turn (`in_io`), when the worker could take it: it
//!   blocks in the poll itself, and whatever becomes ready is woken on this
//!   thread, into this worker's own queue, with no other thread involved.
//!   `unpark` then wakes the poll (`io::unpark`) instead of the condvar.
//!
//! `in_io` is set under the lock before the poll starts and cleared under
//! the lock after it ends, and `unpark` reads it under the same lock, so an
//! `unpark` either finds the worker on its condvar or makes the poll return
//! (a wake of the poll that comes before the poll blocks is kept pending by
//! the driver). A wake of the poll that arrives after this worker left the
//! turn only costs whoever polls next one early return. The loom models
//! `park::io_parked_worker_is_unparked` and `park::io_event_reaches_a_worker`
//! check this.
//!
//! A worker that finds the turn held sleeps on its condvar *registered for
//! the turn* (`corio_io::park::IoParker::turn_or_wait`): a third flag,
//! `offered`, set by a waker the driver calls when a holder that is not
//! coming back (the backup thread, a busy worker's look, the driver
//! starting) leaves the turn free. The worker then loops and tries the turn
//! again. That is what keeps a worker that parked while the backup thread
//! polled, or before the driver existed, from leaving every readiness event
//! to the backup thread's grace period. The loom model
//! `park::io_offered_turn_is_taken` checks the worker's side of it, and
//! fails under `--cfg corio_mutant_no_turn_wait`.

use std::sync::Arc;
use std::task::{Wake, Waker};

use crate::loom::io::{self, IoParker, Turn};
use crate::loom::{condvar_wait, Condvar, Mutex};

/// Why [`Parker::park`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// `unpark` was called (now or before the park).
    Unparked,
    /// The worker polled I/O and the poll returned (readiness, a timer, or a
    /// wake meant for someone else); nobody unparked it.
    Io,
}

#[derive(Debug)]
struct State {
    notified: bool,
    in_io: bool,
    /// The I/O driver offered this worker the turn it waited for.
    offered: bool,
}

/// What the condvar sleeps on; shared with the turn-offer waker.
struct Inner {
    state: Mutex<State>,
    cv: Condvar,
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// The driver offers the turn: wake the condvar sleeper to take it.
    fn wake_by_ref(self: &Arc<Self>) {
        self.state.lock().offered = true;
        self.cv.notify_one();
    }
}

/// One worker's sleep.
pub struct Parker {
    inner: Arc<Inner>,
    /// Wakes `inner` with `offered`: handed to the driver while this worker
    /// waits for the turn.
    offer: Waker,
}

impl std::fmt::Debug for Parker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parker").finish_non_exhaustive()
    }
}

impl Parker {
    /// A parker with no pending wakeup.
    pub fn new() -> Parker {
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                notified: false,
                in_io: false,
                offered: false,
            }),
            cv: Condvar::new(),
        });
        Parker {
            offer: Waker::from(inner.clone()),
            inner,
        }
    }

    /// Sleeps until [`Parker::unpark`] is called, or returns at once if it
    /// was called since the last `park`. With `io`, sleeps in the I/O poll
    /// instead when the driver's turn is free, and what the poll collected
    /// is then in `io`'s batch, to be woken by the caller. If the turn is
    /// held, the worker sleeps on its condvar registered for the turn, and
    /// takes it when the driver offers it.
    ///
    /// While `turn_reserved()` (the turn is reserved for a `block_on`
    /// thread, `main_park.rs`), the first try does not take the turn: the
    /// worker registers to be offered it and re-checks the reservation.
    pub fn park(&self, mut io: Option<&mut IoParker>, turn_reserved: &dyn Fn() -> bool) -> Woken {
        let inner = &*self.inner;
        let mut defer = true;
        loop {
            {
                let mut st = inner.state.lock();
                if st.notified {
                    st.notified = false;
                    drop(st);
                    if let Some(io) = io {
                        // Off to run work: no longer waiting for the turn.
                        io.withdraw();
                    }
                    return Woken::Unparked;
                }
                st.offered = false;
            }
            // The turn is tried without our lock held: taking it may pass an
            // offer on to another worker, whose lock that takes.
            if let Some(io) = io.as_deref_mut() {
                let taken = if std::mem::take(&mut defer) && turn_reserved() {
                    // Registered, then re-checked (main_park.rs, hand-off 1).
                    // The mutant skips the re-check; the loom model
                    // `main_park::deferring_worker_gets_the_released_turn`
                    // must fail.
                    io.wait_for_offer(&self.offer);
                    #[cfg(corio_mutant_no_reserve_recheck)]
                    let still_reserved = true;
                    #[cfg(not(corio_mutant_no_reserve_recheck))]
                    let still_reserved = turn_reserved();
                    if still_reserved {
                        None
                    } else {
                        turn_or_wait(io, &self.offer)
                    }
                } else {
                    turn_or_wait(io, &self.offer)
                };
                if let Some(mut turn) = taken {
                    let mut st = inner.state.lock();
                    if std::mem::take(&mut st.notified) {
                        // Unparked meanwhile: give the turn back (offering it
                        // to a worker that waits) and go run the work.
                        drop(st);
                        drop(turn);
                        return Woken::Unparked;
                    }
                    st.in_io = true;
                    drop(st);
                    turn.poll(true);
                    drop(turn);
                    let mut st = inner.state.lock();
                    st.in_io = false;
                    return if std::mem::take(&mut st.notified) {
                        Woken::Unparked
                    } else {
                        Woken::Io
                    };
                }
            }
            let mut st = inner.state.lock();
            while !st.notified && !st.offered {
                condvar_wait(&inner.cv, &mut st);
            }
            // Unparked: the top of the loop returns. Offered: try the turn.
        }
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub fn unpark(&self) {
        let mut st = self.inner.state.lock();
        st.notified = true;
        let in_io = st.in_io;
        drop(st);
        // The mutant build forgets where the worker sleeps; the loom model
        // `park::io_parked_worker_is_unparked` must see that.
        #[cfg(corio_mutant_io_unpark)]
        let in_io = in_io && false;
        if in_io {
            io::unpark();
        } else {
            self.inner.cv.notify_one();
        }
    }
}

/// Takes the turn, or registers to be offered it. The mutant build sleeps
/// off a held turn without asking to be offered it;
/// `park::io_offered_turn_is_taken` must fail.
fn turn_or_wait<'a>(io: &'a mut IoParker, offer: &Waker) -> Option<Turn<'a>> {
    #[cfg(corio_mutant_no_turn_wait)]
    {
        let _ = offer;
        io.try_turn()
    }
    #[cfg(not(corio_mutant_no_turn_wait))]
    io.turn_or_wait(offer)
}

impl Default for Parker {
    fn default() -> Parker {
        Parker::new()
    }
}
