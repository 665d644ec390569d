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
//! - [`unpark`] wakes whichever thread blocks in a turn.

use std::task::Waker;

use crate::driver::{wake_batch, Driver, EVENTS_PER_TURN};
use crate::wait;

/// A thread's promise to take driver turns when idle, and its buffers.
pub struct IoParker {
    events: wait::Events,
    batch: Vec<Waker>,
}

impl IoParker {
    /// Registers the calling thread as one that takes turns when idle. The
    /// promise ends when the `IoParker` drops.
    pub fn new() -> IoParker {
        Driver::add_poller();
        IoParker {
            events: wait::Events::with_capacity(EVENTS_PER_TURN),
            batch: Vec::new(),
        }
    }

    /// Takes the driver's turn: `None` if the driver has not been started
    /// (nothing to wait for) or another thread holds the turn.
    pub fn try_turn(&mut self) -> Option<Turn<'_>> {
        let driver = Driver::try_get()?;
        if !driver.try_turn() {
            return None;
        }
        Some(Turn {
            driver,
            parker: self,
        })
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
        // Whatever a turn collected and nobody woke must not be lost.
        wake_batch(&mut self.batch);
        Driver::remove_poller();
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
}

impl Turn<'_> {
    /// Polls once: blocks (if `block`) until readiness, the next timer
    /// deadline or [`unpark`], then collects the wakers of what is ready into
    /// the parker's batch.
    pub fn poll(&mut self, block: bool) {
        let p = &mut *self.parker;
        self.driver.turn(&mut p.events, &mut p.batch, block);
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.driver.end_turn();
    }
}

impl std::fmt::Debug for Turn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").finish_non_exhaustive()
    }
}

/// Wakes the thread blocked in [`Turn::poll`], or makes the next blocking
/// poll return at once. Does nothing if the driver was never started.
pub fn unpark() {
    if let Some(d) = Driver::try_get() {
        d.notify();
    }
}
