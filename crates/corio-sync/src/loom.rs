//! The one door through which this crate reaches atomics, cells and locks.
//!
//! Under `--cfg loom` every item here is loom's model-checked twin; otherwise
//! it is the real thing (`parking_lot::Mutex`, `std` atomics and a thin
//! `UnsafeCell` wrapper). The rest of the crate imports only from here, so a
//! loom run sees every synchronisation the primitives perform.
//!
//! Both sides expose the same small surface:
//! - `Mutex<T>` with `new` and `lock` (no poisoning: a panic while a waiter
//!   list is locked is a bug in this crate, and loom unwraps it for us);
//! - `UnsafeCell<T>` with loom's closure API, `with` / `with_mut` /
//!   `into_inner`, so that loom can check every access to a `Lock`'s data;
//! - `Arc` and the atomics, re-exported as they are.

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Arc;

    /// loom's mutex with the `parking_lot` calling convention.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            // A poisoned mutex means a model already panicked; surface that.
            self.0.lock().expect("corio-sync mutex poisoned")
        }
    }
}

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::Mutex;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::Arc;

    /// `std::cell::UnsafeCell` behind loom's closure API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }
}

#[allow(unused_imports)]
pub(crate) use imp::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering, UnsafeCell};
