//! The futures of `put`, `get` and `join`: each holds its place in its
//! line and, when dropped, leaves the queue as if it had never waited (a
//! handed item goes on to the next getter, a reserved slot to the next
//! putter).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::state::{Getting, PutState, Putting};
use super::{BaseQueue, QueueOrder, QueueShutDown};
use crate::waiters::Key;

/// Future of [`BaseQueue::put`]. The item enters the queue only when a poll
/// returns `Ready(Ok(()))`. Dropped before that, it drops its item (which was
/// never put); if a slot had already been freed for it, the slot passes to the
/// next waiting putter, as in asyncio.
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, S: QueueOrder<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    /// The item until it is put or parked in our node (which then holds it
    /// until the put completes or fails).
    pub(super) item: Option<T>,
    pub(super) key: Option<Key>,
}

// The item is never pinned: it is only moved in and out by value.
impl<T, S: QueueOrder<T>> Unpin for Put<'_, T, S> {}

impl<T, S: QueueOrder<T>> Future for Put<'_, T, S> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.queue.with_state(|st, wakes| match this.key {
            None => {
                let item = this.item.take().expect("Put polled after completion");
                match st.try_put(item, wakes) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err((item, true)) => Poll::Ready(Err(QueueShutDown(item))),
                    Err((item, false)) => {
                        let node = Putting {
                            item,
                            state: PutState::Waiting,
                        };
                        this.key = Some(st.putters.push_back(node, cx.waker().clone()));
                        Poll::Pending
                    }
                }
            }
            Some(key) => match st.putters.data(key).state {
                PutState::Waiting => {
                    st.putters.set_waker(key, cx.waker());
                    Poll::Pending
                }
                PutState::Admitted => {
                    this.key = None;
                    let Putting { item, .. } = st.putters.remove(key);
                    // The reserved slot becomes the item's.
                    st.reserved -= 1;
                    st.enqueue(item, wakes);
                    Poll::Ready(Ok(()))
                }
                PutState::Refused => {
                    this.key = None;
                    Poll::Ready(Err(QueueShutDown(st.putters.remove(key).item)))
                }
            },
        })
    }
}

impl<T, S: QueueOrder<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let node = self.queue.with_state(|st, wakes| {
                let node = st.putters.remove(key);
                if node.state == PutState::Admitted {
                    // It never put: its slot goes to the next putter in line.
                    st.reserved -= 1;
                    st.admit_putters(wakes);
                }
                node
            });
            // Dropped outside the mutex: an item's `Drop` may use the queue.
            drop(node);
        }
    }
}

impl<T, S: QueueOrder<T>> fmt::Debug for Put<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Future of [`BaseQueue::get`]. Dropped after it was handed an item, it
/// passes the item to the next getter (or back into the queue).
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T, S: QueueOrder<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    pub(super) key: Option<Key>,
    pub(super) done: bool,
}

impl<T, S: QueueOrder<T>> Future for Get<'_, T, S> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "Get polled after completion");
        let out = this.queue.with_state(|st, wakes| match this.key {
            None => match st.try_get(wakes) {
                Ok(item) => Poll::Ready(Ok(item)),
                Err(true) => Poll::Ready(Err(QueueShutDown(()))),
                Err(false) => {
                    this.key = Some(st.getters.push_back(Getting::Waiting, cx.waker().clone()));
                    Poll::Pending
                }
            },
            Some(key) => match st.getters.data(key) {
                Getting::Waiting => {
                    st.getters.set_waker(key, cx.waker());
                    Poll::Pending
                }
                Getting::Handed(_) | Getting::ShutDown => {
                    this.key = None;
                    match st.getters.remove(key) {
                        Getting::Handed(item) => {
                            st.in_flight -= 1;
                            // Claiming frees the slot the item held.
                            st.admit_putters(wakes);
                            Poll::Ready(Ok(item))
                        }
                        _ => Poll::Ready(Err(QueueShutDown(()))),
                    }
                }
            },
        });
        this.done = out.is_ready();
        out
    }
}

impl<T, S: QueueOrder<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.with_state(|st, wakes| {
                if let Getting::Handed(item) = st.getters.remove(key) {
                    // Still counted in `in_flight`/`qsize`: pass it on.
                    st.in_flight -= 1;
                    st.hand_out_returned(item, wakes);
                }
            });
        }
    }
}

impl<T, S: QueueOrder<T>> fmt::Debug for Get<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Future of [`BaseQueue::join`]; dropping it leaves no trace.
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T, S: QueueOrder<T>> {
    pub(super) queue: &'a BaseQueue<T, S>,
    pub(super) key: Option<Key>,
    pub(super) done: bool,
}

impl<T, S: QueueOrder<T>> Future for Join<'_, T, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        assert!(!this.done, "Join polled after completion");
        let mut st = this.queue.state.lock();
        match this.key {
            None if st.unfinished == 0 => {}
            None => {
                this.key = Some(st.joiners.push_back(false, cx.waker().clone()));
                return Poll::Pending;
            }
            Some(key) if *st.joiners.data(key) => {
                st.joiners.remove(key);
                this.key = None;
            }
            Some(key) => {
                st.joiners.set_waker(key, cx.waker());
                return Poll::Pending;
            }
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl<T, S: QueueOrder<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.state.lock().joiners.remove(key);
        }
    }
}

impl<T, S: QueueOrder<T>> fmt::Debug for Join<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}
