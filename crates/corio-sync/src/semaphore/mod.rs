//! `Semaphore` and `BoundedSemaphore`: asyncio's counters of permits, fair and
//! cancel-safe; also the engine under [`Lock`](crate::Lock).
//!
//! # Protocol
//!
//! All state sits under one mutex: the free `permits`, the `held` count (permits
//! out in live `Permit`s or reserved for a woken waiter), the `closed` flag and
//! the FIFO [`WaiterList`] of requests.
//!
//! - **Acquire.** A request for `n` takes permits at once only when the line
//!   is empty and `n` are free; otherwise it joins the back of the line. So a
//!   newcomer never barges, even past a waiter that was woken but has not run.
//! - **Hand-off.** Whenever permits come back (a `Permit` dropped, `release()`,
//!   a request leaving the line), the *grant loop* serves the line from the
//!   head: while the head's `n` fits, the permits are moved into its node
//!   (`Granted`) and its waker is collected. A large head request holds back
//!   smaller ones behind it, as in tokio.
//! - **Cancellation.** A dropped future whose node is still in line unlinks it
//!   and reruns the grant loop (it may have been the large head holding others
//!   back). A dropped future whose node was `Granted` puts the permits back and
//!   reruns the grant loop, so the next waiter gets them: nothing is lost.
//!   (The `corio_mutant_no_handoff` cfg deliberately skips that second grant
//!   loop; the loom models must catch it.)
//! - **Close.** Every waiter still in line is popped as `Closed` and woken;
//!   later acquires fail. Permits already handed out stay valid.
//!
//! Invariant at every unlock: `permits + held == initial + released - forgotten`,
//! and if the line is non-empty then the head's request exceeds `permits`.
//!
//! The files: this one holds the type and its public API; `engine.rs` the
//! state under the mutex, the grant loop and the acquire/cancel steps that
//! [`Lock`](crate::Lock) shares; `acquire.rs` the acquire futures;
//! `permit.rs` the permits; `bounded.rs` [`BoundedSemaphore`].

use std::fmt;
use std::sync::Arc;

use crate::loom::Mutex;
use crate::waiters::{WaiterList, WakeList};

mod acquire;
mod bounded;
mod engine;
mod permit;

use acquire::OwnedSem;
pub use acquire::{Acquire, AcquireOwned};
pub use bounded::BoundedSemaphore;
pub(crate) use engine::AcquireWait;
use engine::State;
pub use permit::{OwnedPermit, Permit};

/// The semaphore was closed with [`Semaphore::close`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for Closed {}

/// Why [`Semaphore::try_acquire`] returned no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Not enough permits are free, or other waiters are queued first.
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("semaphore closed"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// [`BoundedSemaphore::release`] would raise the count past its initial value
/// (asyncio's `ValueError: BoundedSemaphore released too many times`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasedTooManyTimes;

impl fmt::Display for ReleasedTooManyTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released too many times")
    }
}

impl std::error::Error for ReleasedTooManyTimes {}

/// A counter of permits: `acquire` waits for one, dropping the [`Permit`]
/// gives it back (asyncio's `Semaphore`, with RAII instead of `release`).
///
/// Waiters are served strictly in arrival order and a newcomer never takes a
/// permit while someone is queued. Every future is cancel-safe: dropping one
/// that was already handed its permits passes them to the next waiter.
///
/// ```
/// use corio_sync::Semaphore;
/// # futures_lite::future::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let _b = sem.acquire().await.unwrap();
/// assert!(sem.locked());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Semaphore")
            .field("permits", &st.permits)
            .field("waiters", &st.waiters.len())
            .field("closed", &st.closed)
            .finish()
    }
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore::with_bound(permits, None)
    }

    fn with_bound(permits: usize, bound: Option<usize>) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                permits,
                held: 0,
                bound,
                closed: false,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Waits for one permit; `Err(Closed)` once the semaphore is closed.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::Semaphore::new(1);
    /// let permit = sem.acquire().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once. While this request is at the head of
    /// the line, smaller requests behind it wait too. `n == 0` is ready at once;
    /// an `n` the semaphore can never reach waits until it is closed or the
    /// future is dropped (which lets the requests behind it through).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::Semaphore::new(5);
    /// let three = sem.acquire_many(3).await.unwrap();
    /// assert_eq!(three.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 2);
    /// # });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            wait: AcquireWait::new(n),
        }
    }

    /// Like [`acquire`](Self::acquire), but the permit keeps the semaphore
    /// alive, so it can move into a spawned task.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Like [`acquire_many`](Self::acquire_many), returning an [`OwnedPermit`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(4).await.unwrap();
    /// assert_eq!(permit.num_permits(), 4);
    /// # });
    /// ```
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned {
            sem: OwnedSem::Plain(self),
            wait: AcquireWait::new(n),
        }
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// ```
    /// use corio_sync::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        self.try_take(n)?;
        Ok(Permit { sem: self, n })
    }

    /// Like [`try_acquire`](Self::try_acquire), returning an [`OwnedPermit`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.try_take(1)?;
        Ok(OwnedPermit {
            sem: OwnedSem::Plain(self),
            n: 1,
        })
    }

    /// Adds one permit (asyncio's `release()`), handing it to the first
    /// waiter if there is one. A plain semaphore may grow past its initial
    /// value this way; see [`BoundedSemaphore`] for one that may not.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        self.add_permits(1);
    }

    /// Adds `n` permits at once, serving waiters in order.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.add_permits(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.update(|st| st.add_permits(n));
    }

    /// Free permits right now (those reserved for a woken waiter excluded).
    ///
    /// ```
    /// assert_eq!(corio_sync::Semaphore::new(7).available_permits(), 7);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.lock().permits
    }

    /// True when an `acquire` would wait: no permit is free, or someone is
    /// already queued (asyncio's `locked()`).
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// assert!(!sem.locked());
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        let st = self.state.lock();
        st.permits == 0 || !st.waiters.is_empty()
    }

    /// Closes the semaphore: every queued waiter gets `Err(Closed)` and so
    /// does every later acquire. Permits already held stay valid.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let sem = corio_sync::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.acquire().await.is_err());
    /// assert!(sem.is_closed());
    /// # });
    /// ```
    pub fn close(&self) {
        let mut wakes = WakeList::new();
        self.state.lock().close(&mut wakes);
        wakes.wake_all();
    }

    /// True once [`close`](Self::close) was called.
    ///
    /// ```
    /// assert!(!corio_sync::Semaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }
}
