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
//!   during the poll it stays set and the runner's reference becomes the
//!   queued one (the runner's caller queues it; see `harness.rs`); if
//!   CANCELLED was set it keeps RUNNING and cancels.
//! - **to_complete**: clears RUNNING, sets COMPLETE. The output was stored
//!   before, so the JoinHandle may read it as soon as it sees COMPLETE.
//! - **abort**: sets CANCELLED; if the task was idle also sets NOTIFIED and
//!   adds a reference so a worker picks it up and drops the future on a
//!   runtime thread.
//! - **join waker**: the JoinHandle writes the waker slot only while
//!   JOIN_WAKER is clear, then sets it with a CAS that fails if COMPLETE got
//!   there first. The task side reads the slot only after it set COMPLETE
//!   while JOIN_WAKER was set, wakes the waker, and then clears JOIN_WAKER
//!   (`unset_join_waker_after_complete`), giving the slot back to the handle
//!   — or, if the handle was dropped meanwhile, keeping it and dropping the
//!   waker itself. The two never touch the slot together (the handle may
//!   read it, `will_wake`, while the task side reads it too).
//! - **JoinHandle drop**: clears JOIN_INTEREST. Before COMPLETE it also
//!   clears JOIN_WAKER, so the slot is the handle's and it drops the waker at
//!   once; after COMPLETE the handle drops the output, and the waker too
//!   unless JOIN_WAKER is still set (the task side is waking it and drops it
//!   after).
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

