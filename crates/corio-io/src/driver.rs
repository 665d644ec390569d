//! The I/O driver: the process-wide poller and timing wheel, and the
//! "corio-io" thread that polls them when no one else does.
//!
//! The driver is started lazily by the first registration or timer
//! ([`Driver::get`], a `static OnceLock`) and lives as long as the process.
//! It depends on no executor: all it does is call `Waker::wake`.
//!
//! # A turn
//!
//! One thread at a time holds the *turn* (`turn.rs`) and runs
//! [`Driver::turn`]:
//!
//! 1. A blocking turn only: with the timer lock held, the wheel advances to
//!    now (expired wakers into the batch); if nothing expired, the next
//!    deadline is published as `sleeping_until` and becomes the poll's
//!    timeout. A non-blocking turn polls with a zero timeout at once.
//! 2. The poll (`wait.rs`), blocking or not.
//! 3. With the source table locked, each event bumps its source's readiness
//!    tick and moves that direction's wakers into the batch (see `source.rs`
//!    for the tick protocol); an event whose key was freed since the wait
//!    is dropped (`source_table.rs`).
//! 4. The wheel advances again; `sleeping_until` is cleared, since nobody
//!    waits any more.
//!
//! The turn is then given back and, with no lock held, the batch is woken.
//!
//! # Who takes turns
//!
//! The corio-io thread, always, under any executor: its wakes come from a
//! foreign thread, which corio's scheduler turns into injector pushes and at
//! most the unparks it needs. But a corio runtime's idle worker takes the
//! turn too, instead of sleeping on its condvar (`park.rs` here, `Parker` in
//! corio-rt): readiness then wakes the worker that will run the woken tasks,
//! and they go to its own queue. While such workers exist the corio-io
//! thread is only the backup: it polls when the turn has sat unused for
//! [`BACKUP_GRACE`] (every worker busy) and otherwise sleeps off the poller.
//! Under a request/reply load this removes a thread hop, two context
//! switches and a futex wake per turn.
//!
//! # Edge-triggered sources
//!
//! Sources are added once, edge-triggered, for both directions and never
//! modified again, so waiting for readiness costs no system call: a task tries
//! its I/O first and only on `WouldBlock` parks its waker in the source. On
//! Linux (corio's own epoll backend) and the BSDs/macOS (kqueue, through
//! `polling`) edge mode is supported; the driver refuses to register sources
//! on a poller without it.
//!
//! # When `notify()` is called
//!
//! Only when a timer is armed with a deadline earlier than `sleeping_until`,
//! the deadline the turn's holder chose to sleep until (read and written
//! under the timer lock). The arming thread lowers `sleeping_until` itself,
//! so a burst of earlier timers notifies once per new earliest deadline, not
//! once per timer. A `notify()` that lands between step 1 and the poll is not
//! lost: it stays pending and the poll returns at once. Arming a later timer,
//! re-arming a waker, cancelling a timer and registering a waiter on a source
//! never notify; nor does anything while nobody polls (`sleeping_until` is
//! 0), since the next turn reads the wheel first. A runtime also notifies to
//! unpark a worker that sleeps in the turn (`park::unpark`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::source::Source;
use crate::source_table::SourceTable;
use crate::turn::{BackupCall, TurnGate};
use crate::wait;
use crate::wheel::{TimerKey, TimerWheel};

/// Events taken from the poller per turn.
pub(crate) const EVENTS_PER_TURN: usize = 1024;

/// How long the turn must sit unused before the backup thread takes it.
const BACKUP_GRACE: Duration = Duration::from_millis(1);

/// The backup thread's longest nap while workers take turns (`turn.rs`).
const BACKUP_MAX_NAP: Duration = Duration::from_millis(8);

/// The process-wide driver.
pub(crate) struct Driver {
    /// The registered descriptors, the wait and its wakeup (`wait.rs`).
    poller: wait::Poller,
    /// Registered sources by poller key (`source_table.rs`).
    sources: Mutex<SourceTable>,
    timers: Mutex<Timers>,
    /// Tick 0 of the wheel; ticks are whole milliseconds since this instant.
    epoch: Instant,
    /// Who polls: the driver thread or an idle worker (see `turn.rs`).
    gate: &'static TurnGate,
}

/// The wheel and the deadline the driver sleeps until.
struct Timers {
    wheel: TimerWheel,
    /// The tick the driver's current (or next) `wait` ends at; `u64::MAX` if
    /// it waits for I/O only.
    sleeping_until: u64,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

/// The turn, which exists before the driver does: a worker that parks
/// before the first socket or timer starts the driver registers here to be
/// offered the turn once it does (`turn.rs`, "Waiting for the turn").
pub(crate) fn gate() -> &'static TurnGate {
    static GATE: OnceLock<TurnGate> = OnceLock::new();
    GATE.get_or_init(TurnGate::new)
}

