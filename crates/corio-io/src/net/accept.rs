//! Surviving `accept` errors that no retry can fix right away.
//!
//! When a process runs out of descriptors (`EMFILE`, `ENFILE`) or kernel
//! memory (`ENOBUFS`, `ENOMEM`), the pending connection stays in the backlog
//! and every new `accept(2)` fails at once. A server loop that logs the error
//! and accepts again would spin at 100% CPU. So the listener returns the
//! error to the caller (to log, or to shed load), and the next accept first
//! pauses for [`ACCEPT_PAUSE`] before trying again. Other errors
//! (`ECONNABORTED`, ...) consume the failed connection and need no pause.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use std::os::fd::AsFd;

use super::Async;
use crate::time::{sleep_until, Sleep};

/// How long accepting pauses after running out of descriptors or memory.
/// Long enough that a logging accept loop stays idle (20 attempts per
/// second), short enough to resume quickly once descriptors are freed.
pub(crate) const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// A listener's pause state, shared by every accept on it.
#[derive(Debug, Default)]
pub(crate) struct AcceptThrottle {
    /// Fast-path flag: is `until` set? Checked on every accept.
    paused: AtomicBool,
    until: Mutex<Option<Instant>>,
}

impl AcceptThrottle {
    /// One accept attempt on `listener`, shared by the TCP and Unix
    /// listeners: waits out a pause in force, accepts without blocking, and
    /// starts a pause on an error that a retry cannot fix right away.
    pub(crate) fn poll_accept<L, S, A>(
        &self,
        listener: &Async<L>,
        pause: &mut Option<Sleep>,
        cx: &mut Context<'_>,
        accept: impl FnMut(&L) -> io::Result<(S, A)>,
    ) -> Poll<io::Result<(S, A)>>
    where
        L: AsFd,
    {
        if self.poll_pause(pause, cx).is_pending() {
            return Poll::Pending;
        }
        let res = std::task::ready!(listener.poll_read_with(cx, accept));
        if let Err(e) = &res {
            self.on_error(e);
        }
        Poll::Ready(res)
    }

    /// Waits out a pause, if one is in force. `slot` holds the caller's
    /// timer between polls.
    pub(crate) fn poll_pause(&self, slot: &mut Option<Sleep>, cx: &mut Context<'_>) -> Poll<()> {
        if slot.is_none() {
            // Relaxed: the flag is advisory. Missing a just-set pause costs one
            // more failing accept, which sets it again.
            if !self.paused.load(Ordering::Relaxed) {
                return Poll::Ready(());
            }
            let mut until = self.until.lock();
            match *until {
                Some(t) if Instant::now() < t => *slot = Some(sleep_until(t)),
                _ => {
                    *until = None;
                    // Relaxed: `until`, the real state, is under the lock.
                    self.paused.store(false, Ordering::Relaxed);
                    return Poll::Ready(());
                }
            }
        }
        let sleep = slot.as_mut().expect("set above");
        if Pin::new(sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        *slot = None;
        Poll::Ready(())
    }

    /// Records an accept error; starts a pause if it is resource exhaustion.
    pub(crate) fn on_error(&self, e: &io::Error) {
        let exhausted = matches!(
            e.raw_os_error(),
            Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)
        );
        if exhausted {
            *self.until.lock() = Some(Instant::now() + ACCEPT_PAUSE);
            // Relaxed: an accept that misses the flag only fails once more.
            self.paused.store(true, Ordering::Relaxed);
        }
    }
}
