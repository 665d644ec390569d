//! Blocking work that corio-io must not do on the caller's thread: today,
//! resolving a host name (`getaddrinfo` blocks for as long as DNS takes).
//!
//! corio-io has no thread pool of its own and depends on no executor, so
//! the executor lends it one: a runtime installs a [`Spawner`] once with
//! [`set_spawner`], and corio-io hands each job to it. corio's runtime
//! installs one that runs the job on *the current runtime's* blocking pool
//! (`spawn_blocking`) and declines when the calling thread belongs to no
//! runtime. A declined job (or every job, when no spawner is installed, as
//! under another executor or a bare `block_on`) runs on a plain thread of
//! its own, so a lookup never blocks the thread that awaits it.
//!
//! The result comes back through a one-shot slot: the job stores it and
//! wakes the awaiting task. If the job is dropped without running (a
//! runtime that shuts down drops its queued blocking work), the slot says
//! so and the awaiter gets an error instead of waiting forever. If the
//! awaiter is dropped first, the job still runs to the end (a running
//! `getaddrinfo` cannot be stopped) and its result is dropped.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// A unit of blocking work.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Runs a [`Job`] on some thread pool, or gives it back (`Err`) to decline
/// it (the job then gets a thread of its own).
pub type Spawner = fn(Job) -> Result<(), Job>;

static SPAWNER: OnceLock<Spawner> = OnceLock::new();

/// Installs the process-wide [`Spawner`]; the first one installed stays.
/// Returns whether `spawner` is the one in place.
///
/// ```
/// fn inline_never(job: corio_io::blocking::Job) -> Result<(), corio_io::blocking::Job> {
///     Err(job) // decline everything: each job gets its own thread
/// }
/// let _ = corio_io::blocking::set_spawner(inline_never);
/// ```
pub fn set_spawner(spawner: Spawner) -> bool {
    // Function pointers are compared by address; the same function
    // installed twice (by two runtimes) counts as in place.
    std::ptr::fn_addr_eq(*SPAWNER.get_or_init(|| spawner), spawner)
}

/// Runs `f` off the calling thread (on the installed [`Spawner`]'s pool, or
/// a thread of its own) and resolves to its result.
///
/// Fails only if no thread could be started for it, or if the pool dropped
/// the job without running it (its runtime shut down).
pub(crate) fn unblock<F, R>(f: F) -> Unblock<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot::Waiting(None)));
    let sender = Sender(slot.clone());
    let job: Job = Box::new(move || sender.send(f()));
    let job = match SPAWNER.get() {
        Some(spawn) => spawn(job).err(),
        None => Some(job),
    };
    let mut failed = None;
    if let Some(job) = job {
        if let Err(e) = std::thread::Builder::new()
            .name("corio-io-blocking".into())
            .spawn(job)
        {
            failed = Some(e);
        }
    }
    Unblock { slot, failed }
}

/// Where a job's result waits for its awaiter.
enum Slot<R> {
    /// Not done; the awaiter's waker, once it has polled.
    Waiting(Option<Waker>),
    Done(R),
    /// The job was dropped without a result.
    Dropped,
    /// The awaiter took the result (or the error).
    Taken,
}

/// The job's end of the slot: stores the result, or on drop without one,
/// records that the job is gone. Either way the awaiter is woken.
struct Sender<R>(Arc<Mutex<Slot<R>>>);

impl<R> Sender<R> {
    fn send(self, value: R) {
        self.finish(Slot::Done(value));
    }

    fn finish(&self, end: Slot<R>) {
        let mut slot = self.0.lock();
        if let Slot::Waiting(waker) = &mut *slot {
            let waker = waker.take();
            *slot = end;
            drop(slot);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<R> Drop for Sender<R> {
    fn drop(&mut self) {
        // After `send` the slot is no longer `Waiting` and this does nothing.
        self.finish(Slot::Dropped);
    }
}

/// The future returned by [`unblock`].
pub(crate) struct Unblock<R> {
    slot: Arc<Mutex<Slot<R>>>,
    /// The job could not be started.
    failed: Option<io::Error>,
}

impl<R> Future for Unblock<R> {
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        if let Some(e) = this.failed.take() {
            return Poll::Ready(Err(e));
        }
        let mut slot = this.slot.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Waiting(mut waker) => {
                match &mut waker {
                    Some(w) => w.clone_from(cx.waker()),
                    None => waker = Some(cx.waker().clone()),
                }
                *slot = Slot::Waiting(waker);
                Poll::Pending
            }
            Slot::Done(value) => Poll::Ready(Ok(value)),
            Slot::Dropped => Poll::Ready(Err(io::Error::other(
                "corio-io: blocking work was dropped before it ran (its runtime shut down)",
            ))),
            Slot::Taken => panic!("Unblock polled after completion"),
        }
    }
}

impl<R> fmt::Debug for Unblock<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unblock").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;

    #[test]
    fn the_result_comes_back() {
        let here = std::thread::current().id();
        let (v, there) = block_on(unblock(|| (6 * 7, std::thread::current().id()))).unwrap();
        assert_eq!(v, 42);
        assert_ne!(there, here, "the job ran on the awaiting thread");
    }

    #[test]
    fn a_job_dropped_unrun_is_an_error_not_a_hang() {
        let slot = Arc::new(Mutex::new(Slot::Waiting(None)));
        let sender: Sender<u32> = Sender(slot.clone());
        let fut = Unblock { slot, failed: None };
        drop(sender);
        let err = block_on(fut).unwrap_err();
        assert!(err.to_string().contains("dropped"), "{err}");
    }
}
