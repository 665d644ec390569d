//! The cooperative budget: a task whose I/O is always ready still yields.
//!
//! A read that finds data, a write that finds room, an accept that finds a
//! connection: each completes without returning `Pending`, so a task that
//! loops over I/O which is always ready (a fast peer, a full pipe) would never
//! give its worker back. Its neighbours in that worker's queue, and the I/O
//! the worker would look at between polls, would wait until it ran dry.
//!
//! So a runtime polls each task inside [`budget`], which gives the poll
//! [`BUDGET`] operations. Every ready I/O operation of corio-io (the
//! `read_with`/`write_with` family that every socket type goes through, and
//! `readable()`/`writable()`) spends one. Once none is left, the next
//! operation does not run: it wakes its task and returns `Pending`, exactly
//! as `yield_now()` would, and nothing is lost, since the operation was not
//! attempted. The worker then runs the task's neighbours and looks at the
//! driver before it polls the task again with a fresh budget.
//!
//! Outside [`budget`] (a `block_on` thread, another executor, a plain
//! thread) nothing is counted and operations always proceed. The budget is
//! one thread-local counter: no atomics, and no cost beyond a load and a
//! store per operation.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Ready I/O operations one task poll may complete before it yields.
pub const BUDGET: u32 = 128;

/// The counter's value outside [`budget`]: nothing is counted.
const UNCONSTRAINED: u32 = u32::MAX;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(UNCONSTRAINED) };
}

/// Runs `f` (a runtime's poll of one task) with a fresh budget of
/// [`BUDGET`] operations, and puts the thread's previous budget back after,
/// panic or not.
///
/// ```
/// use corio_io::coop;
/// let n = coop::budget(|| coop::remaining());
/// assert_eq!(n, Some(coop::BUDGET));
/// assert_eq!(coop::remaining(), None);
/// ```
pub fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_left(BUDGET, f)
}

/// Gives this thread a fresh budget of [`BUDGET`] and restores nothing
/// after: one store, for a runtime's worker thread before each poll of a
/// task. A worker polls nothing but tasks, so whatever the last poll left
/// there is never read outside one; a thread that also does other work
/// (an eager spawn's caller) uses [`budget`] instead.
///
/// ```
/// use corio_io::coop;
/// std::thread::spawn(|| {
///     coop::refill();
///     assert_eq!(coop::remaining(), Some(coop::BUDGET));
/// })
/// .join()
/// .unwrap();
/// ```
#[inline]
pub fn refill() {
    LEFT.with(|left| left.set(BUDGET));
}

/// Runs `f` with nothing counted, and puts the thread's budget back after.
///
/// For bookkeeping that polls with a waker of its own rather than the
/// task's (a best-effort flush in a `Drop`, a reaper's retry loop): there a
/// spent budget's `Pending` would either lose the work or, with a waker
/// that retries at once, never end.
pub fn without_budget<R>(f: impl FnOnce() -> R) -> R {
    with_left(UNCONSTRAINED, f)
}

/// Runs `f` with the budget set to `left`, restoring it after, panic or not.
fn with_left<R>(left: u32, f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.with(|left| left.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|cell| cell.replace(left)));
    f()
}

/// What is left of this thread's budget, or `None` outside [`budget`].
pub fn remaining() -> Option<u32> {
    let left = LEFT.with(Cell::get);
    (left != UNCONSTRAINED).then_some(left)
}

/// Whether an operation may run now. With the budget spent, wakes the task
/// (so it is polled again after its neighbours) and returns `Pending`.
///
/// An operation that gets `Ready` and then completes calls [`spend`].
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if LEFT.with(Cell::get) == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// Spends one operation of the budget (nothing outside [`budget`]).
pub fn spend() {
    LEFT.with(|left| {
        let n = left.get();
        if n != UNCONSTRAINED && n > 0 {
            left.set(n - 1);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::CountWake;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Waker;

    #[test]
    fn a_spent_budget_yields_once_and_wakes_the_task() {
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
                spend();
            }
            assert_eq!(remaining(), Some(0));
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(count.0.load(Ordering::SeqCst), 1, "the yield wakes");
            // A nested budget is fresh, and the outer one comes back after.
            budget(|| assert!(poll_proceed(&mut cx).is_ready()));
            assert_eq!(remaining(), Some(0));
            without_budget(|| {
                assert_eq!(remaining(), None);
                assert!(poll_proceed(&mut cx).is_ready());
            });
            assert_eq!(remaining(), Some(0));
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
        });
        assert_eq!(remaining(), None);
    }

    #[test]
    fn refill_gives_a_fresh_budget() {
        std::thread::spawn(|| {
            assert_eq!(remaining(), None);
            refill();
            spend();
            assert_eq!(remaining(), Some(BUDGET - 1));
            refill();
            assert_eq!(remaining(), Some(BUDGET));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn nothing_is_counted_outside_a_budget() {
        let waker = Waker::from(Arc::new(CountWake(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        for _ in 0..10 * BUDGET {
            assert!(poll_proceed(&mut cx).is_ready());
            spend();
        }
        assert_eq!(remaining(), None);
    }

    #[test]
    fn a_panicking_poll_restores_the_budget() {
        let r = std::panic::catch_unwind(|| budget(|| panic!("task panicked")));
        assert!(r.is_err());
        assert_eq!(remaining(), None);
    }
}
