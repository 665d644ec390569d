//! The task state word: lifecycle bits and the reference count in one
//! `AtomicUsize`, so every transition is a single compare-and-swap.
//!
//! ```text
//!  bit 0  RUNNING        a thread owns the future (polling or cancelling it)
//!  bit 1  COMPLETE       the future is gone; the stage holds the output
//!  bit 2  NOTIFIED       a `Notified` reference exists (queued), or the
//!                        runner must re-queue the task after this poll
//!  bit 3  CANCELLED      abort requested; whoever runs it next cancels it
//!  bit 4  JOIN_INTEREST  the JoinHandle is alive and owns the output
//!  bit 5  JOIN_WAKER     the join waker slot is written and belongs to the
//!                        task side until COMPLETE
//!  bits 6.. reference count (JoinHandle, each Waker, each Notified, the
//!           registry of live tasks)
//! ```
//!
//! Transitions (each one CAS on the whole word):
//! - **wake**: COMPLETE or NOTIFIED set: nothing. RUNNING: set NOTIFIED, the
//!   runner re-queues after the poll (no new reference). Idle: set NOTIFIED
//!   and add a reference for the new `Notified`, which the waker then queues.
//!   So a task is never in two queues at once.
//! - **to_running** (a worker popped a `Notified`): requires NOTIFIED and not
//!   RUNNING/COMPLETE; clears NOTIFIED, sets RUNNING. If CANCELLED is set the
//!   caller cancels instead of polling.
//! - **to_idle** (after a `Pending` poll): clears RUNNING. If NOTIFIED was set
//!   during the poll the runner keeps its reference and re-queues; if
//!   CANCELLED was set it keeps RUNNING and cancels.
//! - **to_complete**: clears RUNNING, sets COMPLETE. The output was stored
//!   before, so the JoinHandle may read it as soon as it sees COMPLETE.
//! - **abort**: sets CANCELLED; if the task was idle also sets NOTIFIED and
//!   adds a reference so a worker picks it up and drops the future on a
//!   runtime thread.
//! - **join waker**: the JoinHandle writes the waker slot only while
//!   JOIN_WAKER is clear, then sets it with a CAS that fails if COMPLETE got
//!   there first. The task side reads the slot only after it set COMPLETE
//!   while JOIN_WAKER was set. The two never touch the slot together.
//! - **JoinHandle drop**: clears JOIN_INTEREST unless COMPLETE is set, in
//!   which case the handle drops the output itself.
//!
//! Orderings: transitions use AcqRel so that what one owner of the future or
//! output wrote is visible to the next (RUNNING hand-off, output hand-off to
//! the JoinHandle). Reference increments are Relaxed (the caller already
//! holds a reference, like `Arc::clone`); decrements are AcqRel so the last
//! one sees every write before freeing.

use crate::loom::{AtomicUsize, Ordering};

pub(crate) const RUNNING: usize = 1 << 0;
pub(crate) const COMPLETE: usize = 1 << 1;
pub(crate) const NOTIFIED: usize = 1 << 2;
pub(crate) const CANCELLED: usize = 1 << 3;
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
pub(crate) const JOIN_WAKER: usize = 1 << 5;
const REF_SHIFT: usize = 6;
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;
const FLAGS: usize = REF_ONE - 1;

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    #[inline]
    pub(crate) fn has(self, bits: usize) -> bool {
        self.0 & bits == bits
    }
    #[inline]
    pub(crate) fn refs(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "State {{ flags: {:06b}, refs: {} }}",
            self.0 & FLAGS,
            self.refs()
        )
    }
}

/// What `to_running` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// The caller owns the future and polls it.
    Poll,
    /// The caller owns the future and must cancel it.
    Cancel,
    /// Nothing to run (already complete); the caller drops its reference.
    Nothing,
}

/// What `to_idle` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Idle now; the runner drops its reference.
    Idle,
    /// Woken during the poll; the runner re-queues with its reference.
    Notified,
    /// Aborted during the poll; the runner still owns the future and cancels.
    Cancel,
}

