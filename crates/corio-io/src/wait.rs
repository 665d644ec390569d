//! The poller: the set of registered descriptors, the wait for their
//! readiness, and the wakeup that ends a wait early.
//!
//! The driver (`driver.rs`) talks to one [`Poller`] with five calls: `add` a
//! descriptor under a key, `delete` it, `wait` for events until a deadline,
//! `notify` to end a wait, and [`Events::iter`] to read what a wait
//! returned. Two backends implement them:
//!
//! - **Linux: epoll, owned here.** The poller owns its epoll descriptor and
//!   one eventfd, and nothing else is in the epoll set: every descriptor it
//!   waits on is one it created or one the driver registered. A wait is one
//!   `epoll_wait` with a millisecond timeout (the timing wheel's resolution,
//!   rounded up, so a timer never fires early). The eventfd is registered
//!   edge-triggered: every `write` to an eventfd queues a fresh edge, so it is
//!   never read and never re-armed, and `notify` is one `write`. Sources are
//!   added edge-triggered for both directions plus `EPOLLRDHUP`, so that an
//!   edge says when the peer closed its side: that is what lets a stream read
//!   after a short read skip its system call (`source.rs`) without missing an
//!   end-of-file that came with the last data.
//!
//!   Why not `polling` here too: on epoll its `wait` costs five system calls
//!   (it re-arms a timerfd for the timeout, waits, then drains and re-arms
//!   its notifier), a third of a request/reply server's calls. Waiting on
//!   polling's epoll descriptor directly would be one call, but that set
//!   holds polling's own timerfd and notifier, whose behaviour is polling's
//!   private business. So corio owns the whole set instead.
//! - **Elsewhere (kqueue on the BSDs and macOS): `polling`.**
//!   `Poller::add_with_mode` (edge), `Poller::wait_deadline` and
//!   `Poller::notify` as they are. polling does not report the read side's
//!   close, so there stream reads never skip ([`REPORTS_READ_CLOSED`]).
//!
//! # Lost wakeups
//!
//! A `notify` between the driver's last look at the timers and its next wait
//! is not lost: on Linux the eventfd's edge stays in the epoll ready list
//! until the next `epoll_wait` returns it; `polling::Poller::notify` likewise
//! keeps a pending notification.
//!
//! # Keys
//!
//! A key is whatever the driver chose at `add` (`source_table.rs` puts a
//! generation in it). [`WAKE_KEY`] is reserved for the wakeup and never
//! handed out as a source key.

use std::io;
use std::time::Instant;

#[cfg(target_os = "linux")]
pub(crate) use epoll::{Events, Poller, REPORTS_READ_CLOSED};
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::{Events, Poller, REPORTS_READ_CLOSED};

/// The key that is not a source: the poller's own wakeup (Linux) and
/// polling's notifier (elsewhere) report under it, if at all.
pub(crate) const WAKE_KEY: usize = usize::MAX;

/// One readiness report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// The key the descriptor was added under.
    pub(crate) key: usize,
    /// Readers should retry: data, a hang-up, an error, or the read side
    /// closed.
    pub(crate) readable: bool,
    /// Writers should retry: room, a hang-up or an error.
    pub(crate) writable: bool,
    /// The read side will get no more data (the peer's FIN, a hang-up or
    /// an error). Always `false` where [`REPORTS_READ_CLOSED`] is `false`.
    pub(crate) read_closed: bool,
}

#[cfg(target_os = "linux")]
mod epoll {
    use super::*;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

    /// Readiness bits that wake readers: data, a hang-up, an error, or
    /// out-of-band data.
    const READ_BITS: u32 =
        (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) as u32;
    /// Readiness bits that wake writers.
    const WRITE_BITS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;
    /// Bits that say the read side will not get more data.
    const CLOSED_BITS: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
    /// The interest every source is added with: both directions, priority
    /// data, the read side's close, edge-triggered.
    const SOURCE_INTEREST: u32 =
        (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

    /// Edges report the read side's close (`EPOLLRDHUP`).
    pub(crate) const REPORTS_READ_CLOSED: bool = true;

    /// An epoll set and its wakeup eventfd, both owned here.
    #[derive(Debug)]
    pub(crate) struct Poller {
        epoll: OwnedFd,
        wake: OwnedFd,
    }

    /// Turns a `-1` result of a libc call into the OS error.
    fn check(r: libc::c_int) -> io::Result<libc::c_int> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// The timeout of a wait that ends at `deadline`, in whole
    /// milliseconds, rounded up (a timeout that ends before the deadline
    /// would only cost a turn that fires nothing); `-1` (forever) without a
    /// deadline.
    fn timeout_ms(deadline: Option<Instant>) -> libc::c_int {
        match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let ms = left.as_millis() + u128::from(left.subsec_nanos() % 1_000_000 != 0);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        }
    }

