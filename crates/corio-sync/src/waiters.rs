//! `WaiterList`: the FIFO of parked futures every primitive keeps under its
//! mutex, and `WakeList`: the wakers collected under that mutex and woken
//! after it is released.
//!
//! # Protocol
//!
//! A waiter's node lives in a slab (`Vec` of slots plus a free list) and is
//! threaded on an intrusive doubly linked list in arrival order, so pushing,
//! popping the head and unlinking from the middle are all O(1) and, once the
//! slab has grown to the high-water mark of concurrent waiters, no wait
//! allocates.
//!
//! A node has two owners in turn, and the split is what makes cancellation
//! safe:
//!
//! 1. The **future** that pushed it owns the slot: it holds the [`Key`] and is
//!    the only one that ever frees it ([`WaiterList::remove`]), either when it
//!    completes or in its `Drop`. Because nobody else frees a slot, a key can
//!    never point at a slot reused by someone else (no generation counter is
//!    needed).
//! 2. The **primitive** owns the node's *place in line*: a releaser pops the
//!    head ([`WaiterList::pop_front`]), writes the outcome (a lock, permits, an
//!    item, a notification) into the node's data, and takes its waker. The
//!    node stays allocated, unlinked, until its future comes back for it.
//!
//! A future dropped while its node is still linked simply unlinks it: no trace
//! is left. A future dropped after its node was popped finds the outcome in
//! the data and hands it on (each primitive decides how). All of this happens
//! under the primitive's mutex; wakers are invoked only after it is released,
//! so a waker that re-enters the primitive cannot deadlock.

use std::task::Waker;

/// Index of a waiter's slot; owned by exactly one future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(u32);

/// End-of-list marker for `prev` / `next` / the free list.
const NIL: u32 = u32::MAX;

/// A slab grown past this many slots is released once it empties again, so a
/// one-off burst of waiters does not pin its memory for the primitive's life.
/// Below it, the slab is kept for reuse (no allocation per wait).
const SHRINK_ABOVE: usize = 1024;

#[derive(Debug)]
enum Slot<D> {
    Vacant { next_free: u32 },
    Occupied(Node<D>),
}

#[derive(Debug)]
struct Node<D> {
    prev: u32,
    next: u32,
    linked: bool,
    waker: Option<Waker>,
    data: D,
}

/// FIFO of waiters; see the module docs for who owns what.
#[derive(Debug)]
pub(crate) struct WaiterList<D> {
    slots: Vec<Slot<D>>,
    free: u32,
    head: u32,
    tail: u32,
    linked: usize,
    occupied: usize,
}

