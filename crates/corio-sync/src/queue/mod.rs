//! `Queue`, `PriorityQueue`, `LifoQueue`: asyncio's queues, with direct
//! hand-off to waiting getters and putters.
//!
//! # Protocol
//!
//! One mutex guards the item store, the counters and three FIFOs: getters,
//! putters and joiners.
//!
//! - **Put.** With getters waiting (so the store is empty) the item goes
//!   straight into the first getter's node (`Handed`) and that getter is woken;
//!   otherwise it goes into the store if there is room. A full queue (or one
//!   with putters already in line: no barging) makes `put` wait with its item
//!   parked in its own node (`Waiting`).
//! - **Get.** An item comes from the store; the slot it frees is given at once
//!   to the first waiting putter: its node becomes `Admitted` (the slot is
//!   reserved for it, its item still in its node) and it is woken. Only when
//!   that putter next runs does its item enter the queue, through the normal
//!   put path (to the first waiting getter, else the store), and its `put`
//!   return `Ok`. This is asyncio's order: a woken putter puts when it
//!   resumes, not when it is woken. An empty queue makes `get` wait.
//! - **Capacity.** Items handed to a getter that has not run yet (`in_flight`)
//!   still count in `qsize()`, as in asyncio where they stay in the queue until
//!   the getter runs. Slots reserved for admitted putters (`reserved`) are not
//!   items, so `qsize()` leaves them out, but `full()` counts them: a newcomer
//!   (`put_nowait` included) cannot take a slot promised to a putter in line.
//!   So `qsize() + reserved <= maxsize` always holds.
//! - **Cancellation.** A getter dropped while in line unlinks its node; one
//!   dropped after being handed an item passes it to the next getter, or
//!   returns it to the store to be served next. A putter dropped in line drops
//!   its own item (it was never put). One dropped while `Admitted` did not put
//!   either: it drops its item and releases its reservation, and the freed
//!   slot is given at once to the next putter in line (if any). No item is
//!   lost or duplicated, and no slot wasted.
//! - **Unfinished count.** Every item entering the queue adds one (for an
//!   admitted putter, when it runs, not when it is admitted); `task_done`
//!   takes one (an error below zero); reaching zero releases every joiner.
//! - **Shutdown.** Later puts fail, getters and putters in line are woken with
//!   an error (putters get their items back); admitted putters that have not
//!   run yet also fail with their items back (`Refused`), and their
//!   reservations are dropped. Gets drain the store and then fail.
//!   `immediate` also takes every item out of the store and out of getters'
//!   nodes, counts each as done, and drops them.
//!
//! Items are never dropped while the mutex is held (their `Drop` may touch the
//! queue); they are moved out and dropped after unlocking.
//!
//! The files: this one holds the queue and its public API; `state.rs` the
//! state under the mutex and its hand-off steps; `futures.rs` the `put`,
//! `get` and `join` futures; `error.rs` the errors; `order.rs` the stores
//! (FIFO, LIFO, priority).

mod error;
mod futures;
mod order;
mod state;

use std::fmt;

use crate::loom::Mutex;
use crate::waiters::{WaiterList, WakeList};
pub use error::{QueueEmpty, QueueFull, QueueShutDown, TaskDoneTooManyTimes};
pub use futures::{Get, Join, Put};
pub use order::{Fifo, Lifo, Priority, QueueOrder};
use state::{Getting, PutState, State};

/// The queue behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`]; `S` is
/// the order items are served in. Use the aliases.
///
/// Getters, putters and joiners each wait in FIFO order; every future is
/// cancel-safe (see the module protocol).
pub struct BaseQueue<T, S> {
    state: Mutex<State<T, S>>,
}

/// A first-in, first-out queue (asyncio's `Queue`).
///
/// ```
/// use corio_sync::Queue;
/// # futures_lite::future::block_on(async {
/// let q = Queue::new(2);
/// q.put(1).await.unwrap();
/// q.put(2).await.unwrap();
/// assert!(q.full());
/// assert_eq!(q.get().await, Ok(1));
/// assert_eq!(q.get().await, Ok(2));
/// # });
/// ```
pub type Queue<T> = BaseQueue<T, Fifo<T>>;