    impl Poller {
        /// A new epoll set holding only its own wakeup eventfd.
        pub(crate) fn new() -> io::Result<Poller> {
            // SAFETY: epoll_create1 takes no pointers; the result is checked.
            let epoll = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
            // SAFETY: `epoll` was just created and is owned by nobody else.
            let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
            // SAFETY: eventfd takes no pointers; the result is checked.
            let wake = check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
            // SAFETY: `wake` was just created and is owned by nobody else.
            let wake = unsafe { OwnedFd::from_raw_fd(wake) };
            let poller = Poller { epoll, wake };
            // SAFETY: the eventfd lives in the poller and is closed only when
            // the poller (and with it the epoll set) is.
            unsafe {
                poller.ctl(
                    libc::EPOLL_CTL_ADD,
                    poller.wake.as_raw_fd(),
                    (libc::EPOLLIN | libc::EPOLLET) as u32,
                    WAKE_KEY,
                )?
            };
            Ok(poller)
        }

        /// Edge-triggered registration is always available on epoll.
        pub(crate) fn supports_edge(&self) -> bool {
            true
        }

        /// # Safety
        ///
        /// `fd` must be open, and if it is added, stay open until deleted.
        unsafe fn ctl(
            &self,
            op: libc::c_int,
            fd: RawFd,
            events: u32,
            key: usize,
        ) -> io::Result<()> {
            let mut ev = libc::epoll_event {
                events,
                u64: key as u64,
            };
            // SAFETY: `ev` is a live local the kernel only reads; the caller
            // vouches for `fd`.
            check(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) })?;
            Ok(())
        }

        /// Adds `fd` under `key`: edge-triggered, both directions and the
        /// read side's close.
        ///
        /// # Safety
        ///
        /// `fd` must stay open until it is [deleted](Self::delete): once
        /// closed, its number may name another descriptor that this set
        /// would then watch under `key`.
        pub(crate) unsafe fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
            debug_assert_ne!(key, WAKE_KEY, "WAKE_KEY is reserved");
            // SAFETY: `fd` is open (borrowed); the caller keeps it open until
            // it is deleted.
            unsafe { self.ctl(libc::EPOLL_CTL_ADD, fd.as_raw_fd(), SOURCE_INTEREST, key) }
        }

        /// Removes `fd` from the set.
        pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
            // SAFETY: `fd` is open (borrowed); deleting never keeps it.
            unsafe { self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0) }
        }

        /// Blocks until readiness, a [`notify`](Self::notify), or `deadline`
        /// (never returning before the millisecond `deadline` falls in has
        /// begun, nor sleeping past it by more than the kernel's timer
        /// slack). `EINTR` returns with no events.
        pub(crate) fn wait(
            &self,
            events: &mut Events,
            deadline: Option<Instant>,
        ) -> io::Result<()> {
            events.list.clear();
            let cap = libc::c_int::try_from(events.list.capacity()).unwrap_or(libc::c_int::MAX);
            // SAFETY: the buffer has room for `cap` events; the kernel writes
            // at most that many and returns how many it wrote. The epoll
            // descriptor is ours and open.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.list.as_mut_ptr(),
                    cap,
                    timeout_ms(deadline),
                )
            };
            match check(n) {
                Ok(n) => {
                    // SAFETY: the kernel initialised the first `n` entries
                    // (0 <= n <= cap).
                    unsafe { events.list.set_len(n as usize) };
                    Ok(())
                }
                // A signal: report no events; the driver turns again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                Err(e) => Err(e),
            }
        }

        /// Wakes the current or next [`wait`](Self::wait).
        pub(crate) fn notify(&self) {
            let one = 1u64.to_ne_bytes();
            loop {
                // SAFETY: writes 8 bytes from a live local buffer to our
                // eventfd.
                let n = unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr().cast(), 8) };
                if n == 8 {
                    return;
                }
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    // The counter is at its maximum (after 2^64 - 2 writes):
                    // drain it and write again.
                    io::ErrorKind::WouldBlock => {
                        let mut buf = [0u8; 8];
                        // SAFETY: reads at most 8 bytes into a live local
                        // buffer from our eventfd.
                        unsafe { libc::read(self.wake.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                    }
                    // Cannot happen on a valid eventfd; a timer then fires
                    // at the driver's next turn instead.
                    _ => return,
                }
            }
        }

        /// The epoll descriptor, for tests that inspect the set.
        #[cfg(test)]
        pub(crate) fn epoll_fd(&self) -> RawFd {
            self.epoll.as_raw_fd()
        }
    }

    /// Events of one wait, as `epoll_wait` wrote them.
    pub(crate) struct Events {
        list: Vec<libc::epoll_event>,
    }

    impl std::fmt::Debug for Events {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_list().entries(self.iter()).finish()
        }
    }

    impl Events {
        /// Room for `cap` events per wait (at least one).
        pub(crate) fn with_capacity(cap: usize) -> Events {
            Events {
                list: Vec::with_capacity(cap.max(1)),
            }
        }

        /// Whether the last wait returned nothing.
        pub(crate) fn is_empty(&self) -> bool {
            self.list.is_empty()
        }

        /// The events of the last wait.
        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            self.list.iter().map(|ev| {
                // Copies: `epoll_event` is packed on x86-64, so no references
                // into it.
                let bits = ev.events;
                let key = ev.u64 as usize;
                Event {
                    key,
                    readable: bits & (READ_BITS | CLOSED_BITS) != 0,
                    writable: bits & WRITE_BITS != 0,
                    read_closed: bits & CLOSED_BITS != 0,
                }
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::io::Write;
        use std::os::fd::AsFd;
        use std::time::Duration;

        fn far() -> Option<Instant> {
            Some(Instant::now() + Duration::from_secs(600))
        }

        #[test]
        fn notify_before_wait_is_kept_and_consumed() {
            let poller = Poller::new().unwrap();
            let mut events = Events::with_capacity(8);
            poller.notify();
            poller.wait(&mut events, far()).unwrap();
            let got: Vec<_> = events.iter().map(|e| e.key).collect();
            assert_eq!(got, vec![WAKE_KEY]);
            // The edge was consumed: a zero-timeout wait sees nothing.
            poller.wait(&mut events, Some(Instant::now())).unwrap();
            assert!(events.is_empty());
            // And a second notify makes a second edge, without any read.
            poller.notify();
            poller.wait(&mut events, far()).unwrap();
            assert_eq!(events.iter().count(), 1);
        }

        #[test]
        fn timeout_is_not_early() {
            let poller = Poller::new().unwrap();
            let mut events = Events::with_capacity(8);
            let deadline = Instant::now() + Duration::from_micros(2_500);
            poller.wait(&mut events, Some(deadline)).unwrap();
            assert!(events.is_empty());
            assert!(Instant::now() >= deadline);
        }

        /// The descriptors in an epoll set, from `/proc/self/fdinfo`.
        fn watched(poller: &Poller) -> Vec<RawFd> {
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", poller.epoll_fd()))
                .unwrap();
            info.lines()
                .filter_map(|l| l.strip_prefix("tfd:"))
                .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
                .collect()
        }

        #[test]
        fn the_set_holds_only_what_we_own() {
            // The wait path must not depend on descriptors owned by someone
            // else (polling's timerfd and notifier were in the set we waited
            // on): a fresh poller watches its own eventfd and nothing else.
            let poller = Poller::new().unwrap();
            assert_eq!(watched(&poller), vec![poller.wake.as_raw_fd()]);
            let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
            // SAFETY: `a` outlives its registration (deleted below).
            unsafe { poller.add(a.as_fd(), 7).unwrap() };
            let mut set = watched(&poller);
            set.sort_unstable();
            let mut want = vec![poller.wake.as_raw_fd(), a.as_raw_fd()];
            want.sort_unstable();
            assert_eq!(set, want);
            poller.delete(a.as_fd()).unwrap();
            assert_eq!(watched(&poller), vec![poller.wake.as_raw_fd()]);
        }

        #[test]
        fn a_source_reports_both_directions_and_the_peers_close() {
            let poller = Poller::new().unwrap();
            let mut events = Events::with_capacity(8);
            let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
            a.set_nonblocking(true).unwrap();
            // SAFETY: `a` outlives its registration (deleted below).
            unsafe { poller.add(a.as_fd(), 3).unwrap() };
            // Writable at once (edge on add).
            poller.wait(&mut events, far()).unwrap();
            let ev: Vec<_> = events.iter().collect();
            assert_eq!(ev.len(), 1);
            assert!(ev[0].writable && !ev[0].readable && !ev[0].read_closed);
            assert_eq!(ev[0].key, 3);
            // Data: a read edge.
            b.write_all(b"x").unwrap();
            poller.wait(&mut events, far()).unwrap();
            let ev: Vec<_> = events.iter().collect();
            assert!(ev[0].readable && !ev[0].read_closed);
            // Edge-triggered: no new edge without new data.
            poller.wait(&mut events, Some(Instant::now())).unwrap();
            assert!(events.is_empty());
            // The peer closes: an edge that says so.
            drop(b);
            poller.wait(&mut events, far()).unwrap();
            let ev: Vec<_> = events.iter().collect();
            assert!(ev[0].readable && ev[0].read_closed);
            poller.delete(a.as_fd()).unwrap();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod portable {
    use super::*;
    use std::num::NonZeroUsize;
    use std::os::fd::{AsRawFd, BorrowedFd};

    /// polling does not say when the read side closed.
    pub(crate) const REPORTS_READ_CLOSED: bool = false;

    /// A `polling::Poller`, used as it is.
    #[derive(Debug)]
    pub(crate) struct Poller {
        inner: polling::Poller,
    }

    impl Poller {
        /// A new poller.
        pub(crate) fn new() -> io::Result<Poller> {
            Ok(Poller {
                inner: polling::Poller::new()?,
            })
        }

        /// Whether the OS poller supports edge-triggered registration.
        pub(crate) fn supports_edge(&self) -> bool {
            self.inner.supports_edge()
        }

        /// Adds `fd` under `key`: edge-triggered, both directions.
        ///
        /// # Safety
        ///
        /// `fd` must stay open until it is [deleted](Self::delete).
        pub(crate) unsafe fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
            debug_assert_ne!(key, WAKE_KEY, "WAKE_KEY is reserved");
            // SAFETY: the caller keeps `fd` open until it is deleted.
            unsafe {
                self.inner.add_with_mode(
                    fd.as_raw_fd(),
                    polling::Event::all(key),
                    polling::PollMode::Edge,
                )
            }
        }

        /// Removes `fd` from the poller.
        pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
            self.inner.delete(fd)
        }

        /// Blocks until readiness, a [`notify`](Self::notify), or `deadline`.
        pub(crate) fn wait(
            &self,
            events: &mut Events,
            deadline: Option<Instant>,
        ) -> io::Result<()> {
            events.inner.clear();
            match deadline {
                Some(d) => self.inner.wait_deadline(&mut events.inner, d),
                None => self.inner.wait(&mut events.inner, None),
            }
            .map(drop)
        }

        /// Wakes the current or next [`wait`](Self::wait).
        pub(crate) fn notify(&self) {
            // Cannot fail on the platforms we support; if it did, a timer
            // would still fire at the driver's next turn.
            let _ = self.inner.notify();
        }
    }

    /// Events of one wait.
    #[derive(Debug)]
    pub(crate) struct Events {
        inner: polling::Events,
    }

    impl Events {
        /// Room for `cap` events per wait (at least one).
        pub(crate) fn with_capacity(cap: usize) -> Events {
            Events {
                inner: polling::Events::with_capacity(NonZeroUsize::new(cap.max(1)).expect("≥ 1")),
            }
        }

        /// Whether the last wait returned nothing.
        pub(crate) fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// The events of the last wait; `read_closed` is always `false`.
        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            self.inner.iter().map(|ev| Event {
                key: ev.key,
                readable: ev.readable,
                writable: ev.writable,
                read_closed: false,
            })
        }
    }
}
