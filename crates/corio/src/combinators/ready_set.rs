//! Which children of a combinator are ready to be polled again.
//!
//! `gather(iter)`, `try_gather`, `wait` and `as_completed` drive many child
//! futures inside one parent future. Polling every child on every wake-up
//! costs O(N) per wake and O(N²) for the whole run, so each child gets a waker
//! of its own that records the child's index in a shared ready list before it
//! wakes the parent. The parent then polls only the children listed.
//!
//! Protocol (all of it under one `parking_lot::Mutex`, so no atomics to
//! reason about):
//! - `queued[i]` is true while `i` sits in `ready`; a child woken twice before
//!   the parent runs is listed once.
//! - The parent, in [`ReadySet::drain`], stores its own waker and swaps the
//!   list out, clearing `queued` for every index it takes. A child woken while
//!   it is being polled is therefore listed again and polled again on the next
//!   pass, never lost.
//! - A child's wake wakes the parent only when the list goes from empty to
//!   non-empty: a non-empty list means the parent was already woken since its
//!   last drain and will take the whole list, this index included.

use std::sync::Arc;
use std::task::{Wake, Waker};

use parking_lot::Mutex;

/// Per-child wakers plus the list of children woken since the parent's last
/// drain.
pub(crate) struct ReadySet {
    shared: Arc<Shared>,
    /// `wakers[i]` is the waker handed to child `i` whenever it is polled.
    wakers: Vec<Waker>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    /// Children woken since the parent last drained, each listed once.
    ready: Vec<usize>,
    /// `queued[i]` is true while `i` is in `ready`.
    queued: Vec<bool>,
    /// The parent's waker, taken by the wake that makes `ready` non-empty.
    parent: Option<Waker>,
}

/// The waker of one child: marks index `index` ready.
struct ChildWaker {
    index: usize,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut state = self.shared.state.lock();
            if state.queued[self.index] {
                return;
            }
            state.queued[self.index] = true;
            state.ready.push(self.index);
            if state.ready.len() == 1 {
                state.parent.take()
            } else {
                None
            }
        };
        // Wake outside the lock: the parent's wake may run arbitrary code.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl ReadySet {
    /// A set for `len` children, all of them ready (every child must be
    /// polled once before it can have registered a waker anywhere).
    pub(crate) fn new(len: usize) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: (0..len).collect(),
                queued: vec![true; len],
                parent: None,
            }),
        });
        let wakers = (0..len)
            .map(|index| {
                Waker::from(Arc::new(ChildWaker {
                    index,
                    shared: shared.clone(),
                }))
            })
            .collect();
        ReadySet { shared, wakers }
    }

    /// The waker to poll child `index` with.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }

    /// Registers `parent` to be woken by the next child wake and moves the
    /// indices of every child woken since the last drain into `out` (which is
    /// cleared first). Indices come out in reverse wake order, so callers pop
    /// them from the back to poll in wake order.
    pub(crate) fn drain(&self, parent: &Waker, out: &mut Vec<usize>) {
        out.clear();
        let mut state = self.shared.state.lock();
        match &mut state.parent {
            Some(waker) if waker.will_wake(parent) => {}
            slot => *slot = Some(parent.clone()),
        }
        std::mem::swap(&mut state.ready, out);
        for &index in out.iter() {
            state.queued[index] = false;
        }
        // `ready` was filled in wake order; reverse so `pop()` yields it.
        out.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountWaker(AtomicUsize);
    impl Wake for CountWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn starts_all_ready_in_order_and_dedups_wakes() {
        let count = Arc::new(CountWaker(AtomicUsize::new(0)));
        let parent = Waker::from(count.clone());
        let set = ReadySet::new(3);
        let mut out = Vec::new();
        set.drain(&parent, &mut out);
        assert_eq!(out.iter().rev().copied().collect::<Vec<_>>(), [0, 1, 2]);

        set.waker(2).wake_by_ref();
        set.waker(2).wake_by_ref();
        set.waker(0).wake_by_ref();
        // Only the empty -> non-empty transition wakes the parent.
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        set.drain(&parent, &mut out);
        assert_eq!(out, [0, 2]);
        assert_eq!(out.pop(), Some(2));

        set.drain(&parent, &mut out);
        assert!(out.is_empty());
        set.waker(1).wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }
}
