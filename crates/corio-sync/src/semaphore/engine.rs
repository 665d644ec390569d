//! The engine under [`Semaphore`] (and [`Lock`](crate::Lock) and
//! [`BoundedSemaphore`](super::BoundedSemaphore)): the state under the
//! mutex, the grant loop, and the steps of an acquire and of its
//! cancellation. The protocol is in `mod.rs`'s header.

use std::task::{Context, Poll};

use super::{Closed, ReleasedTooManyTimes, Semaphore, TryAcquireError};
use crate::waiters::{Key, WaiterList, WakeList};

/// Where a queued request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Waiting,
    Granted,
    Closed,
}

#[derive(Debug)]
pub(super) struct Want {
    n: usize,
    outcome: Outcome,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) permits: usize,
    pub(super) held: usize,
    /// `Some(initial)` for a `BoundedSemaphore`.
    pub(super) bound: Option<usize>,
    pub(super) closed: bool,
    pub(super) waiters: WaiterList<Want>,
}

impl State {
    /// Serves the line from the head while the head's request fits.
    pub(super) fn grant(&mut self, wakes: &mut WakeList) {
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

    /// Closes: every request still in line is told `Closed`; their wakers
    /// go to `wakes`, to be woken once the mutex is released.
    pub(super) fn close(&mut self, wakes: &mut WakeList) {
        self.closed = true;
        while let Some((key, waker)) = self.waiters.pop_front() {
            self.waiters.data_mut(key).outcome = Outcome::Closed;
            wakes.push(waker);
        }
    }

    pub(super) fn add_permits(&mut self, n: usize) {
        self.permits = self
            .permits
            .checked_add(n)
            .expect("semaphore permit count overflowed");
    }
}

impl Semaphore {
    // ----- the engine, shared with `Lock` and `BoundedSemaphore` -----

    /// Runs `f` on the state, then the grant loop, then wakes whoever got
    /// permits once the mutex is released.
    pub(super) fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
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
    pub(super) fn forget_permits(&self, n: usize) {
        self.state.lock().held -= n;
    }

    pub(super) fn release_bounded(&self) -> Result<(), ReleasedTooManyTimes> {
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
    pub(super) n: usize,
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
