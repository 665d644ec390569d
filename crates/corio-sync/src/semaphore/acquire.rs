//! The acquire futures: each holds its place in line (an
//! [`AcquireWait`]) and gives back, when dropped, whatever it was handed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{AcquireWait, BoundedSemaphore, Closed, OwnedPermit, Permit, Semaphore};

/// Future of [`Semaphore::acquire`] / [`Semaphore::acquire_many`].
///
/// Dropping it before it completes gives back anything it was handed.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) wait: AcquireWait,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.sem
            .poll_acquire(&mut this.wait, cx)
            .map_ok(|()| Permit {
                sem: this.sem,
                n: this.wait.n,
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.sem.cancel_acquire(key);
        }
    }
}

/// An owning handle on a plain or bounded semaphore.
#[derive(Debug, Clone)]
pub(super) enum OwnedSem {
    Plain(Arc<Semaphore>),
    Bounded(Arc<BoundedSemaphore>),
}

impl OwnedSem {
    pub(super) fn raw(&self) -> &Semaphore {
        match self {
            OwnedSem::Plain(s) => s,
            OwnedSem::Bounded(b) => &b.sem,
        }
    }
}

/// Future of [`Semaphore::acquire_owned`] / [`BoundedSemaphore::acquire_owned`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct AcquireOwned {
    pub(super) sem: OwnedSem,
    pub(super) wait: AcquireWait,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedPermit, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.sem
            .raw()
            .poll_acquire(&mut this.wait, cx)
            .map_ok(|()| OwnedPermit {
                sem: this.sem.clone(),
                n: this.wait.n,
            })
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(key) = self.wait.take_key() {
            self.sem.raw().cancel_acquire(key);
        }
    }
}
