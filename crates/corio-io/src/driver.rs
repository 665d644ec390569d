//! The I/O driver: one process-wide thread, "corio-io", owning the poller and
//! the timing wheel.
//!
//! The driver is started lazily by the first registration or timer
//! ([`Driver::get`], a `static OnceLock`) and lives as long as the process.
//! It depends on no executor: all it does is call `Waker::wake`.
//!
//! # One turn of the loop
//!
//! 1. `Poller::wait` with the wheel's next expiration as the deadline.
//! 2. With the source table locked, each event bumps its source's readiness
//!    tick and moves that direction's wakers into the batch (see
//!    `source.rs` for the tick protocol).
//! 3. With the timer lock held, the wheel advances to now, moving expired
//!    wakers into the same batch, and the next deadline is computed and
//!    published as `sleeping_until`.
//! 4. All locks released, the batch is woken. A runtime sees one burst of
//!    wakes per turn from one foreign thread, which corio's scheduler turns
//!    into injector pushes and at most the unparks it needs.
//!
//! # Edge-triggered sources
//!
//! Sources are added once with `PollMode::Edge` for both directions and never
//! modified again, so waiting for readiness costs no system call: a task tries
//! its I/O first and only on `WouldBlock` parks its waker in the source. On
//! Linux (epoll) and the BSDs/macOS (kqueue) edge mode is supported; the
//! driver refuses to register sources on a poller without it.
//!
//! # When `notify()` is called
//!
//! Only when a timer is armed with a deadline earlier than `sleeping_until`,
//! the deadline the driver last chose to sleep until (read and written under
//! the timer lock). The arming thread lowers `sleeping_until` itself, so a
//! burst of earlier timers notifies once per new earliest deadline, not once
//! per timer. A `notify()` that lands between step 3 and step 1 is not lost:
//! the poller keeps it pending and the next `wait` returns at once. Arming a
//! later timer, re-arming a waker, cancelling a timer and registering a
//! waiter on a source never notify.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use polling::{Event, Events, PollMode, Poller};

use crate::source::{Direction, Source};
use crate::wheel::{TimerKey, TimerWheel};

/// Events taken from the poller per turn.
const EVENTS_PER_TURN: usize = 1024;

/// The process-wide driver.
pub(crate) struct Driver {
    poller: Poller,
    /// Registered sources, indexed by poller key.
    sources: Mutex<SourceTable>,
    timers: Mutex<Timers>,
    /// Tick 0 of the wheel; ticks are whole milliseconds since this instant.
    epoch: Instant,
}

/// A slab of registered sources: the poller key is the index.
struct SourceTable {
    slots: Vec<Option<Arc<Source>>>,
    free: Vec<usize>,
}

/// The wheel and the deadline the driver sleeps until.
struct Timers {
    wheel: TimerWheel,
    /// The tick the driver's current (or next) `wait` ends at; `u64::MAX` if
    /// it waits for I/O only.
    sleeping_until: u64,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

impl Driver {
    /// The driver, started on first use.
    ///
    /// # Panics
    ///
    /// If the poller or the thread cannot be created (out of descriptors or
    /// threads at start-up); there is no driver to report errors through.
    pub(crate) fn get() -> &'static Driver {
        let mut started = false;
        let driver = DRIVER.get_or_init(|| {
            started = true;
            Driver {
                poller: Poller::new().expect("corio-io: cannot create the poller"),
                sources: Mutex::new(SourceTable {
                    slots: Vec::new(),
                    free: Vec::new(),
                }),
                timers: Mutex::new(Timers {
                    wheel: TimerWheel::new(),
                    sleeping_until: u64::MAX,
                }),
                epoch: Instant::now(),
            }
        });
        if started {
            std::thread::Builder::new()
                .name("corio-io".into())
                .spawn(move || driver.run())
                .expect("corio-io: cannot spawn the driver thread");
        }
        driver
    }

