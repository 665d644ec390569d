//! `Condition`: asyncio's `Condition`, a condition variable for [`Lock`]s.
//!
//! # Protocol
//!
//! A `Condition` owns only a FIFO of waiters (a node holds `true` once it has
//! been notified); the data and its lock are the caller's, as with
//! `std::sync::Condvar`. A wait goes through three stages:
//!
//! 1. **Register**, still holding the guard: the waiter joins the line *before*
//!    the lock is released, so a notifier that takes the lock afterwards and
//!    changes the data cannot miss it. Then the guard is dropped.
//! 2. **Wait** until `notify` pops the node and marks it notified.
//! 3. **Re-acquire** the lock through an ordinary [`LockAcquire`], then return
//!    the guard. `wait` never returns without the lock.
//!
//! Cancellation: dropped in stage 2 before being notified, the node is simply
//! unlinked. Dropped once notified (in stage 2 or while re-acquiring in stage
//! 3), the waiter owes the notification and passes it on with `notify(1)`, as
//! CPython does; that may cause a spurious wake-up, which a condition variable
//! allows, but never a lost one. A dropped re-acquire passes on the lock
//! itself by the lock's own rules.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::lock::{Lock, LockAcquire, LockGuard};
use crate::loom::Mutex;
use crate::waiters::{Key, WaiterList, WakeList};

/// A condition variable: tasks wait, holding a [`Lock`]'s guard, until
/// another task notifies them.
///
/// `Condition::new()` is not tied to one lock: pass the guard of the lock that
/// protects the shared state to [`wait`](Self::wait), which releases it while
/// waiting and re-acquires it before returning (like `std::sync::Condvar`;
/// asyncio's `Condition(lock)` bundles the two, here the lock is the `Lock<T>`
/// that owns the data). Use one lock per condition.
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::{Condition, Lock};
/// # futures_lite::future::block_on(async {
/// let state = Arc::new((Lock::new(false), Condition::new()));
/// let s2 = state.clone();
/// let t = std::thread::spawn(move || {
///     futures_lite::future::block_on(async {
///         let (lock, cond) = &*s2;
///         *lock.acquire().await = true;
///         cond.notify_all();
///     })
/// });
/// let (lock, cond) = &*state;
/// let ready = cond.wait_for(lock.acquire().await, |ready| *ready).await;
/// assert!(*ready);
/// # drop(ready);
/// t.join().unwrap();
/// # });
/// ```
pub struct Condition {
    waiters: Mutex<WaiterList<bool>>,
}

impl Condition {
    /// A condition with no waiters.
    ///
    /// ```
    /// let cond = corio_sync::Condition::new();
    /// cond.notify_all(); // nobody waiting: nothing happens
    /// ```
    pub fn new() -> Condition {
        Condition {
            waiters: Mutex::new(WaiterList::new()),
        }
    }

    /// Releases `guard`'s lock, waits to be notified, re-acquires the lock and
    /// returns the new guard.
    ///
    /// ```
    /// use corio_sync::{Condition, Lock};
    /// use std::{future::Future, pin::pin, task::{Context, Poll, Waker}};
    /// let (lock, cond) = (Lock::new(0), Condition::new());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut wait = pin!(cond.wait(lock.try_acquire().unwrap()));
    /// assert!(wait.as_mut().poll(&mut cx).is_pending());
    /// assert!(!lock.locked()); // released while waiting
    /// cond.notify(1);
    /// let Poll::Ready(guard) = wait.as_mut().poll(&mut cx) else { panic!() };
    /// assert_eq!(*guard, 0);
    /// ```
    pub fn wait<'c, 'a, T>(&'c self, guard: LockGuard<'a, T>) -> ConditionWait<'c, 'a, T> {
        ConditionWait {
            cond: self,
            lock: LockGuard::lock(&guard),
            guard: Some(guard),
            key: None,
            reacquire: None,
            owes_notification: false,
        }
    }

    /// Waits until `pred` holds for the protected data, checking it first and
    /// after every wake-up, each time with the lock held.
    ///
    /// ```
    /// use corio_sync::{Condition, Lock};
    /// # futures_lite::future::block_on(async {
    /// let (lock, cond) = (Lock::new(5), Condition::new());
    /// // Already true: returns without waiting.
    /// let guard = cond.wait_for(lock.acquire().await, |n| *n > 3).await;
    /// assert_eq!(*guard, 5);
    /// # });
    /// ```
    pub async fn wait_for<'a, T, F>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut pred: F,
    ) -> LockGuard<'a, T>
    where
        F: FnMut(&T) -> bool,
    {
        while !pred(&guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the first `n` waiters (fewer if fewer wait). Call it after
    /// changing the data under the lock; holding the lock is not required.
    ///
    /// ```
    /// let cond = corio_sync::Condition::new();
    /// cond.notify(3);
    /// ```
    pub fn notify(&self, n: usize) {
        let mut wakes = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            for _ in 0..n {
                let Some((key, waker)) = waiters.pop_front() else {
                    break;
                };
                *waiters.data_mut(key) = true;
                wakes.push(waker);
            }
        }
        wakes.wake_all();
    }

    /// Wakes every waiter.
    ///
    /// ```
    /// corio_sync::Condition::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}

/// Future of [`Condition::wait`]; resolves to the re-acquired guard.
///
/// Dropping it after it was notified passes the notification to the next
/// waiter.
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait<'c, 'a, T> {
    cond: &'c Condition,
    lock: &'a Lock<T>,
    /// Stage 1: the caller's guard, released on the first poll.
    guard: Option<LockGuard<'a, T>>,
    /// Stage 2: our node in the condition's line.
    key: Option<Key>,
    /// Stage 3: getting the lock back.
    reacquire: Option<LockAcquire<'a, T>>,
    /// Notified, and not yet returned: a drop must pass it on.
    owes_notification: bool,
}

impl<'a, T> Future for ConditionWait<'_, 'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = self.get_mut();
        if let Some(guard) = this.guard.take() {
            this.key = Some(
                this.cond
                    .waiters
                    .lock()
                    .push_back(false, cx.waker().clone()),
            );
            drop(guard);
        }
        if let Some(key) = this.key {
            let mut waiters = this.cond.waiters.lock();
            if !*waiters.data(key) {
                waiters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            waiters.remove(key);
            drop(waiters);
            this.key = None;
            this.owes_notification = true;
            this.reacquire = Some(this.lock.acquire());
        }
        let acquire = this
            .reacquire
            .as_mut()
            .expect("ConditionWait polled after completion");
        let guard = std::task::ready!(Pin::new(acquire).poll(cx));
        this.reacquire = None;
        this.owes_notification = false;
        Poll::Ready(guard)
    }
}

impl<T> Drop for ConditionWait<'_, '_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let notified = self.cond.waiters.lock().remove(key);
            self.owes_notification = notified;
        }
        // Give up the lock (or our place in its line) before passing the
        // notification on, so the next waiter can get the lock.
        drop(self.reacquire.take());
        if self.owes_notification {
            #[cfg(not(corio_mutant_no_handoff))]
            self.cond.notify(1);
        }
    }
}

impl<T> fmt::Debug for ConditionWait<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait")
            .field("notified", &self.owes_notification)
            .finish_non_exhaustive()
    }
}
