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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{Key, WaiterList, WakeList};

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

/// Where a queued request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    Granted,
    Closed,
}

#[derive(Debug)]
struct Want {
    n: usize,
    outcome: Outcome,
}

#[derive(Debug)]
struct State {
    permits: usize,
    held: usize,
    /// `Some(initial)` for a `BoundedSemaphore`.
    bound: Option<usize>,
    closed: bool,
    waiters: WaiterList<Want>,
}

impl State {
    /// Serves the line from the head while the head's request fits.
    fn grant(&mut self, wakes: &mut WakeList) {
        while let Some(key) = self.waiters.front() {
            let n = self.waiters.data(key).n;
            if n > self.permits {
                break;
            }
            self.permits -= n;
            self.held += n;
            let (_, waker) = self.waiters.pop_front().expect("front exists");
            self.waiters.data_mut(key).outcome = Outcome::Granted;
            wakes.push(waker);
        }
    }

    fn add_permits(&mut self, n: usize) {
        self.permits = self
            .permits
            .checked_add(n)
            .expect("semaphore permit count overflowed");
    }
}

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
        {
            let mut st = self.state.lock();
            st.closed = true;
            while let Some((key, waker)) = st.waiters.pop_front() {
                st.waiters.data_mut(key).outcome = Outcome::Closed;
                wakes.push(waker);
            }
        }
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

    // ----- the engine, shared with `Lock` and `BoundedSemaphore` -----

    /// Runs `f` on the state, then the grant loop, then wakes whoever got
    /// permits once the mutex is released.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut wakes = WakeList::new();
        let r = {
            let mut st = self.state.lock();
            let r = f(&mut st);
            st.grant(&mut wakes);
            r
        };
        wakes.wake_all();
        r
    }

    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut st = self.state.lock();
        if st.closed {
            return Err(TryAcquireError::Closed);
        }
        if !st.waiters.is_empty() || st.permits < n {
            return Err(TryAcquireError::NoPermits);
        }
        st.permits -= n;
        st.held += n;
        Ok(())
    }

    /// Gives back `n` permits taken by a `Permit` or lock guard.
    pub(crate) fn return_permits(&self, n: usize) {
        self.update(|st| {
            st.held -= n;
            st.add_permits(n);
        });
    }

    /// Drops `n` held permits without returning them.
    fn forget_permits(&self, n: usize) {
        self.state.lock().held -= n;
    }

    fn release_bounded(&self) -> Result<(), ReleasedTooManyTimes> {
        self.update(|st| {
            let bound = st.bound.expect("bounded semaphore");
            if st.permits + st.held >= bound {
                return Err(ReleasedTooManyTimes);
            }
            st.permits += 1;
            Ok(())
        })
    }

    pub(crate) fn poll_acquire(
        &self,
        w: &mut AcquireWait,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        assert!(!w.done, "acquire future polled after completion");
        let mut st = self.state.lock();
        let ready = match w.key {
            None => {
                if st.closed {
                    Err(Closed)
                } else if w.n <= st.permits && st.waiters.is_empty() {
                    st.permits -= w.n;
                    st.held += w.n;
                    Ok(())
                } else if w.n == 0 {
                    Ok(())
                } else {
                    w.key = Some(st.waiters.push_back(
                        Want {
                            n: w.n,
                            outcome: Outcome::Waiting,
                        },
                        cx.waker().clone(),
                    ));
                    return Poll::Pending;
                }
            }
            Some(key) => match st.waiters.data(key).outcome {
                Outcome::Waiting => {
                    st.waiters.set_waker(key, cx.waker());
                    return Poll::Pending;
                }
                Outcome::Granted => {
                    st.waiters.remove(key);
                    w.key = None;
                    Ok(())
                }
                Outcome::Closed => {
                    st.waiters.remove(key);
                    w.key = None;
                    Err(Closed)
                }
            },
        };
        w.done = true;
        Poll::Ready(ready)
    }

    /// The `Drop` of a pending acquire future.
    pub(crate) fn cancel_acquire(&self, key: Key) {
        let mut wakes = WakeList::new();
        {
            let mut st = self.state.lock();
            let want = st.waiters.remove(key);
            match want.outcome {
                // Left the line; if it was a large head request, the ones
                // behind it may fit now.
                Outcome::Waiting => st.grant(&mut wakes),
                // Handed permits it will never use: give them back and pass
                // them on to the next waiter.
                Outcome::Granted => {
                    st.held -= want.n;
                    st.add_permits(want.n);
                    #[cfg(not(corio_mutant_no_handoff))]
                    st.grant(&mut wakes);
                }
                Outcome::Closed => {}
            }
        }
        wakes.wake_all();
    }
}

/// A request's place in line, embedded in every acquire future.
#[derive(Debug)]
pub(crate) struct AcquireWait {
    n: usize,
    key: Option<Key>,
    done: bool,
}

impl AcquireWait {
    pub(crate) fn new(n: usize) -> AcquireWait {
        AcquireWait {
            n,
            key: None,
            done: false,
        }
    }

    /// The key to cancel with if the future is dropped while queued.
    pub(crate) fn take_key(&mut self) -> Option<Key> {
        self.key.take()
    }
}

/// Future of [`Semaphore::acquire`] / [`Semaphore::acquire_many`].
///
/// Dropping it before it completes gives back anything it was handed.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    wait: AcquireWait,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.sem
            .poll_acquire(&mut this.wait, cx)
            .map_ok(|()| Permit {
                sem: this.sem,
                n: this.wait.n,
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.sem.cancel_acquire(key);
        }
    }
}

/// An owning handle on a plain or bounded semaphore.
#[derive(Debug, Clone)]
enum OwnedSem {
    Plain(Arc<Semaphore>),
    Bounded(Arc<BoundedSemaphore>),
}

impl OwnedSem {
    fn raw(&self) -> &Semaphore {
        match self {
            OwnedSem::Plain(s) => s,
            OwnedSem::Bounded(b) => &b.sem,
        }
    }
}

/// Future of [`Semaphore::acquire_owned`] / [`BoundedSemaphore::acquire_owned`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct AcquireOwned {
    sem: OwnedSem,
    wait: AcquireWait,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedPermit, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.sem
            .raw()
            .poll_acquire(&mut this.wait, cx)
            .map_ok(|()| OwnedPermit {
                sem: this.sem.clone(),
                n: this.wait.n,
            })
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.sem.raw().cancel_acquire(key);
        }
    }
}

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
    sem: &'a Semaphore,
    n: usize,
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
    sem: OwnedSem,
    n: usize,
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
    sem: Semaphore,
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
