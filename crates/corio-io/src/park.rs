//! Letting an executor's idle threads wait for I/O themselves.
//!
//! The driver thread alone works under any executor, but every readiness
//! event then costs a hop: the driver thread wakes, wakes the task (a push to
//! the executor's global queue), and wakes a worker thread to run it. A
//! worker that has nothing to do can instead take the driver's *turn* and
//! block in the poll itself: the tasks it wakes go to its own queue and it
//! runs them without any other thread waking up. corio's runtime does that
//! (`corio-rt`'s `Parker`); this module is the door it uses.
//!
//! - [`IoParker::new`] promises the driver that this thread takes turns when
//!   idle. While any such promise stands, the driver thread only steps in
//!   when the turn has sat unused for a millisecond (every worker busy).
//! - [`IoParker::try_turn`] takes the turn if the driver is running and
//!   nobody holds it; [`Turn::poll`] waits (or just looks) and collects the
//!   wakers of ready sources and expired timers; dropping the `Turn` gives it
//!   back. [`IoParker::wake_batch`] then wakes them, with the turn released.
//! - [`IoParker::turn_or_wait`] is `try_turn` for a thread about to sleep:
//!   if the turn is held (or the driver not started) the thread registers
//!   to be *offered* the turn when a holder that is not coming back leaves
//!   it, so an idle thread never sleeps beside an unused turn (`turn.rs`,
//!   "Waiting for the turn"). [`IoParker::withdraw`] cancels that.
//! - [`unpark`] wakes whichever thread blocks in a turn.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Waker;

use crate::driver::{gate, wake_batch, Driver, EVENTS_PER_TURN};
use crate::wait;

/// A thread's promise to take driver turns when idle, and its buffers.
pub struct IoParker {
    events: wait::Events,
    batch: Vec<Waker>,
    /// This parker's name on the turn's waiting list.
    id: usize,
    /// Registered on the waiting list (and not yet withdrawn).
    waiting: bool,
    /// Turns this thread took.
    turns: u64,
    /// Counted in the driver's pollers (`new`), not (`unpromised`).
    promised: bool,
}

/// Ids for [`IoParker::id`]; only compared, never reused while live.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

impl IoParker {
    /// Registers the calling thread as one that takes turns when idle. The
    /// promise ends when the `IoParker` drops.
    pub fn new() -> IoParker {
        Driver::add_poller();
        let mut parker = IoParker::unpromised();
        parker.promised = true;
        parker
    }

    /// A parker for a thread that takes the turn only now and then (the
    /// thread inside a runtime's `block_on`): it makes no promise, so the
    /// backup thread's behaviour does not depend on it.
    pub fn unpromised() -> IoParker {
        IoParker {
            events: wait::Events::with_capacity(EVENTS_PER_TURN),
            batch: Vec::new(),
            // Relaxed: a unique number is all that is needed.
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            waiting: false,
            turns: 0,
            promised: false,
        }
    }

    /// Turns this thread has taken (blocking or not).
    pub fn turns(&self) -> u64 {
        self.turns
    }

    /// Takes the driver's turn: `None` if the driver has not been started
    /// (nothing to wait for) or another thread holds the turn.
    pub fn try_turn(&mut self) -> Option<Turn<'_>> {
        let driver = Driver::try_get()?;
        if !driver.try_turn() {
            return None;
        }
        self.turns += 1;
        Some(Turn {
            driver,
            parker: self,
            blocked: false,
            offer: None,
        })
    }

    /// Takes the turn, or, for a thread about to sleep off it, registers to
    /// be offered it: `offer` is woken once, when a holder that is not
    /// coming back gives the turn up or the driver starts. The caller then
    /// calls this again. Call [`IoParker::withdraw`] when the thread stops
    /// waiting for another reason.
    pub fn turn_or_wait(&mut self, offer: &Waker) -> Option<Turn<'_>> {
        if Driver::try_get().is_some_and(Driver::try_turn) {
            self.withdraw();
            return self.held_turn();
        }
        gate().wait_for_turn(self.id, offer);
        self.waiting = true;
        // Second try, after the registration (see `turn.rs`): a holder that
        // left before it saw us must not leave us asleep by a free turn.
        if Driver::try_get().is_some_and(Driver::try_turn) {
            self.withdraw();
            return self.held_turn();
        }
        None
    }

    /// Registers to be offered the turn without trying to take it (the
    /// turn is reserved for another thread); `offer` is woken once when it
    /// is handed over. The caller re-checks whatever made it defer, and
    /// calls [`IoParker::turn_or_wait`] if that no longer holds.
    pub fn wait_for_offer(&mut self, offer: &Waker) {
        gate().wait_for_turn(self.id, offer);
        self.waiting = true;
    }

    /// The turn this thread just took.
    fn held_turn(&mut self) -> Option<Turn<'_>> {
        self.turns += 1;
        Some(Turn {
            driver: Driver::try_get()?,
            parker: self,
            blocked: false,
            offer: None,
        })
    }

    /// Stops waiting for the turn (see [`IoParker::turn_or_wait`]). If an
    /// offer already reached this thread, it is passed on to another
    /// waiting thread, since this one will not take the turn now.
    pub fn withdraw(&mut self) {
        if !std::mem::take(&mut self.waiting) {
            return;
        }
        let gate = gate();
        if !gate.withdraw(self.id) {
            // Popped by an offer: hand it to the next waiter, if any.
            gate.offer_turn();
        }
    }

    /// Wakes what the last turn collected. Call with the turn dropped.
    pub fn wake_batch(&mut self) {
        wake_batch(&mut self.batch);
    }

    /// Whether the last turn collected anything to wake.
    pub fn has_batch(&self) -> bool {
        !self.batch.is_empty()
    }
}

