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

    /// loom's guard, held in an `Option` so that [`wait`] can lend it to
    /// loom's by-value `Condvar::wait` and put it back. loom reports a failed
    /// model by panicking, also inside `wait`; the slot is then empty and the
    /// unwind drops nothing twice.
    pub(crate) struct Guard<'a>(Option<loom::sync::MutexGuard<'a, bool>>);

    impl std::ops::Deref for Guard<'_> {
        type Target = bool;
        fn deref(&self) -> &bool {
            self.0
                .as_deref()
                .expect("guard used after its condvar wait unwound")
        }
    }

    impl std::ops::DerefMut for Guard<'_> {
        fn deref_mut(&mut self) -> &mut bool {
            self.0
                .as_deref_mut()
                .expect("guard used after its condvar wait unwound")
        }
    }

    pub(crate) fn lock(m: &Mutex<bool>) -> Guard<'_> {
        Guard(Some(m.lock().unwrap()))
    }

    /// A timeout that fires at once: yield and return.
    pub(crate) fn wait_timeout(_cv: &Condvar, _g: &mut Guard<'_>, _timeout: Duration) {
        loom::thread::yield_now();
    }

    /// Waits on `cv`, re-locking into the same guard slot.
    pub(crate) fn wait(cv: &Condvar, g: &mut Guard<'_>) {
        let guard =
            g.0.take()
                .expect("guard used after its condvar wait unwound");
        g.0 = Some(cv.wait(guard).unwrap());
    }
}

pub(crate) use imp::*;
