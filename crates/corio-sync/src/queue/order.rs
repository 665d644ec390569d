//! The three orders a queue can serve its items in: [`Fifo`], [`Lifo`] and
//! [`Priority`] (asyncio overrides `_put`/`_get`; here the store is a type
//! parameter). The trait is sealed: a store only needs `push`, `pop`,
//! `push_returned` (for an item handed to a getter that was then dropped),
//! `len` and `drain`, and nothing outside this crate implements it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

pub(crate) mod sealed {
    /// How a queue stores its items; sealed.
    pub trait Store<T> {
        fn new() -> Self;
        fn push(&mut self, item: T);
        fn pop(&mut self) -> Option<T>;
        /// An item that was popped and handed to a getter that vanished goes
        /// back to be served next, ahead of items put after it.
        fn push_returned(&mut self, item: T);
        fn len(&self) -> usize;
        fn drain(&mut self) -> Vec<T>;
    }
}

/// The order a [`BaseQueue`](crate::BaseQueue) serves items in: [`Fifo`],
/// [`Lifo`] or [`Priority`]. Sealed.
pub trait QueueOrder<T>: sealed::Store<T> {}

/// First in, first out: [`Queue`](crate::Queue).
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: [`LifoQueue`](crate::LifoQueue).
pub struct Lifo<T>(VecDeque<T>);

/// Smallest first (by `Ord`): [`PriorityQueue`](crate::PriorityQueue).
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> sealed::Store<T> for Fifo<T> {
    fn new() -> Self {
        Fifo(VecDeque::new())
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn push_returned(&mut self, item: T) {
        self.0.push_front(item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T> sealed::Store<T> for Lifo<T> {
    fn new() -> Self {
        Lifo(VecDeque::new())
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_back()
    }
    fn push_returned(&mut self, item: T) {
        // It was the newest when it was handed out: behind anything newer.
        self.0.push_back(item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T: Ord> sealed::Store<T> for Priority<T> {
    fn new() -> Self {
        Priority(BinaryHeap::new())
    }
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item))
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(x)| x)
    }
    fn push_returned(&mut self, item: T) {
        self.push(item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain(&mut self) -> Vec<T> {
        self.0.drain().map(|Reverse(x)| x).collect()
    }
}

impl<T> QueueOrder<T> for Fifo<T> {}
impl<T> QueueOrder<T> for Lifo<T> {}
impl<T: Ord> QueueOrder<T> for Priority<T> {}

impl<T> fmt::Debug for Fifo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fifo")
    }
}

impl<T> fmt::Debug for Lifo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lifo")
    }
}

impl<T> fmt::Debug for Priority<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Priority")
    }
}
