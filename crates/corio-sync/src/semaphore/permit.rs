//! Permits: borrowed ([`Permit`]) or owning their semaphore
//! ([`OwnedPermit`]); dropping one gives its permits back.

use super::{OwnedSem, Semaphore};

/// Permits borrowed from a semaphore; dropping it gives them back.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let sem = corio_sync::Semaphore::new(1);
/// {
///     let _permit = sem.acquire().await.unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
#[must_use = "dropping a permit releases it at once"]
#[derive(Debug)]
pub struct Permit<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) n: usize,
}

impl Permit<'_> {
    /// Keeps the permits out of the semaphore for good (its capacity shrinks).
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.sem.forget_permits(std::mem::take(&mut self.n));
    }

    /// How many permits this holds.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.return_permits(self.n);
        }
    }
}

/// Permits that keep their semaphore alive; dropping it gives them back.
///
/// ```
/// # futures_lite::future::block_on(async {
/// use std::sync::Arc;
/// let sem = Arc::new(corio_sync::Semaphore::new(1));
/// let permit = sem.clone().acquire_owned().await.unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
#[must_use = "dropping a permit releases it at once"]
#[derive(Debug)]
pub struct OwnedPermit {
    pub(super) sem: OwnedSem,
    pub(super) n: usize,
}

impl OwnedPermit {
    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.sem.raw().forget_permits(std::mem::take(&mut self.n));
    }

    /// How many permits this holds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// assert_eq!(sem.try_acquire_owned().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.raw().return_permits(self.n);
        }
    }
}
