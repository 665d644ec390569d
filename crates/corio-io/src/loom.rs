//! The one door through which corio-io's turn protocol (`turn.rs`) reaches
//! atomics and locks, so that `--cfg loom` can swap them for loom's
//! model-checked versions. The rest of the crate (the poller, the wheel, the
//! sources) is not modelled and uses std and parking_lot directly.
//!
//! Under `cfg(loom)` a timed wait does not sleep: it yields and returns, as a
//! timeout that fires at once may, which is the case the models need (the
//! backup thread giving up its grace period early).

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex};
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    /// Locks a list (parking_lot's infallible `lock`).
    pub(crate) fn lock_list<T>(m: &Mutex<T>) -> parking_lot::MutexGuard<'_, T> {
        m.lock()
    }

    /// Waits on `cv` until woken or `timeout` passes.
    pub(crate) fn wait_timeout(
        cv: &Condvar,
        g: &mut parking_lot::MutexGuard<'_, bool>,
        timeout: Duration,
    ) {
        cv.wait_for(g, timeout);
    }

    /// Waits on `cv` until woken (or spuriously).
    pub(crate) fn wait(cv: &Condvar, g: &mut parking_lot::MutexGuard<'_, bool>) {
        cv.wait(g);
    }

    pub(crate) type Guard<'a> = parking_lot::MutexGuard<'a, bool>;

    pub(crate) fn lock(m: &Mutex<bool>) -> Guard<'_> {
        m.lock()
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Condvar, Mutex};
    use std::time::Duration;

    /// Locks a list.
    pub(crate) fn lock_list<T>(m: &Mutex<T>) -> loom::sync::MutexGuard<'_, T> {
        m.lock().unwrap()
    }

    pub(crate) type Guard<'a> = loom::sync::MutexGuard<'a, bool>;

    pub(crate) fn lock(m: &Mutex<bool>) -> Guard<'_> {
        m.lock().unwrap()
    }

    /// A timeout that fires at once: yield and return.
    pub(crate) fn wait_timeout(_cv: &Condvar, _g: &mut Guard<'_>, _timeout: Duration) {
        loom::thread::yield_now();
    }

    /// Waits on `cv`, re-locking into the same guard slot.
    pub(crate) fn wait(cv: &Condvar, g: &mut Guard<'_>) {
        // loom's Condvar takes the guard by value; move it out and back in.
        // SAFETY: `g` is read exactly once and overwritten before anyone can
        // observe it again; `wait` does not unwind in loom's model except by
        // aborting the whole execution.
        unsafe {
            let guard = std::ptr::read(g);
            let guard = cv.wait(guard).unwrap();
            std::ptr::write(g, guard);
        }
    }
}

pub(crate) use imp::*;