/// A queue that serves the smallest item first (asyncio's `PriorityQueue`).
///
/// ```
/// use corio_sync::PriorityQueue;
/// let q = PriorityQueue::new(0);
/// for x in [3, 1, 2] {
///     q.put_nowait(x).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(1));
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
pub type PriorityQueue<T> = BaseQueue<T, Priority<T>>;

/// A queue that serves the newest item first (asyncio's `LifoQueue`).
///
/// ```
/// use corio_sync::LifoQueue;
/// let q = LifoQueue::new(0);
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
pub type LifoQueue<T> = BaseQueue<T, Lifo<T>>;

impl<T> BaseQueue<T, Fifo<T>> {
    /// A FIFO queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let q = corio_sync::Queue::<u8>::new(0);
    /// assert_eq!(q.maxsize(), 0);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        BaseQueue::with_maxsize(maxsize)
    }
}

impl<T: Ord> BaseQueue<T, Priority<T>> {
    /// A priority queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let q = corio_sync::PriorityQueue::<u8>::new(4);
    /// assert_eq!(q.maxsize(), 4);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        BaseQueue::with_maxsize(maxsize)
    }
}

impl<T> BaseQueue<T, Lifo<T>> {
    /// A LIFO queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let q = corio_sync::LifoQueue::<u8>::new(1);
    /// assert_eq!(q.maxsize(), 1);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        BaseQueue::with_maxsize(maxsize)
    }
}

impl<T, S: QueueOrder<T>> BaseQueue<T, S> {
    fn with_maxsize(maxsize: usize) -> Self {
        BaseQueue {
            state: Mutex::new(State {
                items: S::new(),
                maxsize,
                in_flight: 0,
                reserved: 0,
                unfinished: 0,
                shut_down: false,
                getters: WaiterList::new(),
                putters: WaiterList::new(),
                joiners: WaiterList::new(),
            }),
        }
    }

    /// Runs `f` under the mutex and wakes what it collected afterwards.
    fn with_state<R>(&self, f: impl FnOnce(&mut State<T, S>, &mut WakeList) -> R) -> R {
        let mut wakes = WakeList::new();
        let r = f(&mut self.state.lock(), &mut wakes);
        wakes.wake_all();
        r
    }