/// Threads that promise to take turns when idle (runtime workers); while
/// there are any, the driver thread is only the backup.
static POLLERS: AtomicUsize = AtomicUsize::new(0);

/// Turns the corio-io thread took, since the process started.
static BACKUP_TURNS: AtomicU64 = AtomicU64::new(0);

/// Turns the corio-io thread (the backup) took since the process started.
pub(crate) fn backup_turns() -> u64 {
    BACKUP_TURNS.load(Ordering::Relaxed)
}

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
            let poller = wait::Poller::new().expect("corio-io: cannot create the poller");
            Driver {
                poller,
                sources: Mutex::new(SourceTable::new()),
                timers: Mutex::new(Timers {
                    wheel: TimerWheel::new(),
                    sleeping_until: u64::MAX,
                }),
                epoch: Instant::now(),
                gate: gate(),
            }
        });
        if started {
            std::thread::Builder::new()
                .name("corio-io".into())
                .spawn(move || driver.run())
                .expect("corio-io: cannot spawn the driver thread");
            // A worker that parked before the driver existed registered for
            // the turn; hand it over. The fence orders the driver's
            // publication (above) before the read of the waiting count, as
            // a registrant orders its registration before looking for the
            // driver (`park.rs`).
            std::sync::atomic::fence(Ordering::SeqCst);
            if driver.gate.has_waiters() {
                driver.gate.offer_turn();
            }
        }
        driver
    }

    /// The driver thread's loop; never returns.
    ///
    /// While some thread has promised to poll ([`Driver::add_poller`]), the
    /// driver thread is only the backup: it takes a turn once the turn has
    /// sat unused for [`BACKUP_GRACE`], and sleeps (off the poller) while
    /// another thread holds it. See "Turns" in the module header.
    fn run(&'static self) {
        let mut events = wait::Events::with_capacity(EVENTS_PER_TURN);
        let mut batch: Vec<Waker> = Vec::new();
        loop {
            if POLLERS.load(Ordering::SeqCst) > 0 {
                let call = self.gate.backup_wait(
                    || POLLERS.load(Ordering::SeqCst) > 0,
                    BACKUP_GRACE,
                    BACKUP_MAX_NAP,
                );
                // An idle worker sleeps off the unused turn: it polls instead
                // of us, and runs what it wakes without a hop through us.
                if call == BackupCall::Unused && self.gate.offer_turn() {
                    continue;
                }
            }
            if !self.try_turn() {
                continue;
            }
            // Relaxed: a statistic.
            BACKUP_TURNS.fetch_add(1, Ordering::Relaxed);
            self.turn(&mut events, &mut batch, true);
            // We are the backup: leave the turn to a worker that waits.
            self.gate.end_turn_and_offer();
            wake_batch(&mut batch);
        }
    }

    /// Takes the turn if nobody holds it.
    pub(crate) fn try_turn(&self) -> bool {
        self.gate.try_turn()
    }

    /// Gives the turn back; with `offer`, hands it to a thread that waits
    /// for it (the holder is not coming back soon).
    pub(crate) fn end_turn(&self, offer: bool) {
        if offer {
            self.gate.end_turn_and_offer();
        } else {
            self.gate.end_turn();
        }
    }

    /// One turn, by the holder of the turn: expired timers and readiness
    /// into `batch`. Blocks (if `block` and nothing expired) until
    /// readiness, the next timer deadline, or [`Driver::notify`].
    pub(crate) fn turn(&self, events: &mut wait::Events, batch: &mut Vec<Waker>, block: bool) {
        // A blocking turn looks at the timers first: what expired decides
        // whether to block at all, and the next deadline is the timeout. A
        // non-blocking one (a busy worker's look) only needs the advance
        // after the poll, below: one timer lock, not two.
        let deadline = if block {
            let mut timers = self.timers.lock();
            let now = self.now_tick();
            timers.wheel.advance(now, batch);
            if batch.is_empty() {
                let next = timers.wheel.next_expiration();
                // From here on an earlier timer notifies (`arm_timer`).
                timers.sleeping_until = next.unwrap_or(u64::MAX);
                next.and_then(|t| self.tick_instant(t))
            } else {
                Some(self.epoch)
            }
        } else {
            Some(self.epoch)
        };
        if let Err(e) = self.poller.wait(events, deadline) {
            // EINTR is retried by the waiter; anything else (EBADF,
            // ENOMEM) is not fixable here. Back off instead of spinning.
            eprintln!("corio-io: poller wait failed: {e}");
            std::thread::sleep(Duration::from_millis(10));
        }

        // Readiness into the batch. An event for a key freed (or freed and
        // reused) since the wait is dropped by the table.
        if !events.is_empty() {
            self.sources.lock().dispatch(events.iter(), batch);
        }

        // Timers that expired while we waited. Nobody waits any more, so no
        // arming needs to notify until the next turn reads the wheel.
        let mut timers = self.timers.lock();
        let now = self.now_tick();
        timers.wheel.advance(now, batch);
        timers.sleeping_until = 0;
    }

    /// Wakes the thread blocked in a turn (or makes the next turn return at
    /// once).
    pub(crate) fn notify(&self) {
        self.poller.notify();
    }

    /// Counts a thread that will take turns when idle (a runtime worker).
    pub(crate) fn add_poller() {
        POLLERS.fetch_add(1, Ordering::SeqCst);
    }

    /// Undoes [`Driver::add_poller`]; the backup thread takes over again.
    pub(crate) fn remove_poller() {
        if POLLERS.fetch_sub(1, Ordering::SeqCst) == 1 {
            if let Some(d) = DRIVER.get() {
                d.gate.wake_backup();
            }
        }
    }

    /// The driver if it has been started.
    pub(crate) fn try_get() -> Option<&'static Driver> {
        DRIVER.get()
    }

    // ---- sources -------------------------------------------------------

    /// Registers `fd` (already non-blocking) for edge-triggered readiness in
    /// both directions.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until it is [deregistered](Self::deregister):
    /// the poller would otherwise watch whatever descriptor reuses its
    /// number, and `deregister` would remove that one's registration.
    pub(crate) unsafe fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        if !self.poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "corio-io needs an edge-triggered poller",
            ));
        }
        // Into the table first, so that every event the poller reports for
        // the new key finds its source.
        let source = self.sources.lock().insert(fd.as_raw_fd())?;
        // SAFETY: the caller keeps `fd` open until `deregister`.
        if let Err(e) = unsafe { self.poller.add(fd, source.key) } {
            self.sources.lock().remove(source.key);
            return Err(e);
        }
        Ok(source)
    }

    /// Removes a source from the poller and the table; wakes its waiters.
    pub(crate) fn deregister(&self, source: &Source) {
        // SAFETY: `source.fd` is still open: `register`'s caller promised to
        // deregister before it closes the descriptor.
        let fd = unsafe { BorrowedFd::borrow_raw(source.fd) };
        // Failure means the descriptor is already gone from the poller
        // (e.g. it was dup'ed and closed elsewhere); nothing to undo.
        let _ = self.poller.delete(fd);
        self.sources.lock().remove(source.key);
        source.wake_all();
    }

    /// Number of registered sources.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.lock().len()
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
            self.notify();
        }
        Poll::Pending
    }

    /// Disarms a timer; a key that already fired is ignored.
    /// Moves an armed timer to `deadline`, keeping the waker it was armed
    /// with, so its owner need not be polled again to re-arm it. Returns the
    /// new key, or `None` (after waking the owner) when `deadline` has
    /// already passed or the entry had already fired.
    pub(crate) fn reset_timer(&self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let mut timers = self.timers.lock();
        // A stale key means the timer fired: its owner was woken already.
        let waker = timers.wheel.take(key)?;
        let tick = self.deadline_tick(deadline);
        let Some(k) = timers.wheel.insert(tick, waker.clone()) else {
            drop(timers);
            waker.wake();
            return None;
        };
        let notify = tick < timers.sleeping_until;
        if notify {
            timers.sleeping_until = tick;
        }
        drop(timers);
        if notify {
            self.notify();
        }
        Some(k)
    }

    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        self.timers.lock().wheel.remove(key);
    }

    /// Number of armed timers.
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.lock().wheel.len()
    }
}

/// Wakes a batch with no lock held: a woken task may run at once on another
/// thread and come straight back to arm a timer or a source.
pub(crate) fn wake_batch(batch: &mut Vec<Waker>) {
    for w in batch.drain(..) {
        // A panicking waker must not take the driver (and with it all I/O
        // and timers of the process) down.
        if std::panic::catch_unwind(AssertUnwindSafe(|| w.wake())).is_err() {
            eprintln!("corio-io: a waker panicked in wake(); ignored");
        }
    }
}
