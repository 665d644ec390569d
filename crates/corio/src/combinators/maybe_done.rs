//! A child future that keeps its output once it has finished.
//!
//! `gather!` and `gather(iter)` poll children in place and hand out every
//! output at the end, in argument order; each child lives in a `MaybeDone`
//! until then.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future, then its output, then nothing once the output was taken.
///
/// Pinning: only the `Pending` future is structurally pinned. The output is
/// never exposed behind a `Pin`, so moving it out in [`MaybeDone::take_output`]
/// is sound.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Pending(F),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Taken,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> Self {
        MaybeDone::Pending(future)
    }

    /// Polls the future if it still runs; `Ready` once it has finished (also
    /// after its output was taken).
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the `Pending` future is never moved: we only poll it through
        // this pin, and it is dropped in place by `set` below.
        let future = match unsafe { self.as_mut().get_unchecked_mut() } {
            MaybeDone::Pending(future) => unsafe { Pin::new_unchecked(future) },
            MaybeDone::Done(_) | MaybeDone::Taken => return Poll::Ready(()),
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                self.set(MaybeDone::Done(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Whether the future has finished (its output may already be taken).
    pub fn is_done(&self) -> bool {
        !matches!(self, MaybeDone::Pending(_))
    }

    /// Moves the output out, if the future finished and nobody took it yet.
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        if !matches!(&*self, MaybeDone::Done(_)) {
            return None;
        }
        // SAFETY: we are in the `Done` state, which pins nothing (see the type
        // docs), so replacing the value moves no pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Taken) {
            MaybeDone::Done(output) => Some(output),
            _ => unreachable!("checked to be Done above"),
        }
    }
}

/// Pins element `index` of a pinned slice.
pub(crate) fn pin_index<T>(slice: Pin<&mut [T]>, index: usize) -> Pin<&mut T> {
    // SAFETY: the elements of a pinned slice are structurally pinned: the
    // slice is never resized or reordered by its users here (they are
    // `Pin<Box<[T]>>`s) and no element is moved out through this reference.
    unsafe { slice.map_unchecked_mut(|s| &mut s[index]) }
}
