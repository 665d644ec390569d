//! The core every many-children combinator shares: `gather(iter)`,
//! `try_gather`, `wait` and `as_completed` each keep a [`Children`] and
//! differ only in what they do when a child finishes.
//!
//! The children live in one pinned boxed slice of [`MaybeDone`]s, so each
//! is polled in place and keeps its output there until the combinator takes
//! it. A [`ReadySet`] gives every child a waker of its own, so a pass polls
//! only the children woken since the last one: O(woken) per wake-up, not
//! O(N).
//!
//! A pass ([`Children::poll_pass`]) polls first the children left over from
//! a pass that stopped early, then drains the ready set **once** and polls
//! what it took. Once only: a child that wakes itself while polled is polled
//! again on the next pass, after the parent yielded, so a busy child cannot
//! keep the parent inside one poll. The drain also registers the parent's
//! waker, so a pass that returns without finishing leaves the parent to be
//! woken by the next child wake.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::Context;

use super::maybe_done::MaybeDone;
use super::ready_set::ReadySet;

/// The children of one combinator and which of them to poll next.
pub(crate) struct Children<F: Future> {
    slots: Pin<Box<[MaybeDone<F>]>>,
    ready: ReadySet,
    /// Indices drained from `ready` and not polled yet, popped from the back
    /// (a pass that stopped early leaves the rest here).
    woken: Vec<usize>,
    /// Children not finished yet.
    remaining: usize,
}

impl<F: Future> Children<F> {
    /// Children for every future of `futures`, all due for a first poll.
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Self {
        let slots: Box<[_]> = futures.into_iter().map(MaybeDone::new).collect();
        let len = slots.len();
        Children {
            slots: Box::into_pin(slots),
            ready: ReadySet::new(len),
            woken: Vec::new(),
            remaining: len,
        }
    }

    /// How many children there are, finished or not.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// How many children have not finished.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Child `index`, pinned in place.
    pub(crate) fn slot(&mut self, index: usize) -> Pin<&mut MaybeDone<F>> {
        pin_index(self.slots.as_mut(), index)
    }

    /// One pass (see the module header): polls the woken children and calls
    /// `on_done(index, child)` for each one that finishes. Stops as soon as
    /// `on_done` breaks, leaving the rest of the woken for the next pass.
    pub(crate) fn poll_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_done: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut drained = false;
        loop {
            let Some(index) = self.woken.pop() else {
                if drained || self.remaining == 0 {
                    return ControlFlow::Continue(());
                }
                drained = true;
                self.ready.drain(cx.waker(), &mut self.woken);
                continue;
            };
            let mut slot = pin_index(self.slots.as_mut(), index);
            if slot.is_done() {
                continue;
            }
            let mut child_cx = Context::from_waker(self.ready.waker(index));
            if slot.as_mut().poll_done(&mut child_cx).is_ready() {
                self.remaining -= 1;
                on_done(index, slot)?;
            }
        }
    }

    /// Every output not taken yet, in input order.
    pub(crate) fn take_outputs(&mut self) -> impl Iterator<Item = F::Output> + '_ {
        (0..self.len()).filter_map(move |index| self.slot(index).take_output())
    }

    /// Drops every child now, in place (and every output not taken).
    pub(crate) fn clear(&mut self) {
        *self = Children::new(std::iter::empty());
    }

    /// Moves out the children that have not finished, in input order.
    pub(crate) fn take_pending(&mut self) -> Vec<F>
    where
        F: Unpin,
    {
        let slots = Pin::get_mut(self.slots.as_mut());
        let pending: Vec<F> = slots
            .iter_mut()
            .filter_map(MaybeDone::take_pending)
            .collect();
        self.remaining -= pending.len();
        pending
    }
}

/// Pins element `index` of a pinned slice.
fn pin_index<T>(slice: Pin<&mut [T]>, index: usize) -> Pin<&mut T> {
    // SAFETY: the elements of a pinned boxed slice are structurally pinned:
    // `Children` never resizes or reorders its slice, and nothing is moved
    // out of an element except through `MaybeDone`'s own projections (which
    // move outputs, never a pinned future) or `take_pending`, which needs
    // `F: Unpin`.
    unsafe { slice.map_unchecked_mut(|s| &mut s[index]) }
}
