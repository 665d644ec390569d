//! A child future that keeps its output once it has finished.
//!
//! `gather!` and the combinators over many children ([`super::children`])
//! poll children in place and hand the outputs out later; each child lives
//! in a `MaybeDone` until then.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// A future, then its output, then nothing once the output was taken.
    ///
    /// Only the `Pending` future is structurally pinned; the output is never
    /// pinned, so it may be moved out (`take_output`). pin-project-lite
    /// writes the projections, so this file holds no `unsafe`.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneOwn]
    pub enum MaybeDone<F: Future> {
        /// Still running.
        Pending { #[pin] future: F },
        /// Finished; the output waits to be taken.
        Done { output: F::Output },
        /// The output was taken.
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> Self {
        MaybeDone::Pending { future }
    }

    /// Polls the future if it still runs; `Ready` once it has finished (also
    /// after its output was taken).
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Pending { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
            MaybeDoneProj::Done { .. } | MaybeDoneProj::Taken => return Poll::Ready(()),
        };
        // Drops the finished future in place, then keeps its output.
        self.project_replace(MaybeDone::Done { output });
        Poll::Ready(())
    }

    /// Whether the future has finished (its output may already be taken).
    pub fn is_done(&self) -> bool {
        !matches!(self, MaybeDone::Pending { .. })
    }

    /// The output, if the future finished and nobody took it yet.
    pub fn output(&self) -> Option<&F::Output> {
        match self {
            MaybeDone::Done { output } => Some(output),
            _ => None,
        }
    }

    /// Moves the output out, if the future finished and nobody took it yet.
    pub fn take_output(mut self: Pin<&mut Self>) -> Option<F::Output> {
        if !matches!(self.as_mut().project(), MaybeDoneProj::Done { .. }) {
            return None;
        }
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneOwn::Done { output } => Some(output),
            _ => unreachable!("checked to be Done above"),
        }
    }

    /// Moves the future out while it still runs (it was never pinned in
    /// place, as it is `Unpin`); `wait` hands the pending futures back.
    pub(crate) fn take_pending(&mut self) -> Option<F>
    where
        F: Unpin,
    {
        match std::mem::replace(self, MaybeDone::Taken) {
            MaybeDone::Pending { future } => Some(future),
            other => {
                *self = other;
                None
            }
        }
    }
}
