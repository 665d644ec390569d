//! [`BoundedSemaphore`]: a [`Semaphore`] that refuses a `release` past its
//! initial count.

use std::sync::Arc;

use super::{
    Acquire, AcquireOwned, AcquireWait, OwnedPermit, OwnedSem, Permit, ReleasedTooManyTimes,
    Semaphore, TryAcquireError,
};

/// A [`Semaphore`] whose count may never exceed its initial value: a
/// [`release`](Self::release) that would is an `Err` (asyncio's
/// `BoundedSemaphore`).
///
/// Permits out in live [`Permit`]s count toward the bound, so `release()` is
/// only accepted in place of a permit that was [`forget`](Permit::forget)-ed.
///
/// ```
/// use corio_sync::BoundedSemaphore;
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err());
/// sem.try_acquire().unwrap().forget();
/// assert!(sem.release().is_ok());
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    pub(super) sem: Semaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `permits` free permits, and that bound.
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(2).available_permits(), 2);
    /// ```
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::with_bound(permits, Some(permits)),
        }
    }

    /// Waits for one permit; see [`Semaphore::acquire`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.acquire().await.unwrap();
    /// assert!(sem.locked());
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.sem.acquire()
    }

    /// Waits for `n` permits; see [`Semaphore::acquire_many`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(3);
    /// let _p = sem.acquire_many(3).await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        self.sem.acquire_many(n)
    }

    /// Waits for one permit that keeps the semaphore alive.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::BoundedSemaphore::new(1));
    /// let _p = sem.clone().acquire_owned().await.unwrap();
    /// assert!(sem.release().is_err());
    /// # });
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits that keep the semaphore alive.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::BoundedSemaphore::new(2));
    /// assert_eq!(sem.clone().acquire_many_owned(2).await.unwrap().num_permits(), 2);
    /// # });
    /// ```
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned {
            sem: OwnedSem::Bounded(self),
            wait: AcquireWait::new(n),
        }
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.sem.try_acquire()
    }

    /// Takes `n` permits if they are free and nobody is queued.
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        self.sem.try_acquire_many(n)
    }

    /// Like [`try_acquire`](Self::try_acquire), returning an [`OwnedPermit`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::BoundedSemaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.sem.try_take(1)?;
        Ok(OwnedPermit {
            sem: OwnedSem::Bounded(self),
            n: 1,
        })
    }

    /// Adds one permit, unless the free permits plus those held would then
    /// exceed the initial value: that is `Err(ReleasedTooManyTimes)` and
    /// nothing changes.
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// assert_eq!(sem.release(), Err(corio_sync::ReleasedTooManyTimes));
    /// ```
    pub fn release(&self) -> Result<(), ReleasedTooManyTimes> {
        self.sem.release_bounded()
    }

    /// Free permits right now.
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(4).available_permits(), 4);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    /// True when an `acquire` would wait.
    ///
    /// ```
    /// assert!(corio_sync::BoundedSemaphore::new(0).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.sem.locked()
    }

    /// Closes the semaphore; see [`Semaphore::close`].
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// sem.close();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.sem.close()
    }

    /// True once closed.
    ///
    /// ```
    /// assert!(!corio_sync::BoundedSemaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.sem.is_closed()
    }
}
