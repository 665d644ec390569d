//! The state under the queue's mutex, and the steps that move items and
//! slots between the store, the getters and the putters (the protocol is in
//! `mod.rs`'s header).

use super::order::sealed::Store;
use crate::waiters::{WaiterList, WakeList};

/// A getter's node.
pub(super) enum Getting<T> {
    Waiting,
    Handed(T),
    ShutDown,
}

/// A putter's node: its item, parked until the putter runs again, and where
/// the putter stands.
pub(super) struct Putting<T> {
    pub(super) item: T,
    pub(super) state: PutState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PutState {
    /// In line.
    Waiting,
    /// Out of line with a slot reserved for it; the item goes in when the
    /// putter runs.
    Admitted,
    /// The queue was shut down: the item goes back to the caller.
    Refused,
}

pub(super) struct State<T, S> {
    pub(super) items: S,
    pub(super) maxsize: usize,
    /// Items handed to getters that have not claimed them yet.
    pub(super) in_flight: usize,
    /// Slots reserved for admitted putters that have not run yet.
    pub(super) reserved: usize,
    pub(super) unfinished: usize,
    pub(super) shut_down: bool,
    pub(super) getters: WaiterList<Getting<T>>,
    pub(super) putters: WaiterList<Putting<T>>,
    /// `true` once released by the unfinished count reaching zero.
    pub(super) joiners: WaiterList<bool>,
}

impl<T, S: Store<T>> State<T, S> {
    pub(super) fn qsize(&self) -> usize {
        self.items.len() + self.in_flight
    }

    /// No slot left for a newcomer: items (stored or in flight) plus slots
    /// reserved for admitted putters fill `maxsize`.
    pub(super) fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() + self.reserved >= self.maxsize
    }

    /// Puts an item that is entering the queue.
    pub(super) fn enqueue(&mut self, item: T, wakes: &mut WakeList) {
        self.unfinished += 1;
        self.hand_out(item, wakes);
    }

    /// Gives an item already counted as unfinished to the first getter, or
    /// stores it.
    pub(super) fn hand_out(&mut self, item: T, wakes: &mut WakeList) {
        match self.getters.pop_front() {
            Some((key, waker)) => {
                *self.getters.data_mut(key) = Getting::Handed(item);
                self.in_flight += 1;
                wakes.push(waker);
            }
            None => self.items.push(item),
        }
    }

    /// Reserves free slots for putters in line, first come first served, and
    /// wakes them; each puts its item when it runs (or passes the slot on if
    /// dropped first).
    pub(super) fn admit_putters(&mut self, wakes: &mut WakeList) {
        while !self.putters.is_empty() && !self.full() {
            let Some((key, waker)) = self.putters.pop_front() else {
                break;
            };
            let node = self.putters.data_mut(key);
            debug_assert!(node.state == PutState::Waiting);
            node.state = PutState::Admitted;
            self.reserved += 1;
            wakes.push(waker);
        }
    }

    pub(super) fn try_put(&mut self, item: T, wakes: &mut WakeList) -> Result<(), (T, bool)> {
        if self.shut_down {
            return Err((item, true));
        }
        if self.full() || !self.putters.is_empty() {
            return Err((item, false));
        }
        self.enqueue(item, wakes);
        Ok(())
    }

    pub(super) fn try_get(&mut self, wakes: &mut WakeList) -> Result<T, bool> {
        match self.items.pop() {
            Some(item) => {
                self.admit_putters(wakes);
                Ok(item)
            }
            None => Err(self.shut_down),
        }
    }

    pub(super) fn release_joiners(&mut self, wakes: &mut WakeList) {
        while let Some((key, waker)) = self.joiners.pop_front() {
            *self.joiners.data_mut(key) = true;
            wakes.push(waker);
        }
    }
}

impl<T, S: Store<T>> State<T, S> {
    /// An item a vanished getter was handed: to the next getter, or back to
    /// the front of the store.
    pub(super) fn hand_out_returned(&mut self, item: T, wakes: &mut WakeList) {
        if self.getters.is_empty() {
            self.items.push_returned(item);
        } else {
            self.hand_out(item, wakes);
        }
    }
}
