//! Which workers are searching for work and which are parked, and the
//! protocol that keeps a wakeup from being lost between the two.
//!
//! One atomic word counts `unparked` workers (high half) and `searching`
//! workers (low half); the list of parked workers sits under a mutex.
//!
//! **Producer** (after pushing a task anywhere another worker could find it):
//! `fence(SeqCst)`, then read the word. If some worker is searching, or none
//! is parked, return: that worker will find the task. Otherwise lock the
//! list, re-read, pop a parked worker, count it as unparked *and searching*,
//! unlock, and unpark it. Counting it as searching at once is what keeps a
//! burst of pushes from waking every worker: later producers see a searcher
//! and return.
//!
//! **Worker going to park**: lock the list, decrement `unparked` (and
//! `searching` if it was searching) and push itself, unlock, `fence(SeqCst)`,
//! then **re-check every queue**. If there is work it takes itself back off
//! the list (if a producer already popped it, an unpark is on its way and
//! the park returns at once).
//!
//! Why no wakeup is lost: the producer's push is followed by a SeqCst fence
//! and a read of the word; the worker's decrement is followed by a SeqCst
//! fence and a read of the queues. In the single total order of the two
//! fences, either the producer's read comes after the decrement, so it sees
//! a parked worker and unparks it (the list and the word change together
//! under the lock), or the worker's re-check comes after the push and sees
//! the task. The loom model `loom-tests/tests/park.rs` checks this, and
//! fails under `--cfg corio_mutant_lost_wakeup`, which skips the re-check.
//!
//! A worker that sleeps in the I/O driver's turn (`park.rs`) is on the list
//! like any other; an unpark reaches it through the poller. When the poll
//! itself returns (readiness or a timer, nobody unparked it), the worker
//! takes itself off the list as unparked but *not* searching
//! ([`Idle::unpark_self_after_io`]): it has the tasks it woke to run, and a
//! second task it wakes notifies another worker through the ordinary push
//! path. If a producer popped it meanwhile, it takes that unpark at once.
//! The loom models `park::io_*` check this path.
//!
//! At most half the workers search at once ([`Idle::try_search`]), so idle
//! workers do not all hammer the same victims; the last searcher to find
//! work wakes another, so work spreads while it lasts.

use crate::loom::{fence, AtomicUsize, Mutex, Ordering};

const SEARCH_MASK: usize = (1 << 16) - 1;
const UNPARK_ONE: usize = 1 << 16;

/// Searching/parked bookkeeping for `num_workers` workers.
#[derive(Debug)]
pub struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    /// All workers start unparked and not searching.
    pub fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers * UNPARK_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Picks a parked worker to wake, if a task just became visible and no
    /// worker is searching. The caller unparks the returned worker.
    pub fn worker_to_notify(&self) -> Option<usize> {
        // Order the caller's push before our read of the counts (see header).
        // The mutant build drops this fence, and the loom models must fail.
        #[cfg(not(corio_mutant_no_fence))]
        fence(Ordering::SeqCst);
        if !self.needs_wakeup(self.state.load(Ordering::SeqCst)) {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.needs_wakeup(self.state.load(Ordering::SeqCst)) {
            return None;
        }
        let id = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, Ordering::SeqCst);
        Some(id)
    }

    fn needs_wakeup(&self, s: usize) -> bool {
        s & SEARCH_MASK == 0 && s >> 16 < self.num_workers
    }

    /// A worker with nothing local asks to search (steal). Refused when half
    /// the workers already search.
    pub fn try_search(&self) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        if 2 * (s & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searcher found work. `true` if it was the last searcher: it should
    /// then wake another worker, since there may be more work.
    pub fn stop_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// Registers worker `id` as parked. The caller must re-check every queue
    /// afterwards and call [`Idle::unpark_self`] if it finds work.
    pub fn before_park(&self, id: usize, searching: bool) {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE + searching as usize;
        self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(id);
        drop(sleepers);
        // Order the decrement before the caller's re-check of the queues.
        #[cfg(not(corio_mutant_no_park_fence))]
        fence(Ordering::SeqCst);
    }

    /// Takes worker `id` back off the parked list after its re-check found
    /// work. `true`: done, the worker is unparked and searching. `false`: a
    /// producer already popped it and will unpark it, so the worker parks and
    /// returns at once.
    pub fn unpark_self(&self, id: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == id) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.state.fetch_add(UNPARK_ONE | 1, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Takes worker `id` back off the parked list after a poll of I/O woke
    /// it (nobody unparked it), counting it unparked but *not* searching: it
    /// has work of its own to run, and a second task it woke wakes another
    /// worker through the ordinary push path. `false`: a producer already
    /// popped it (counting it searching) and its unpark is on the way.
    pub fn unpark_self_after_io(&self, id: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == id) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.state.fetch_add(UNPARK_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Parks worker `id` without losing a wakeup: registers it as parked,
    /// re-checks `has_work` (every queue a producer notifies for, and the
    /// shutdown flag), and sleeps on `parker` (in the I/O poll, if `io` is
    /// given and the driver's turn is free) unless work turned up.
    ///
    /// Returns whether the worker now counts as searching: after an unpark
    /// it does (whoever woke it counted it so); after a poll of I/O that
    /// nobody interrupted it does not (it has what the poll collected to
    /// run). At shutdown counts no longer matter. `turn_reserved` says the
    /// turn is reserved for a `block_on` thread (`main_park.rs`).
    pub fn park(
        &self,
        parker: &super::park::Parker,
        id: usize,
        searching: bool,
        has_work: impl Fn() -> bool,
        io: Option<&mut crate::loom::io::IoParker>,
        turn_reserved: &dyn Fn() -> bool,
    ) -> bool {
        self.before_park(id, searching);
        // The re-check is the hand-off that makes the protocol lose nothing;
        // the mutant build drops it so the loom model can prove it sees that.
        #[cfg(not(corio_mutant_lost_wakeup))]
        if has_work() && self.unpark_self(id) {
            return true;
        }
        #[cfg(corio_mutant_lost_wakeup)]
        let _ = &has_work;
        match parker.park(io, turn_reserved) {
            super::park::Woken::Unparked => true,
            super::park::Woken::Io => {
                if self.unpark_self_after_io(id) {
                    false
                } else {
                    // A producer popped us; take its unpark now so that it
                    // is not left pending for the next park.
                    parker.park(None, &|| false);
                    true
                }
            }
        }
    }

    /// Every parked worker, for shutdown.
    pub fn take_all(&self) -> Vec<usize> {
        std::mem::take(&mut *self.sleepers.lock())
    }

    /// `(unparked, searching)`.
    pub fn counts(&self) -> (usize, usize) {
        let s = self.state.load(Ordering::SeqCst);
        (s >> 16, s & SEARCH_MASK)
    }
}
