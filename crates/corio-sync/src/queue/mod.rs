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
//!   parked in its own node.
//! - **Get.** An item comes from the store; the slot it frees is given at once
//!   to the first waiting putter, whose item moves into the store (`Done`).
//!   An empty queue makes `get` wait.
//! - **Capacity.** Items handed to a getter that has not run yet (`in_flight`)
//!   still count in `qsize()`, as in asyncio where they stay in the queue until
//!   the getter runs; so `full()` and `maxsize` stay exact.
//! - **Cancellation.** A getter dropped while in line unlinks its node; one
//!   dropped after being handed an item passes it to the next getter, or
//!   returns it to the store to be served next. A putter dropped in line drops
//!   its own item (it was never put); one dropped after `Done` has nothing to
//!   undo, its item is in the queue. No item is lost and no slot wasted.
//! - **Unfinished count.** Every item entering the queue adds one; `task_done`
//!   takes one (an error below zero); reaching zero releases every joiner.
//! - **Shutdown.** Later puts fail, getters and putters in line are woken with
//!   an error (putters get their items back); gets drain the store and then
//!   fail. `immediate` also takes every item out of the store and out of
//!   getters' nodes, counts each as done, and drops them.
//!
//! Items are never dropped while the mutex is held (their `Drop` may touch the
//! queue); they are moved out and dropped after unlocking.

mod order;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{Key, WaiterList, WakeList};
use order::sealed::Store;
pub use order::{Fifo, Lifo, Priority, QueueOrder};

/// `put_nowait` found the queue full, or shut down (see
/// [`BaseQueue::is_shut_down`]); the item is given back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueFull<T>(pub T);

/// `get_nowait` found no item (the queue is empty, or shut down and drained).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueEmpty;

/// The queue was shut down: from `put`, with the item given back; from `get`
/// (as `QueueShutDown<()>`), once no item is left to drain.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

/// `task_done` was called more often than items were put (asyncio's
/// `ValueError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDoneTooManyTimes;

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is full")
    }
}

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is empty")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl fmt::Display for TaskDoneTooManyTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl<T> std::error::Error for QueueFull<T> {}
impl std::error::Error for QueueEmpty {}
impl<T> std::error::Error for QueueShutDown<T> {}
impl std::error::Error for TaskDoneTooManyTimes {}

/// A getter's node.
enum Getting<T> {
    Waiting,
    Handed(T),
    ShutDown,
}

/// A putter's node.
enum Putting<T> {
    Waiting(T),
    Done,
    Refused(T),
}

struct State<T, S> {
    items: S,
    maxsize: usize,
    /// Items handed to getters that have not claimed them yet.
    in_flight: usize,
    unfinished: usize,
    shut_down: bool,
    getters: WaiterList<Getting<T>>,
    putters: WaiterList<Putting<T>>,
    /// `true` once released by the unfinished count reaching zero.
    joiners: WaiterList<bool>,
}

impl<T, S: Store<T>> State<T, S> {
    fn qsize(&self) -> usize {
        self.items.len() + self.in_flight
    }

    fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// Puts an item that is entering the queue.
    fn enqueue(&mut self, item: T, wakes: &mut WakeList) {
        self.unfinished += 1;
        self.hand_out(item, wakes);
    }

    /// Gives an item already counted as unfinished to the first getter, or
    /// stores it.
    fn hand_out(&mut self, item: T, wakes: &mut WakeList) {
        match self.getters.pop_front() {
            Some((key, waker)) => {
                *self.getters.data_mut(key) = Getting::Handed(item);
                self.in_flight += 1;
                wakes.push(waker);
            }
            None => self.items.push(item),
        }
    }

    /// Fills free slots from the putters' line.
    fn admit_putters(&mut self, wakes: &mut WakeList) {
        while !self.full() {
            let Some((key, waker)) = self.putters.pop_front() else {
                break;
            };
            let Putting::Waiting(item) =
                std::mem::replace(self.putters.data_mut(key), Putting::Done)
            else {
                unreachable!("a putter in line holds its item")
            };
            self.enqueue(item, wakes);
            wakes.push(waker);
        }
    }

    fn try_put(&mut self, item: T, wakes: &mut WakeList) -> Result<(), (T, bool)> {
        if self.shut_down {
            return Err((item, true));
        }
        if self.full() || !self.putters.is_empty() {
            return Err((item, false));
        }
        self.enqueue(item, wakes);
        Ok(())
    }

    fn try_get(&mut self, wakes: &mut WakeList) -> Result<T, bool> {
        match self.items.pop() {
            Some(item) => {
                self.admit_putters(wakes);
                Ok(item)
            }
            None => Err(self.shut_down),
        }
    }

    fn release_joiners(&mut self, wakes: &mut WakeList) {
        while let Some((key, waker)) = self.joiners.pop_front() {
            *self.joiners.data_mut(key) = true;
            wakes.push(waker);
        }
    }
}

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

    /// Puts `item` if there is room and no putter is waiting; otherwise gives
    /// it back in `QueueFull` (also after shutdown).
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

    /// True when bounded and `qsize() >= maxsize`.
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

    /// Shuts the queue down: later puts fail, waiting putters get their items
    /// back, gets drain what is left and then fail. With `immediate`, the
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
                let data = st.putters.data_mut(key);
                if let Putting::Waiting(item) = std::mem::replace(data, Putting::Done) {
                    *data = Putting::Refused(item);
                }
                wakes.push(waker);
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
            .field("maxsize", &st.maxsize)
            .field("unfinished", &st.unfinished)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}

/// Future of [`BaseQueue::put`]. Dropped while waiting, it drops its item
/// (which was never put); once the item is in the queue, dropping it changes
/// nothing.
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, S: QueueOrder<T>> {
    queue: &'a BaseQueue<T, S>,
    /// The item until it is put or parked in our node.
    item: Option<T>,
    key: Option<Key>,
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
                        this.key = Some(
                            st.putters
                                .push_back(Putting::Waiting(item), cx.waker().clone()),
                        );
                        Poll::Pending
                    }
                }
            }
            Some(key) => match st.putters.data(key) {
                Putting::Waiting(_) => {
                    st.putters.set_waker(key, cx.waker());
                    Poll::Pending
                }
                Putting::Done | Putting::Refused(_) => {
                    this.key = None;
                    match st.putters.remove(key) {
                        Putting::Refused(item) => Poll::Ready(Err(QueueShutDown(item))),
                        _ => Poll::Ready(Ok(())),
                    }
                }
            },
        })
    }
}

impl<T, S: QueueOrder<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Dropped outside the mutex: an item's `Drop` may use the queue.
            let node = self.queue.state.lock().putters.remove(key);
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
    queue: &'a BaseQueue<T, S>,
    key: Option<Key>,
    done: bool,
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

impl<T, S: Store<T>> State<T, S> {
    /// An item a vanished getter was handed: to the next getter, or back to
    /// the front of the store.
    fn hand_out_returned(&mut self, item: T, wakes: &mut WakeList) {
        if self.getters.is_empty() {
            self.items.push_returned(item);
        } else {
            self.hand_out(item, wakes);
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
    queue: &'a BaseQueue<T, S>,
    key: Option<Key>,
    done: bool,
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