    /// Waits for room, then puts `item`; `Err(QueueShutDown(item))` if the
    /// queue is or gets shut down first.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let q = corio_sync::Queue::new(1);
    /// q.put("a").await.unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// # });
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, S> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Waits for an item; `Err(QueueShutDown(()))` once the queue is shut down
    /// and drained.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let q = corio_sync::Queue::new(0);
    /// q.put_nowait(7).unwrap();
    /// assert_eq!(q.get().await, Ok(7));
    /// # });
    /// ```
    pub fn get(&self) -> Get<'_, T, S> {
        Get {
            queue: self,
            key: None,
            done: false,
        }
    }

    /// Puts `item` if there is room (`!full()`) and no putter is waiting;
    /// otherwise gives it back in `QueueFull` (also after shutdown).
    ///
    /// ```
    /// use corio_sync::{Queue, QueueFull};
    /// let q = Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.put_nowait(2), Err(QueueFull(2)));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        self.with_state(|st, wakes| st.try_put(item, wakes))
            .map_err(|(item, _)| QueueFull(item))
    }

    /// Takes an item if one is ready.
    ///
    /// ```
    /// use corio_sync::{Queue, QueueEmpty};
    /// let q = Queue::<u8>::new(0);
    /// assert_eq!(q.get_nowait(), Err(QueueEmpty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        self.with_state(|st, wakes| st.try_get(wakes))
            .map_err(|_| QueueEmpty)
    }

    /// Number of items in the queue (including any handed to a getter that
    /// has not run yet).
    ///
    /// ```
    /// let q = corio_sync::Queue::new(0);
    /// q.put_nowait(()).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.state.lock().qsize()
    }

    /// True when `qsize() == 0`.
    ///
    /// ```
    /// assert!(corio_sync::Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// True when bounded and no slot is left for a new put: `qsize()` plus
    /// the slots already freed for (reserved to) waiting putters that have
    /// not run yet reach `maxsize`. Without such putters this is asyncio's
    /// `qsize() >= maxsize`; with them, `put_nowait` fails (no barging) and
    /// `full()` says so, even if `qsize()` is below `maxsize` for a moment.
    ///
    /// ```
    /// let q = corio_sync::Queue::new(1);
    /// q.put_nowait(0).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        self.state.lock().full()
    }

    /// The bound given to `new` (0 = unbounded).
    ///
    /// ```
    /// assert_eq!(corio_sync::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.state.lock().maxsize
    }

    /// Marks one item as processed. When every item put has been marked, all
    /// [`join`](Self::join)s return. More calls than items is an error.
    ///
    /// ```
    /// let q = corio_sync::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneTooManyTimes> {
        self.with_state(|st, wakes| {
            if st.unfinished == 0 {
                return Err(TaskDoneTooManyTimes);
            }
            st.unfinished -= 1;
            if st.unfinished == 0 {
                st.release_joiners(wakes);
            }
            Ok(())
        })
    }

    /// Waits until every item put has been marked with
    /// [`task_done`](Self::task_done).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let q = corio_sync::Queue::new(0);
    /// q.join().await; // nothing put: returns at once
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # });
    /// ```
    pub fn join(&self) -> Join<'_, T, S> {
        Join {
            queue: self,
            key: None,
            done: false,
        }
    }

    /// Shuts the queue down: later puts fail, waiting putters (including any
    /// woken for a free slot that have not run yet) get their items back,
    /// gets drain what is left and then fail. With `immediate`, the
    /// items left are dropped at once (each counted as done, so `join`
    /// returns) and gets fail at once.
    ///
    /// ```
    /// use corio_sync::{Queue, QueueEmpty};
    /// let q = Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown(false);
    /// assert!(q.put_nowait(2).is_err());
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// assert_eq!(q.get_nowait(), Err(QueueEmpty));
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let dropped = self.with_state(|st, wakes| {
            st.shut_down = true;
            let mut dropped = Vec::new();
            if immediate {
                dropped = st.items.drain();
                st.getters.for_each_data_mut(|g| {
                    if matches!(g, Getting::Handed(_)) {
                        if let Getting::Handed(item) = std::mem::replace(g, Getting::ShutDown) {
                            dropped.push(item);
                        }
                    }
                });
                st.in_flight = 0;
                st.unfinished = st.unfinished.saturating_sub(dropped.len());
                if st.unfinished == 0 {
                    st.release_joiners(wakes);
                }
            }
            while let Some((key, waker)) = st.getters.pop_front() {
                *st.getters.data_mut(key) = Getting::ShutDown;
                wakes.push(waker);
            }
            while let Some((key, waker)) = st.putters.pop_front() {
                st.putters.data_mut(key).state = PutState::Refused;
                wakes.push(waker);
            }
            if st.reserved > 0 {
                // Admitted putters that have not run: already woken, they
                // find their item refused when they do.
                st.putters.for_each_data_mut(|p| {
                    if p.state == PutState::Admitted {
                        p.state = PutState::Refused;
                    }
                });
                st.reserved = 0;
            }
            dropped
        });
        drop(dropped);
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let q = corio_sync::Queue::<u8>::new(0);
    /// q.shutdown(false);
    /// assert!(q.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }
}

impl<T, S> fmt::Debug for BaseQueue<T, S>
where
    S: QueueOrder<T> + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Queue")
            .field("order", &st.items)
            .field("qsize", &st.qsize())
            .field("reserved", &st.reserved)
            .field("maxsize", &st.maxsize)
            .field("unfinished", &st.unfinished)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}
