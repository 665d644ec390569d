//! [`Parker`]: how an idle worker sleeps. A flag under a mutex plus a
//! condvar; `unpark` before `park` is remembered, so the order of the two
//! never matters and a wakeup handed over by `Idle` cannot be missed.

use crate::loom::{condvar_wait, Condvar, Mutex};

/// One worker's sleep.
pub struct Parker {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    /// A parker with no pending wakeup.
    pub fn new() -> Parker {
        Parker {
            notified: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    /// Sleeps until [`Parker::unpark`] is called, or returns at once if it
    /// was called since the last `park`.
    pub fn park(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            condvar_wait(&self.cv, &mut notified);
        }
        *notified = false;
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub fn unpark(&self) {
        *self.notified.lock() = true;
        self.cv.notify_one();
    }
}

impl Default for Parker {
    fn default() -> Parker {
        Parker::new()
    }
}