/// What a JoinHandle being dropped must drop itself.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinDropped {
    /// The task completed and nobody read the output: the handle drops it.
    pub(crate) owns_output: bool,
    /// The join waker slot is the handle's and may hold a waker: the handle
    /// drops it. (Before completion the slot holds one exactly when
    /// JOIN_WAKER was set; a handle that never stored one skips the slot.)
    pub(crate) owns_waker: bool,
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

    /// JoinHandle dropped: clears JOIN_INTEREST (and, before completion,
    /// JOIN_WAKER) and says what the handle must drop.
    pub(crate) fn drop_join_interest(&self) -> JoinDropped {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST));
            if s.has(COMPLETE) {
                let r = JoinDropped {
                    owns_output: true,
                    owns_waker: !s.has(JOIN_WAKER),
                };
                (Some(s.0 & !JOIN_INTEREST), r)
            } else {
                let r = JoinDropped {
                    owns_output: false,
                    owns_waker: s.has(JOIN_WAKER),
                };
                (Some(s.0 & !(JOIN_INTEREST | JOIN_WAKER)), r)
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

    /// The task side, after waking the join waker on completion: gives the
    /// slot back. Returns the word as it was before; without JOIN_INTEREST
    /// the handle is gone and the caller drops the waker.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(prev.has(COMPLETE) && prev.has(JOIN_WAKER));
        prev
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

/// One test per transition: each starts from a word built by hand and checks
/// the word after and the verdict. Pure, so they run under Miri and loom
/// alike (loom needs a model around atomics, hence `not(loom)`).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A state word with `flags` and `refs` references.
    fn word(flags: usize, refs: usize) -> State {
        State(AtomicUsize::new(flags | (refs * REF_ONE)))
    }

    fn is(s: &State, flags: usize, refs: usize) {
        let snap = s.load();
        assert_eq!(
            snap,
            Snapshot(flags | (refs * REF_ONE)),
            "expected flags {flags:06b} refs {refs}, got {snap:?}"
        );
    }

    #[test]
    fn new_is_queued_with_a_handle() {
        is(&State::new(3), NOTIFIED | JOIN_INTEREST, 3);
    }

    #[test]
    fn to_running_polls_a_notified_task() {
        let s = word(NOTIFIED | JOIN_INTEREST, 2);
        assert_eq!(s.to_running(), ToRunning::Poll);
        is(&s, RUNNING | JOIN_INTEREST, 2);
    }

    #[test]
    fn to_running_cancels_an_aborted_task() {
        let s = word(NOTIFIED | CANCELLED, 1);
        assert_eq!(s.to_running(), ToRunning::Cancel);
        is(&s, RUNNING | CANCELLED, 1);
    }

    #[test]
    fn to_running_does_nothing_when_complete_running_or_not_notified() {
        for flags in [COMPLETE | NOTIFIED, RUNNING | NOTIFIED, 0, CANCELLED] {
            let s = word(flags, 1);
            assert_eq!(s.to_running(), ToRunning::Nothing, "{flags:06b}");
            is(&s, flags, 1);
        }
    }

    #[test]
    fn to_idle_clears_running() {
        let s = word(RUNNING | JOIN_INTEREST, 2);
        assert_eq!(s.to_idle(), ToIdle::Idle);
        is(&s, JOIN_INTEREST, 2);
    }

    #[test]
    fn to_idle_when_woken_keeps_notified_and_the_reference() {
        let s = word(RUNNING | NOTIFIED, 1);
        assert_eq!(s.to_idle(), ToIdle::Notified);
        is(&s, NOTIFIED, 1);
    }

    #[test]
    fn to_idle_when_aborted_keeps_running_to_cancel() {
        let s = word(RUNNING | CANCELLED | NOTIFIED, 1);
        assert_eq!(s.to_idle(), ToIdle::Cancel);
        is(&s, RUNNING | CANCELLED | NOTIFIED, 1);
    }

    #[test]
    fn to_complete_swaps_running_for_complete() {
        let s = word(RUNNING | JOIN_INTEREST | JOIN_WAKER, 2);
        let prev = s.to_complete();
        assert_eq!(
            prev,
            Snapshot(RUNNING | JOIN_INTEREST | JOIN_WAKER | (2 * REF_ONE))
        );
        is(&s, COMPLETE | JOIN_INTEREST | JOIN_WAKER, 2);
    }

    #[test]
    fn wake_an_idle_task_schedules_it_with_a_new_reference() {
        let s = word(JOIN_INTEREST, 1);
        assert_eq!(s.wake(), OnWake::Schedule);
        is(&s, JOIN_INTEREST | NOTIFIED, 2);
    }

    #[test]
    fn wake_a_running_task_marks_it_for_requeue() {
        let s = word(RUNNING, 1);
        assert_eq!(s.wake(), OnWake::Nothing);
        is(&s, RUNNING | NOTIFIED, 1);
    }

    #[test]
    fn wake_a_queued_or_complete_task_does_nothing() {
        for flags in [NOTIFIED, COMPLETE, RUNNING | NOTIFIED] {
            let s = word(flags, 1);
            assert_eq!(s.wake(), OnWake::Nothing, "{flags:06b}");
            is(&s, flags, 1);
        }
    }

    #[test]
    fn abort_an_idle_task_schedules_the_cancel() {
        let s = word(JOIN_INTEREST, 1);
        assert_eq!(s.abort(), OnWake::Schedule);
        is(&s, JOIN_INTEREST | CANCELLED | NOTIFIED, 2);
    }

    #[test]
    fn abort_a_running_or_queued_task_only_marks_it() {
        for flags in [RUNNING, NOTIFIED] {
            let s = word(flags, 1);
            assert_eq!(s.abort(), OnWake::Nothing, "{flags:06b}");
            is(&s, flags | CANCELLED, 1);
        }
    }

    #[test]
    fn abort_a_complete_or_cancelled_task_does_nothing() {
        for flags in [COMPLETE, CANCELLED | NOTIFIED] {
            let s = word(flags, 1);
            assert_eq!(s.abort(), OnWake::Nothing, "{flags:06b}");
            is(&s, flags, 1);
        }
    }

    #[test]
    fn to_shutdown_takes_an_idle_or_queued_future() {
        for flags in [0, NOTIFIED] {
            let s = word(flags | JOIN_INTEREST, 1);
            assert!(s.to_shutdown(), "{flags:06b}");
            is(&s, flags | JOIN_INTEREST | RUNNING | CANCELLED, 1);
        }
    }

    #[test]
    fn to_shutdown_leaves_a_running_future_to_its_runner() {
        let s = word(RUNNING, 1);
        assert!(!s.to_shutdown());
        is(&s, RUNNING | CANCELLED, 1);
    }

    #[test]
    fn to_shutdown_of_a_complete_task_does_nothing() {
        let s = word(COMPLETE, 1);
        assert!(!s.to_shutdown());
        is(&s, COMPLETE, 1);
    }

    #[test]
    fn drop_join_interest_before_completion_takes_the_waker_slot() {
        for waker in [0, JOIN_WAKER] {
            let s = word(JOIN_INTEREST | waker, 2);
            let d = s.drop_join_interest();
            assert_eq!(
                d,
                JoinDropped {
                    owns_output: false,
                    owns_waker: waker != 0,
                }
            );
            is(&s, 0, 2);
        }
    }

    #[test]
    fn drop_join_interest_after_completion_takes_the_output() {
        let s = word(COMPLETE | JOIN_INTEREST, 1);
        let d = s.drop_join_interest();
        assert_eq!(
            d,
            JoinDropped {
                owns_output: true,
                owns_waker: true
            }
        );
        is(&s, COMPLETE, 1);
        // JOIN_WAKER still set: the completer is waking it and keeps it.
        let s = word(COMPLETE | JOIN_INTEREST | JOIN_WAKER, 1);
        let d = s.drop_join_interest();
        assert_eq!(
            d,
            JoinDropped {
                owns_output: true,
                owns_waker: false
            }
        );
        is(&s, COMPLETE | JOIN_WAKER, 1);
    }

    #[test]
    fn set_join_waker_fails_once_complete() {
        let s = word(JOIN_INTEREST, 1);
        assert!(s.set_join_waker().is_ok());
        is(&s, JOIN_INTEREST | JOIN_WAKER, 1);
        let s = word(JOIN_INTEREST | COMPLETE, 1);
        assert!(s.set_join_waker().is_err());
        is(&s, JOIN_INTEREST | COMPLETE, 1);
    }

    #[test]
    fn unset_join_waker_fails_once_complete() {
        let s = word(JOIN_INTEREST | JOIN_WAKER, 1);
        assert!(s.unset_join_waker().is_ok());
        is(&s, JOIN_INTEREST, 1);
        let s = word(JOIN_INTEREST | JOIN_WAKER | COMPLETE, 1);
        assert!(s.unset_join_waker().is_err());
        is(&s, JOIN_INTEREST | JOIN_WAKER | COMPLETE, 1);
    }

    #[test]
    fn unset_join_waker_after_complete_reports_the_handle() {
        let s = word(COMPLETE | JOIN_INTEREST | JOIN_WAKER, 1);
        assert!(s.unset_join_waker_after_complete().has(JOIN_INTEREST));
        is(&s, COMPLETE | JOIN_INTEREST, 1);
        let s = word(COMPLETE | JOIN_WAKER, 1);
        assert!(!s.unset_join_waker_after_complete().has(JOIN_INTEREST));
        is(&s, COMPLETE, 1);
    }

    #[test]
    fn references_count_up_and_the_last_one_says_so() {
        let s = word(JOIN_INTEREST, 1);
        s.ref_inc();
        is(&s, JOIN_INTEREST, 2);
        assert!(!s.ref_dec(1));
        is(&s, JOIN_INTEREST, 1);
        s.ref_inc();
        s.ref_inc();
        assert!(s.ref_dec(3), "dropping the last three frees");
        is(&s, JOIN_INTEREST, 0);
    }
}
