//! How the driver thread blocks for readiness and how it is woken early.
//!
//! Sources are registered with `polling::Poller` on every platform (see
//! `driver.rs`). The wait itself differs:
//!
//! - **Linux.** `Poller::wait` costs five system calls per turn on epoll:
//!   it re-arms a timerfd (`timerfd_settime` + `epoll_ctl`) for the timeout,
//!   then `epoll_wait`, then drains and re-arms its one-shot eventfd
//!   (`read` + `epoll_ctl`). Under a request/reply load the driver turns once
//!   or twice per request, so that was a third of a server's system calls. The
//!   driver instead calls `epoll_wait` on the poller's own epoll descriptor
//!   with a millisecond timeout (the timing wheel's resolution, rounded up, so
//!   a timer never fires early), and is woken through an eventfd of its own,
//!   registered edge-triggered: every `write` to an eventfd queues a fresh
//!   edge, so it is never read and never re-armed. A turn is one system call.
//!   The poller's own timerfd and eventfd stay registered but are never armed
//!   or written, so they never report.
//!
//!   Sources are added with `epoll_ctl` here too, for the same interest
//!   polling uses (in, out, priority; edge-triggered) plus `EPOLLRDHUP`, so
//!   that an edge says when the peer closed its side: that is what lets a
//!   stream read after a short read skip its system call (`source.rs`)
//!   without missing an end-of-file that came with the last data.
//! - **Elsewhere** (kqueue): `Poller::add_with_mode`, `Poller::wait` and
//!   `Poller::notify` as they are, and no short-read skipping.
//!
//! # Lost wakeups
//!
//! `notify` between the driver's last look at the timers and its next wait
//! is not lost: on Linux the eventfd edge stays queued in the epoll ready
//! list until the next `epoll_wait` returns it; `Poller::notify` likewise
//! keeps a pending notification.

use std::io;
use std::time::Instant;

use polling::Poller;