    /// The driver loop; never returns.
    fn run(&'static self) {
        let mut events =
            Events::with_capacity(NonZeroUsize::new(EVENTS_PER_TURN).expect("non-zero"));
        let mut batch: Vec<Waker> = Vec::new();
        let mut deadline: Option<Instant> = None;
        loop {
            events.clear();
            let res = match deadline {
                Some(d) => self.poller.wait_deadline(&mut events, d),
                None => self.poller.wait(&mut events, None),
            };
            if let Err(e) = res {
                // EINTR is retried inside polling; anything else (EBADF,
                // ENOMEM) is not fixable here. Back off instead of spinning.
                eprintln!("corio-io: poller wait failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }

            // Readiness into the batch.
            if !events.is_empty() {
                let sources = self.sources.lock();
                for ev in events.iter() {
                    // A key may have been freed (or reused) after the event was
                    // queued; the worst that does is a spurious wake.
                    let Some(Some(source)) = sources.slots.get(ev.key) else {
                        continue;
                    };
                    if ev.readable {
                        source.fire(Direction::Read, &mut batch);
                    }
                    if ev.writable {
                        source.fire(Direction::Write, &mut batch);
                    }
                }
            }

            // Expired timers into the batch; choose how long to sleep.
            {
                let mut timers = self.timers.lock();
                let now = self.now_tick();
                timers.wheel.advance(now, &mut batch);
                let next = timers.wheel.next_expiration();
                timers.sleeping_until = next.unwrap_or(u64::MAX);
                deadline = next.and_then(|t| self.tick_instant(t));
            }

            // Wake with no lock held: a woken task may run at once on another
            // thread and come straight back to arm a timer or a source.
            for w in batch.drain(..) {
                // A panicking waker must not take the driver (and with it all
                // I/O and timers of the process) down.
                if std::panic::catch_unwind(AssertUnwindSafe(|| w.wake())).is_err() {
                    eprintln!("corio-io: a waker panicked in wake(); ignored");
                }
            }
        }
    }

    // ---- sources -------------------------------------------------------

    /// Registers `fd` (already non-blocking) for edge-triggered readiness in
    /// both directions.
    ///
    /// The caller must keep `fd` open until [`deregister`](Self::deregister).
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Arc<Source>> {
        if !self.poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "corio-io needs an edge-triggered poller",
            ));
        }
        let source = {
            let mut table = self.sources.lock();
            let key = match table.free.pop() {
                Some(k) => k,
                None => {
                    table.slots.push(None);
                    table.slots.len() - 1
                }
            };
            let source = Arc::new(Source::new(fd, key));
            table.slots[key] = Some(source.clone());
            source
        };
        // SAFETY: the I/O object owning `fd` holds the returned source and
        // calls `deregister` before it closes `fd`, so the poller never holds
        // a descriptor number that was closed and reused.
        let added = unsafe {
            self.poller
                .add_with_mode(fd, Event::all(source.key), PollMode::Edge)
        };
        if let Err(e) = added {
            self.release_key(source.key);
            return Err(e);
        }
        Ok(source)
    }

    /// Removes a source from the poller and the table; wakes its waiters.
    pub(crate) fn deregister(&self, source: &Source) {
        // SAFETY: `source.fd` is still open: deregistration happens before the
        // owning I/O object closes it.
        let fd = unsafe { BorrowedFd::borrow_raw(source.fd) };
        // Failure means the descriptor is already gone from the poller
        // (e.g. it was dup'ed and closed elsewhere); nothing to undo.
        let _ = self.poller.delete(fd);
        self.release_key(source.key);
        source.wake_all();
    }

    fn release_key(&self, key: usize) {
        let mut table = self.sources.lock();
        table.slots[key] = None;
        table.free.push(key);
    }

    /// Number of registered sources.
    pub(crate) fn source_count(&self) -> usize {
        let table = self.sources.lock();
        table.slots.len() - table.free.len()
    }

    // ---- timers --------------------------------------------------------

    /// Milliseconds elapsed since the epoch, rounded down: a tick counts as
    /// reached only once it has fully passed.
    fn now_tick(&self) -> u64 {
        let d = self.epoch.elapsed();
        // In u64 arithmetic: `as_millis` divides a u128.
        d.as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(d.subsec_millis()))
    }

    /// The tick of `deadline`, rounded up, so that the wheel firing at that
    /// tick is never before `deadline`.
    fn deadline_tick(&self, deadline: Instant) -> u64 {
        match deadline.checked_duration_since(self.epoch) {
            None => 0,
            Some(d) => d
                .as_secs()
                .saturating_mul(1000)
                .saturating_add(u64::from(d.subsec_nanos().div_ceil(1_000_000))),
        }
    }

    /// The instant of a tick, if representable.
    fn tick_instant(&self, tick: u64) -> Option<Instant> {
        self.epoch.checked_add(Duration::from_millis(tick))
    }

    /// Arms (or re-arms) the timer of a `Sleep` until `deadline`.
    ///
    /// `Ready` means the wheel has already passed the deadline's tick, so
    /// the deadline is over and the caller completes.
    pub(crate) fn arm_timer(
        &self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) -> Poll<()> {
        let mut timers = self.timers.lock();
        if let Some(k) = *key {
            if timers.wheel.set_waker(k, waker) {
                return Poll::Pending;
            }
        }
        let tick = self.deadline_tick(deadline);
        let Some(k) = timers.wheel.insert(tick, waker.clone()) else {
            *key = None;
            return Poll::Ready(());
        };
        *key = Some(k);
        let notify = tick < timers.sleeping_until;
        if notify {
            timers.sleeping_until = tick;
        }
        drop(timers);
        if notify {
            // Cannot fail on the platforms we support; if it did, the timer
            // would still fire at the driver's next turn.
            let _ = self.poller.notify();
        }
        Poll::Pending
    }

    /// Disarms a timer; a key that already fired is ignored.
    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        self.timers.lock().wheel.remove(key);
    }

    /// Number of armed timers.
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.lock().wheel.len()
    }
}
