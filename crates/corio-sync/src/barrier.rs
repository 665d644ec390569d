//! `Barrier`: asyncio's `Barrier`, where `parties` tasks wait for each other.
//!
//! # Protocol
//!
//! The waiters of the current round are the FIFO under the mutex, so the
//! number arrived is simply its length. The last arrival pops every node in
//! arrival order, writing `Passed(index)` into each (0 for the first to
//! arrive), takes `parties - 1` itself, and wakes them after unlocking. The
//! barrier is at once ready for the next round: a waiter's outcome lives in
//! its own node, so there is no "draining" phase for newcomers to wait out.
//!
//! Indices are assigned when the barrier trips, not on arrival, so a waiter
//! that leaves (its future dropped while still in line just unlinks its node,
//! and no longer counts as arrived) leaves no hole: a round always returns
//! exactly the indices `0..parties`.
//!
//! `reset()` pops every node as `Broken` and leaves the barrier usable;
//! `abort()` does the same and also raises the `broken` flag, which makes
//! every later `wait()` fail until `reset()`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{Key, WaiterList, WakeList};

/// The barrier was reset or aborted while waiting, or is aborted
/// (asyncio's `BrokenBarrierError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl std::error::Error for BrokenBarrier {}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Waiting,
    Passed(usize),
    Broken,
}

struct State {
    broken: bool,
    waiters: WaiterList<Outcome>,
}

/// `parties` tasks meet: each [`wait`](Self::wait) blocks until the last one
/// arrives, then all return, with distinct indices `0..parties` in arrival
/// order. The barrier then starts over.
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Barrier;
/// let barrier = Arc::new(Barrier::new(3));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         std::thread::spawn(move || futures_lite::future::block_on(b.wait()).unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`); use
    /// [`try_new`](Self::try_new) to get an `Err` instead.
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn new(parties: usize) -> Barrier {
        Barrier::try_new(parties).expect("Barrier::new: parties must be at least 1")
    }

    /// A barrier for `parties` tasks, or `None` if `parties` is 0.
    ///
    /// ```
    /// assert!(corio_sync::Barrier::try_new(0).is_none());
    /// assert!(corio_sync::Barrier::try_new(1).is_some());
    /// ```
    pub fn try_new(parties: usize) -> Option<Barrier> {
        (parties > 0).then(|| Barrier {
            parties,
            state: Mutex::new(State {
                broken: false,
                waiters: WaiterList::new(),
            }),
        })
    }

    /// Waits for all parties; `Ok(index)` with this task's arrival index, or
    /// `Err(BrokenBarrier)` if the barrier is or gets reset or aborted.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let b = corio_sync::Barrier::new(1);
    /// assert_eq!(b.wait().await, Ok(0));
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            done: false,
        }
    }

    /// Breaks the current round (its waiters get `Err(BrokenBarrier)`) and
    /// makes the barrier usable again, also after [`abort`](Self::abort).
    ///
    /// ```
    /// let b = corio_sync::Barrier::new(2);
    /// b.abort();
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        self.break_waiters(false);
    }

    /// Breaks the barrier: current and future waiters get `Err(BrokenBarrier)`
    /// until [`reset`](Self::reset).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let b = corio_sync::Barrier::new(2);
    /// b.abort();
    /// assert!(b.broken());
    /// assert!(b.wait().await.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.break_waiters(true);
    }

    fn break_waiters(&self, broken: bool) {
        let mut wakes = WakeList::new();
        {
            let mut st = self.state.lock();
            st.broken = broken;
            while let Some((key, waker)) = st.waiters.pop_front() {
                *st.waiters.data_mut(key) = Outcome::Broken;
                wakes.push(waker);
            }
        }
        wakes.wake_all();
    }

    /// How many tasks are waiting in the current round.
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(3).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// True after [`abort`](Self::abort) until [`reset`](Self::reset).
    ///
    /// ```
    /// assert!(!corio_sync::Barrier::new(1).broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }

    /// The number of tasks that must arrive to pass.
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &st.waiters.len())
            .field("broken", &st.broken)
            .finish()
    }
}

/// Future of [`Barrier::wait`]. Dropping it while waiting withdraws this
/// task's arrival.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<Key>,
    done: bool,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "BarrierWait polled after completion");
        let mut wakes = WakeList::new();
        let out = {
            let mut st = this.barrier.state.lock();
            match this.key {
                None if st.broken => Err(BrokenBarrier),
                None if st.waiters.len() + 1 < this.barrier.parties => {
                    this.key = Some(st.waiters.push_back(Outcome::Waiting, cx.waker().clone()));
                    return Poll::Pending;
                }
                None => {
                    // Last arrival: release the round in arrival order.
                    let mut index = 0;
                    while let Some((key, waker)) = st.waiters.pop_front() {
                        *st.waiters.data_mut(key) = Outcome::Passed(index);
                        index += 1;
                        wakes.push(waker);
                    }
                    Ok(index)
                }
                Some(key) => match *st.waiters.data(key) {
                    Outcome::Waiting => {
                        st.waiters.set_waker(key, cx.waker());
                        return Poll::Pending;
                    }
                    Outcome::Passed(i) => {
                        st.waiters.remove(key);
                        this.key = None;
                        Ok(i)
                    }
                    Outcome::Broken => {
                        st.waiters.remove(key);
                        this.key = None;
                        Err(BrokenBarrier)
                    }
                },
            }
        };
        wakes.wake_all();
        this.done = true;
        Poll::Ready(out)
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.barrier.state.lock().waiters.remove(key);
        }
    }
}
