//! `Lock<T>`: asyncio's `Lock`, holding the data it protects (like a mutex).
//!
//! # Protocol
//!
//! A `Lock` is a one-permit [`Semaphore`] next to an `UnsafeCell<T>`. Holding
//! the permit is holding the lock, so every rule of the semaphore carries over:
//! the fast path takes the lock only when it is free *and* nobody is queued
//! (no barging past a woken waiter), a release hands the lock straight to the
//! first waiter, and an acquire future dropped after it was handed the lock
//! passes it on. Exactly one guard exists while the permit is out, which is
//! what makes the `unsafe` accesses to the cell sound.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::UnsafeCell;
use crate::semaphore::{AcquireWait, Semaphore};

/// An async mutual-exclusion lock that owns the data it protects.
///
/// Waiters get the lock in arrival order; [`try_acquire`](Self::try_acquire)
/// fails while anyone is queued. Every future is cancel-safe.
///
/// ```
/// use corio_sync::Lock;
/// # futures_lite::future::block_on(async {
/// let lock = Lock::new(0);
/// *lock.acquire().await += 1;
/// assert_eq!(*lock.acquire().await, 1);
/// # });
/// ```
pub struct Lock<T> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `T` to one guard at a time, possibly on
// another thread, so `T: Send` is all that sharing or sending the lock needs
// (the same bounds as `std::sync::Mutex`).
unsafe impl<T: Send> Send for Lock<T> {}
// SAFETY: see above; `&Lock<T>` only ever yields exclusive access to `T`.
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    /// A free lock around `value`.
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(vec![1, 2]);
    /// assert!(!lock.locked());
    /// ```
    pub fn new(value: T) -> Lock<T> {
        Lock {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(5);
    /// assert_eq!(lock.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T> Lock<T> {
    /// Waits for the lock; the guard releases it when dropped.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let lock = corio_sync::Lock::new(String::new());
    /// lock.acquire().await.push_str("hi");
    /// assert_eq!(&*lock.acquire().await, "hi");
    /// # });
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_, T> {
        LockAcquire {
            lock: self,
            wait: AcquireWait::new(1),
        }
    }

    /// Waits for the lock with a guard that keeps the lock alive, so it can
    /// move into a spawned task.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(1));
    /// let mut guard = lock.clone().acquire_owned().await;
    /// std::thread::spawn(move || *guard += 1).join().unwrap();
    /// assert_eq!(*lock.acquire().await, 2);
    /// # });
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> LockAcquireOwned<T> {
        LockAcquireOwned {
            lock: self,
            wait: AcquireWait::new(1),
        }
    }

    /// Takes the lock if it is free and nobody is queued.
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(());
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(lock.try_acquire().is_none());
    /// drop(guard);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        self.sem.try_take(1).ok()?;
        Some(LockGuard { lock: self })
    }

    /// Like [`try_acquire`](Self::try_acquire), with an owning guard.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(0));
    /// let guard = lock.clone().try_acquire_owned().unwrap();
    /// assert!(lock.locked());
    /// drop(guard);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedLockGuard<T>> {
        self.sem.try_take(1).ok()?;
        Some(OwnedLockGuard { lock: self })
    }

    /// True while someone holds the lock, or it was handed to a woken waiter
    /// that has not run yet.
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(());
    /// let _g = lock.try_acquire().unwrap();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.sem.available_permits() == 0
    }

    /// The data, through an exclusive borrow (no locking needed).
    ///
    /// ```
    /// let mut lock = corio_sync::Lock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard is alive.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    fn unlock(&self) {
        self.sem.return_permits(1);
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Lock<T> {
        Lock::new(T::default())
    }
}

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Future of [`Lock::acquire`]. Dropping it gives up its place in line, or
/// passes the lock on if it had just been handed it.
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquire<'a, T> {
    lock: &'a Lock<T>,
    wait: AcquireWait,
}

impl<'a, T> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.lock.sem.poll_acquire(&mut this.wait, cx) {
            Poll::Ready(Ok(())) => Poll::Ready(LockGuard { lock: this.lock }),
            Poll::Ready(Err(_)) => unreachable!("a lock's semaphore is never closed"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for LockAcquire<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.lock.sem.cancel_acquire(key);
        }
    }
}

impl<T> fmt::Debug for LockAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").finish_non_exhaustive()
    }
}

/// Future of [`Lock::acquire_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquireOwned<T> {
    lock: Arc<Lock<T>>,
    wait: AcquireWait,
}

impl<T> Future for LockAcquireOwned<T> {
    type Output = OwnedLockGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.lock.sem.poll_acquire(&mut this.wait, cx) {
            Poll::Ready(Ok(())) => Poll::Ready(OwnedLockGuard {
                lock: this.lock.clone(),
            }),
            Poll::Ready(Err(_)) => unreachable!("a lock's semaphore is never closed"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for LockAcquireOwned<T> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.lock.sem.cancel_acquire(key);
        }
    }
}

impl<T> fmt::Debug for LockAcquireOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquireOwned").finish_non_exhaustive()
    }
}

/// Proof of holding a [`Lock`]: derefs to the data, releases on drop.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let lock = corio_sync::Lock::new(vec![]);
/// let mut guard = lock.acquire().await;
/// guard.push(1);
/// drop(guard); // released here
/// assert!(!lock.locked());
/// # });
/// ```
#[must_use = "dropping a guard releases the lock at once"]
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
}

// SAFETY: a guard shared between threads only gives out `&T`.
unsafe impl<T: Sync> Sync for LockGuard<'_, T> {}

impl<'a, T> LockGuard<'a, T> {
    /// The lock this guard holds (used by [`Condition`](crate::Condition) to
    /// release and re-acquire it).
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(());
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(std::ptr::eq(corio_sync::LockGuard::lock(&guard), &lock));
    /// ```
    pub fn lock(this: &Self) -> &'a Lock<T> {
        this.lock
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only holder of the lock's permit, so no
        // `&mut T` exists elsewhere while `self` is borrowed.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A [`LockGuard`] that keeps its lock alive (from [`Lock::acquire_owned`]).
///
/// ```
/// # futures_lite::future::block_on(async {
/// use std::sync::Arc;
/// let lock = Arc::new(corio_sync::Lock::new(0));
/// let mut guard = lock.clone().acquire_owned().await;
/// *guard = 3;
/// drop(guard);
/// assert_eq!(*lock.acquire().await, 3);
/// # });
/// ```
#[must_use = "dropping a guard releases the lock at once"]
pub struct OwnedLockGuard<T> {
    lock: Arc<Lock<T>>,
}

// SAFETY: a guard shared between threads only gives out `&T`.
unsafe impl<T: Sync> Sync for OwnedLockGuard<T> {}

impl<T> OwnedLockGuard<T> {
    /// The lock this guard holds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(()));
    /// let guard = lock.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(corio_sync::OwnedLockGuard::lock(&guard), &lock));
    /// ```
    pub fn lock(this: &Self) -> &Arc<Lock<T>> {
        &this.lock
    }
}

impl<T> Deref for OwnedLockGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only holder of the lock's permit.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for OwnedLockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