#[cfg(target_os = "linux")]
pub(crate) use linux::{register, Events, Waiter, REPORTS_READ_CLOSED};
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::{register, Events, Waiter, REPORTS_READ_CLOSED};

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use polling::{Event, PollMode};

    /// The key of the driver's wakeup eventfd: never a source-table index
    /// (polling reserves `usize::MAX` for its own notifier).
    const WAKE_KEY: usize = usize::MAX - 1;

    /// Readiness bits that wake readers: data, a hang-up, an error, or
    /// out-of-band data (the set polling registers for "readable").
    const READ_BITS: u32 =
        (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) as u32;
    /// Readiness bits that wake writers.
    const WRITE_BITS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
    /// Bits that say the read side will not get more data.
    const CLOSED_BITS: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;

    /// Edges report the read side's close (`EPOLLRDHUP`).
    pub(crate) const REPORTS_READ_CLOSED: bool = true;

    /// Adds `fd` to the poller's epoll set, edge-triggered, both directions
    /// and read-side hang-up, under `key`.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until it is deleted from the poller.
    pub(crate) unsafe fn register(poller: &Poller, fd: RawFd, key: usize) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN
                | libc::EPOLLOUT
                | libc::EPOLLPRI
                | libc::EPOLLRDHUP
                | libc::EPOLLET) as u32,
            u64: key as u64,
        };
        // SAFETY: `ev` is a live local the kernel only reads; the caller
        // keeps `fd` open while it is registered.
        let r = unsafe { libc::epoll_ctl(poller.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Events of one turn, as `epoll_wait` wrote them.
    pub(crate) struct Events {
        list: Vec<libc::epoll_event>,
    }

    impl Events {
        pub(crate) fn with_capacity(cap: usize) -> Events {
            Events {
                list: Vec::with_capacity(cap.max(1)),
            }
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.list.is_empty()
        }

        /// `(key, readable, writable, read_closed)` per event.
        pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, bool, bool, bool)> + '_ {
            self.list.iter().map(|ev| {
                // Copies: `epoll_event` is packed on x86-64, so no references
                // into it.
                let bits = ev.events;
                let key = ev.u64 as usize;
                (
                    key,
                    bits & (READ_BITS | CLOSED_BITS) != 0,
                    bits & WRITE_BITS != 0,
                    bits & CLOSED_BITS != 0,
                )
            })
        }
    }

    /// The driver's wakeup eventfd.
    pub(crate) struct Waiter {
        wake: OwnedFd,
    }

    impl Waiter {
        pub(crate) fn new(poller: &Poller) -> io::Result<Waiter> {
            // SAFETY: eventfd takes no pointers; a negative result is an error.
            let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` was just created and is owned by nobody else.
            let wake = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: `wake` lives in the driver, which lives as long as the
            // process and never closes it, so the poller never holds a
            // closed descriptor number.
            unsafe {
                poller.add_with_mode(
                    wake.as_raw_fd(),
                    Event::readable(WAKE_KEY),
                    PollMode::Edge,
                )?;
            }
            Ok(Waiter { wake })
        }

        /// Blocks until readiness, a `notify`, or `deadline` (never returning
        /// before the millisecond `deadline` falls in has begun, and never
        /// sleeping past it by more than the kernel's timer slack).
        pub(crate) fn wait(
            &self,
            poller: &Poller,
            events: &mut Events,
            deadline: Option<Instant>,
        ) -> io::Result<()> {
            events.list.clear();
            let timeout_ms: libc::c_int = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Round up: a timeout that ends before the deadline would
                    // only cost a turn that fires nothing.
                    let ms = left.as_millis() + u128::from(left.subsec_nanos() % 1_000_000 != 0);
                    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
                }
            };
            let cap = libc::c_int::try_from(events.list.capacity()).unwrap_or(libc::c_int::MAX);
            // SAFETY: the buffer has room for `cap` events; the kernel writes
            // at most that many and returns how many it wrote. The epoll
            // descriptor is the poller's, open as long as the poller lives.
            let n = unsafe {
                libc::epoll_wait(
                    poller.as_raw_fd(),
                    events.list.as_mut_ptr(),
                    cap,
                    timeout_ms,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                // A signal: report no events; the loop turns again.
                return if e.kind() == io::ErrorKind::Interrupted {
                    Ok(())
                } else {
                    Err(e)
                };
            }
            // SAFETY: the kernel initialised the first `n` entries (n <= cap).
            unsafe { events.list.set_len(n as usize) };
            Ok(())
        }

        /// Wakes the current or next `wait`.
        pub(crate) fn notify(&self, _poller: &Poller) {
            let one = 1u64.to_ne_bytes();
            loop {
                // SAFETY: writes 8 bytes from a live local buffer.
                let n = unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr().cast(), 8) };
                if n == 8 {
                    return;
                }
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    // The counter is at its maximum (after 2^64 - 2 wakes):
                    // drain it and write again.
                    io::ErrorKind::WouldBlock => {
                        let mut buf = [0u8; 8];
                        // SAFETY: reads at most 8 bytes into a live local buffer.
                        unsafe { libc::read(self.wake.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                    }
                    // Cannot happen on a valid eventfd; the timer then fires
                    // at the driver's next turn instead.
                    _ => return,
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::time::Duration;

        #[test]
        fn notify_before_wait_is_kept_and_consumed() {
            let poller = Poller::new().unwrap();
            let waiter = Waiter::new(&poller).unwrap();
            let mut events = Events::with_capacity(8);
            waiter.notify(&poller);
            let far = Instant::now() + Duration::from_secs(600);
            waiter.wait(&poller, &mut events, Some(far)).unwrap();
            let got: Vec<_> = events.iter().collect();
            assert_eq!(got, vec![(WAKE_KEY, true, false, false)]);
            // The edge was consumed: a zero-timeout wait sees nothing.
            waiter
                .wait(&poller, &mut events, Some(Instant::now()))
                .unwrap();
            assert!(events.is_empty());
            // And a second notify makes a second edge, without any read.
            waiter.notify(&poller);
            waiter.wait(&poller, &mut events, Some(far)).unwrap();
            assert_eq!(events.iter().count(), 1);
        }

        #[test]
        fn timeout_is_not_early() {
            let poller = Poller::new().unwrap();
            let waiter = Waiter::new(&poller).unwrap();
            let mut events = Events::with_capacity(8);
            let deadline = Instant::now() + Duration::from_micros(2_500);
            waiter.wait(&poller, &mut events, Some(deadline)).unwrap();
            assert!(events.is_empty());
            assert!(Instant::now() >= deadline);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod portable {
    use super::*;
    use std::num::NonZeroUsize;

    pub(crate) struct Events {
        inner: polling::Events,
    }

    impl Events {
        pub(crate) fn with_capacity(cap: usize) -> Events {
            Events {
                inner: polling::Events::with_capacity(NonZeroUsize::new(cap.max(1)).expect("≥ 1")),
            }
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// `(key, readable, writable, read_closed)` per event; polling
        /// does not report the read side's close, so the last is `false`.
        pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, bool, bool, bool)> + '_ {
            self.inner
                .iter()
                .map(|ev| (ev.key, ev.readable, ev.writable, false))
        }
    }

    /// polling does not say when the read side closed.
    pub(crate) const REPORTS_READ_CLOSED: bool = false;

    /// Adds `fd` to the poller, edge-triggered, both directions, under `key`.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until it is deleted from the poller.
    pub(crate) unsafe fn register(
        poller: &Poller,
        fd: std::os::fd::RawFd,
        key: usize,
    ) -> io::Result<()> {
        // SAFETY: the caller keeps `fd` open while it is registered.
        unsafe { poller.add_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge) }
    }

    /// `Poller::wait`/`Poller::notify` as they are.
    pub(crate) struct Waiter;

    impl Waiter {
        pub(crate) fn new(_poller: &Poller) -> io::Result<Waiter> {
            Ok(Waiter)
        }

        pub(crate) fn wait(
            &self,
            poller: &Poller,
            events: &mut Events,
            deadline: Option<Instant>,
        ) -> io::Result<()> {
            events.inner.clear();
            match deadline {
                Some(d) => poller.wait_deadline(&mut events.inner, d),
                None => poller.wait(&mut events.inner, None),
            }
            .map(drop)
        }

        pub(crate) fn notify(&self, poller: &Poller) {
            // Cannot fail on the platforms we support; if it did, the timer
            // would still fire at the driver's next turn.
            let _ = poller.notify();
        }
    }
}