impl<D> WaiterList<D> {
    pub(crate) const fn new() -> Self {
        WaiterList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            linked: 0,
            occupied: 0,
        }
    }

    /// Number of waiters still in line.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// True when nobody is in line.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    fn node(&self, i: u32) -> &Node<D> {
        match &self.slots[i as usize] {
            Slot::Occupied(n) => n,
            Slot::Vacant { .. } => unreachable!("waiter key points at a vacant slot"),
        }
    }

    fn node_mut(&mut self, i: u32) -> &mut Node<D> {
        match &mut self.slots[i as usize] {
            Slot::Occupied(n) => n,
            Slot::Vacant { .. } => unreachable!("waiter key points at a vacant slot"),
        }
    }

    /// Joins the back of the line.
    pub(crate) fn push_back(&mut self, data: D, waker: Waker) -> Key {
        let node = Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waker: Some(waker),
            data,
        };
        let i = if self.free != NIL {
            let i = self.free;
            match self.slots[i as usize] {
                Slot::Vacant { next_free } => self.free = next_free,
                Slot::Occupied(_) => unreachable!("free list points at an occupied slot"),
            }
            self.slots[i as usize] = Slot::Occupied(node);
            i
        } else {
            let i = u32::try_from(self.slots.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("too many waiters");
            self.slots.push(Slot::Occupied(node));
            i
        };
        if self.tail != NIL {
            let tail = self.tail;
            self.node_mut(tail).next = i;
        } else {
            self.head = i;
        }
        self.tail = i;
        self.linked += 1;
        self.occupied += 1;
        Key(i)
    }

    /// The waiter at the head of the line, if any.
    #[inline]
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(Key(self.head))
    }

    /// Takes the head out of line (its slot stays allocated for its future)
    /// and returns it with its waker.
    pub(crate) fn pop_front(&mut self) -> Option<(Key, Option<Waker>)> {
        let key = self.front()?;
        self.unlink(key);
        let waker = self.node_mut(key.0).waker.take();
        Some((key, waker))
    }

    /// Takes a waiter out of line if it is still in it.
    pub(crate) fn unlink(&mut self, key: Key) {
        let node = self.node_mut(key.0);
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        node.prev = NIL;
        node.next = NIL;
        if prev != NIL {
            self.node_mut(prev).next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.node_mut(next).prev = prev;
        } else {
            self.tail = prev;
        }
        self.linked -= 1;
    }

    /// True while the waiter is still in line (not yet popped).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.node(key.0).linked
    }

    /// The waiter's data.
    #[inline]
    pub(crate) fn data(&self, key: Key) -> &D {
        &self.node(key.0).data
    }

    /// The waiter's data, mutably.
    #[inline]
    pub(crate) fn data_mut(&mut self, key: Key) -> &mut D {
        &mut self.node_mut(key.0).data
    }

    /// Stores the waker of the latest poll, cloning only when it changed.
    pub(crate) fn set_waker(&mut self, key: Key, waker: &Waker) {
        let slot = &mut self.node_mut(key.0).waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Frees the slot (unlinking it first if needed) and returns its data.
    /// Only the future that owns `key` may call this.
    pub(crate) fn remove(&mut self, key: Key) -> D {
        self.unlink(key);
        let slot = std::mem::replace(
            &mut self.slots[key.0 as usize],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = key.0;
        self.occupied -= 1;
        if self.occupied == 0 && self.slots.len() > SHRINK_ABOVE {
            // No key is outstanding and nothing is linked: start afresh.
            self.slots = Vec::new();
            self.free = NIL;
        }
        match slot {
            Slot::Occupied(node) => node.data,
            Slot::Vacant { .. } => unreachable!("waiter removed twice"),
        }
    }

    /// Every allocated node's data, in line or not (used by queue shutdown to
    /// reclaim items already handed to getters).
    pub(crate) fn for_each_data_mut(&mut self, mut f: impl FnMut(&mut D)) {
        for slot in &mut self.slots {
            if let Slot::Occupied(node) = slot {
                f(&mut node.data);
            }
        }
    }
}

/// Wakers collected under a primitive's mutex, woken after it is released.
///
/// One hand-off wakes one waiter, so the first waker is kept inline and only a
/// broadcast (`set`, `notify_all`, `close`, a barrier tripping) allocates.
/// Kept small on purpose: it is built and moved on every release.
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    #[inline]
    pub(crate) fn new() -> WakeList {
        WakeList {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker (a `None` from an already-taken slot is ignored).
    #[inline]
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes everything collected. Call with no lock held.
    #[inline]
    pub(crate) fn wake_all(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        for w in self.rest {
            w.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn fifo_unlink_and_reuse() {
        let mut l = WaiterList::new();
        let a = l.push_back(1, noop());
        let b = l.push_back(2, noop());
        let c = l.push_back(3, noop());
        l.unlink(b);
        assert_eq!(l.len(), 2);
        assert_eq!(l.pop_front().map(|(k, _)| k), Some(a));
        assert!(!l.is_linked(a));
        assert_eq!(l.remove(a), 1);
        assert_eq!(l.remove(b), 2);
        let d = l.push_back(4, noop());
        assert!(d == a || d == b, "slot reused");
        assert_eq!(l.front(), Some(c));
        assert_eq!(l.pop_front().map(|(k, _)| k), Some(c));
        assert_eq!(l.pop_front().map(|(k, _)| k), Some(d));
        assert!(l.is_empty());
        assert_eq!(l.remove(c), 3);
        assert_eq!(l.remove(d), 4);
    }

    #[test]
    fn burst_is_released_once_empty() {
        let mut l = WaiterList::new();
        let keys: Vec<_> = (0..SHRINK_ABOVE + 1)
            .map(|i| l.push_back(i, noop()))
            .collect();
        for k in keys {
            l.unlink(k);
            l.remove(k);
        }
        assert!(l.is_empty());
        assert_eq!(l.slots.capacity(), 0);
        let k = l.push_back(7, noop());
        assert_eq!(l.pop_front().map(|(k, _)| k), Some(k));
        assert_eq!(l.remove(k), 7);
    }
}
