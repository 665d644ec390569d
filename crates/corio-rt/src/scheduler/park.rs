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

use crate::loom::io::{self, IoParker};
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
}

/// One worker's sleep.
#[derive(Debug)]
pub struct Parker {
    state: Mutex<State>,
    cv: Condvar,
}

impl Parker {
    /// A parker with no pending wakeup.
    pub fn new() -> Parker {
        Parker {
            state: Mutex::new(State {
                notified: false,
                in_io: false,
            }),
            cv: Condvar::new(),
        }
    }

    /// Sleeps until [`Parker::unpark`] is called, or returns at once if it
    /// was called since the last `park`. With `io`, and if the driver's turn
    /// is free, sleeps in the I/O poll instead; what it collected is then in
    /// `io`'s batch, to be woken by the caller.
    pub fn park(&self, io: Option<&mut IoParker>) -> Woken {
        let mut st = self.state.lock();
        if st.notified {
            st.notified = false;
            return Woken::Unparked;
        }
        if let Some(io) = io {
            if let Some(mut turn) = io.try_turn() {
                st.in_io = true;
                drop(st);
                turn.poll(true);
                drop(turn);
                let mut st = self.state.lock();
                st.in_io = false;
                return if std::mem::take(&mut st.notified) {
                    Woken::Unparked
                } else {
                    Woken::Io
                };
            }
        }
        while !st.notified {
            condvar_wait(&self.cv, &mut st);
        }
        st.notified = false;
        Woken::Unparked
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub fn unpark(&self) {
        let mut st = self.state.lock();
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
            self.cv.notify_one();
        }
    }
}

impl Default for Parker {
    fn default() -> Parker {
        Parker::new()
    }
}