impl Default for IoParker {
    fn default() -> IoParker {
        IoParker::new()
    }
}

impl Drop for IoParker {
    fn drop(&mut self) {
        self.withdraw();
        // Whatever a turn collected and nobody woke must not be lost.
        wake_batch(&mut self.batch);
        if self.promised {
            Driver::remove_poller();
        }
    }
}

impl std::fmt::Debug for IoParker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoParker")
            .field("batch", &self.batch.len())
            .finish()
    }
}

/// The driver's turn, held by one thread at a time.
pub struct Turn<'a> {
    driver: &'static Driver,
    parker: &'a mut IoParker,
    /// The last poll blocked: this thread was idle and will take the turn
    /// again when idle, so giving it back offers it to nobody.
    blocked: bool,
    /// Set by [`Turn::finish`]: whether to offer the turn on the way out,
    /// whatever the last poll was.
    offer: Option<bool>,
}

impl Turn<'_> {
    /// Polls once: blocks (if `block`) until readiness, the next timer
    /// deadline or [`unpark`], then collects the wakers of what is ready into
    /// the parker's batch.
    pub fn poll(&mut self, block: bool) {
        let p = &mut *self.parker;
        self.driver.turn(&mut p.events, &mut p.batch, block);
        self.blocked = block;
    }

    /// Whether the polls of this turn collected anything to wake.
    pub fn has_batch(&self) -> bool {
        !self.parker.batch.is_empty()
    }

    /// Whether the last poll collected something, and only wakers that
    /// wake the same task as `w` (`Waker::will_wake`).
    pub fn batch_only_wakes(&self, w: &Waker) -> bool {
        let b = &self.parker.batch;
        !b.is_empty() && b.iter().all(|x| x.will_wake(w))
    }

    /// Gives the turn back, offering it to a waiting thread if `offer`
    /// (instead of deciding by whether the last poll blocked).
    pub fn finish(mut self, offer: bool) {
        self.offer = Some(offer);
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // A busy thread's look leaves for good: offer the turn to a thread
        // that waits for it. An idle thread's blocking poll does not (see
        // `turn.rs`, "Waiting for the turn").
        self.driver.end_turn(self.offer.unwrap_or(!self.blocked));
    }
}

impl std::fmt::Debug for Turn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").finish_non_exhaustive()
    }
}

/// Offers the turn to a thread that waits for it, if any: for a thread that
/// had the turn reserved (others deferred to it) and will not take it after
/// all. `true` if a waiting thread was woken.
pub fn offer_turn() -> bool {
    // Orders the caller's withdrawal of its reservation before the read of
    // the waiting count, against a registrant's registration and its re-check
    // of the reservation (see corio-rt's `main_park.rs`).
    std::sync::atomic::fence(Ordering::SeqCst);
    let gate = gate();
    gate.has_waiters() && gate.offer_turn()
}

/// Wakes the thread blocked in [`Turn::poll`], or makes the next blocking
/// poll return at once. Does nothing if the driver was never started.
pub fn unpark() {
    if let Some(d) = Driver::try_get() {
        d.notify();
    }
}