/// What `wake` asks the waker to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OnWake {
    /// A new reference was added: queue a `Notified` built from it.
    Schedule,
    /// Nothing to do.
    Nothing,
}

pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task: queued once (NOTIFIED), with a JoinHandle, and `refs`
    /// references (the `Notified`, the JoinHandle, and the registry's if any).
    pub(crate) fn new(refs: usize) -> State {
        State(AtomicUsize::new(
            NOTIFIED | JOIN_INTEREST | (refs * REF_ONE),
        ))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// CAS loop: `f` returns the new word and a result, or `None` to stop.
    #[inline]
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (next, r) = f(Snapshot(cur));
            let Some(next) = next else { return r };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return r,
                Err(actual) => cur = actual,
            }
        }
    }

    pub(crate) fn to_running(&self) -> ToRunning {
        self.update(|s| {
            if s.has(RUNNING) || s.has(COMPLETE) || !s.has(NOTIFIED) {
                return (None, ToRunning::Nothing);
            }
            let next = (s.0 & !NOTIFIED) | RUNNING;
            let r = if s.has(CANCELLED) {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), r)
        })
    }

    pub(crate) fn to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.has(RUNNING));
            if s.has(CANCELLED) {
                return (None, ToIdle::Cancel);
            }
            if s.has(NOTIFIED) {
                // Keep NOTIFIED: the runner's reference becomes the queued one.
                (Some(s.0 & !RUNNING), ToIdle::Notified)
            } else {
                (Some(s.0 & !RUNNING), ToIdle::Idle)
            }
        })
    }

    /// Marks the task complete; returns the word as it was before.
    pub(crate) fn to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.has(RUNNING) && !prev.has(COMPLETE));
        prev
    }

    pub(crate) fn wake(&self) -> OnWake {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(NOTIFIED) {
                (None, OnWake::Nothing)
            } else if s.has(RUNNING) {
                (Some(s.0 | NOTIFIED), OnWake::Nothing)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), OnWake::Schedule)
            }
        })
    }

    /// Requests cancellation. `Schedule` means a reference was added for a
    /// `Notified` that the caller must queue.
    pub(crate) fn abort(&self) -> OnWake {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(CANCELLED) {
                (None, OnWake::Nothing)
            } else if s.has(RUNNING) || s.has(NOTIFIED) {
                (Some(s.0 | CANCELLED), OnWake::Nothing)
            } else {
                (
                    Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE),
                    OnWake::Schedule,
                )
            }
        })
    }

    /// Shutdown: take the future if nobody runs it. `true` means the caller
    /// now owns the future (RUNNING set) and must cancel it; otherwise the
    /// runner sees CANCELLED after its poll.
    pub(crate) fn to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.has(COMPLETE) {
                return (None, false);
            }
            if s.has(RUNNING) {
                return (Some(s.0 | CANCELLED), false);
            }
            (Some(s.0 | CANCELLED | RUNNING), true)
        })
    }

    /// JoinHandle dropped: `Err` if complete (the caller must drop the output).
    pub(crate) fn drop_join_interest(&self) -> Result<(), ()> {
        self.update(|s| {
            if s.has(COMPLETE) {
                (None, Err(()))
            } else {
                (Some(s.0 & !JOIN_INTEREST), Ok(()))
            }
        })
    }

    /// Sets JOIN_WAKER after the handle wrote the slot. `Err(snapshot)` when
    /// the task completed first (the slot stays the handle's).
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && !s.has(JOIN_WAKER));
            if s.has(COMPLETE) {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// Clears JOIN_WAKER so the handle may rewrite the slot. `Err` when the
    /// task completed first.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && s.has(JOIN_WAKER));
            if s.has(COMPLETE) {
                (None, Err(s))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    #[inline]
    pub(crate) fn ref_inc(&self) {
        // Relaxed: the caller holds a reference, so the count cannot reach
        // zero concurrently; nothing is published through the increment.
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        assert!(prev <= usize::MAX / 2, "task reference count overflow");
    }

    /// Drops `n` references; `true` if they were the last (free the task).
    #[inline]
    pub(crate) fn ref_dec(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.refs() >= n, "task reference count underflow");
        prev.refs() == n
    }
}
