//! The driver's *turn*: who may poll, and the backup thread's sleep.
//!
//! One thread at a time holds the turn: it blocks in (or works through) a
//! poll and collects what is ready. The "corio-io" thread takes it when
//! nobody else does; a runtime's idle worker takes it instead of sleeping on
//! its condvar (see `park.rs`), so that readiness wakes the thread that will
//! run the woken tasks.
//!
//! # The backup protocol
//!
//! While some thread has promised to take turns when idle, the corio-io
//! thread is only the backup and must not hold the turn, or the idle workers
//! would find it taken and the hop they save would come back:
//!
//! - it takes the turn only after it sat unused, and no turn ended, for a
//!   whole grace period (every worker busy: someone must still poll);
//! - while other threads hold the turn and keep ending turns, it naps off
//!   the poller (1 ms doubling up to 8 ms), so a busy server does not pay a
//!   wakeup per turn for it; the price is that when every worker becomes
//!   stuck at once, I/O waits up to one nap plus the grace period;
//! - when a nap passes with the turn held and no turn ended (an idle worker
//!   blocked in the poll), it sleeps until that thread ends its turn.
//!
//! The last point is the lost-wakeup hazard. The backup stores
//! `backup_sleeping = true` and then re-reads `held`; the holder stores
//! `held = false` and then reads `backup_sleeping`. Each side puts a SeqCst
//! fence between its store and its load, so in the total order of the two
//! fences at least one of the two loads comes after the other side's store
//! and sees it: either the backup sees the turn free and does not sleep,
//! or the holder sees the backup asleep and wakes it. The wake is a flag
//! under a mutex, so one that comes before the sleep is kept. The loom model
//! `loom-tests/tests/turn.rs` checks this, and fails under
//! `--cfg corio_mutant_backup_sleep`, where `end_turn` forgets the wake.
//!
//! # Waiting for the turn
//!
//! An idle thread that would poll but finds the turn held (or finds no
//! driver yet) sleeps off the poller, and would never try again: a worker
//! that parked while the backup thread held the turn, or before a program's
//! first socket started the driver, left every wakeup to the backup's
//! grace period (about half a millisecond per round trip for a `block_on`
//! main future). So such a thread *registers* ([`TurnGate::wait_for_turn`])
//! with a `Waker`, and the turn is *offered* to one registered thread
//! ([`TurnGate::offer_turn`]) whenever it is left free by a holder that is
//! not coming back soon:
//!
//! - the backup thread, after its own turn, and instead of taking a turn
//!   while a registered thread could;
//! - a busy worker after its non-blocking look;
//! - the driver, when it starts.
//!
//! A worker that ends a *blocking* turn with tasks to run does not offer:
//! it comes back to the turn as soon as it is idle, and waking another
//! thread on every readiness event would cost a futex wake per request. If
//! it stays away (a long poll), the backup thread finds the turn unused and
//! offers it.
//!
//! The hazard is again a lost wakeup: a thread registers just as the holder
//! leaves. The registrant pushes itself and bumps `waiting`, then SeqCst
//! fence, then tries the turn again; the leaver stores `held = false`, then
//! SeqCst fence, then reads `waiting`. As above, one of the two sees the
//! other: the registrant gets the turn itself, or the leaver sees it waiting
//! and offers. An offer pops the registration and wakes its waker once; a
//! registrant that got the turn (or work) anyway withdraws, and if its
//! registration was already popped, passes the offer on. The loom models
//! `turn::offered_turn_*` check this, and fail under
//! `--cfg corio_mutant_no_offer`, where a leaver forgets to offer.

use std::task::Waker;
use std::time::Duration;

use crate::loom::{
    fence, lock, lock_list, wait, wait_timeout, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex,
    Ordering,
};

/// The turn and the backup thread's sleep.
#[derive(Debug)]
pub struct TurnGate {
    /// Someone holds the turn.
    held: AtomicBool,
    /// Turns ended so far, by anyone.
    turns: AtomicU64,
    /// The backup thread sleeps until the turn is given back.
    backup_sleeping: AtomicBool,
    /// The backup thread's sleep: a remembered wake under a mutex.
    woken: Mutex<bool>,
    cv: Condvar,
    /// Registered threads waiting to be offered the turn (`waiters.len()`,
    /// readable without the lock).
    waiting: AtomicUsize,
    /// `(id, waker)` of each registered thread, oldest first.
    waiters: Mutex<Vec<(usize, Waker)>>,
}

impl TurnGate {
    /// A free turn.
    pub fn new() -> TurnGate {
        TurnGate {
            held: AtomicBool::new(false),
            turns: AtomicU64::new(0),
            backup_sleeping: AtomicBool::new(false),
            woken: Mutex::new(false),
            cv: Condvar::new(),
            waiting: AtomicUsize::new(0),
            waiters: Mutex::new(Vec::new()),
        }
    }

    /// Takes the turn if nobody holds it.
    pub fn try_turn(&self) -> bool {
        // Relaxed pre-check keeps a held turn's cache line shared. Acquire
        // on success: what the previous holder wrote before its Release (or
        // SeqCst) store of `false` is visible to us.
        !self.held.load(Ordering::Relaxed)
            && self
                .held
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Whether some thread holds the turn.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }

    /// Gives the turn back; wakes the backup thread if it waits for that.
    pub fn end_turn(&self) {
        // Relaxed: `turns` is a progress hint for the backup's grace period;
        // a late increment only costs it one more period.
        self.turns.fetch_add(1, Ordering::Relaxed);
        // Store, SeqCst fence, load: see "The backup protocol".
        self.held.store(false, Ordering::Release);
        fence(Ordering::SeqCst);
        #[cfg(not(corio_mutant_backup_sleep))]
        if self.backup_sleeping.load(Ordering::Relaxed) {
            self.wake_backup();
        }
    }

    /// Gives the turn back and, if a thread waits for it, offers it: for a
    /// holder that will not come back soon (see "Waiting for the turn").
    pub fn end_turn_and_offer(&self) {
        self.end_turn();
        // `end_turn` stored `held = false` and fenced; this read is the
        // leaver's half of the registration protocol.
        #[cfg(not(corio_mutant_no_offer))]
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.offer_turn();
        }
    }

    /// Registers thread `id` to be offered the turn: `offer` is woken once
    /// when a leaving holder hands it over. The caller must try the turn
    /// again afterwards (it may have been given back meanwhile), and call
    /// [`TurnGate::withdraw`] once it no longer waits.
    pub fn wait_for_turn(&self, id: usize, offer: &Waker) {
        let mut waiters = lock_list(&self.waiters);
        if let Some(w) = waiters.iter_mut().find(|(i, _)| *i == id) {
            w.1.clone_from(offer);
        } else {
            waiters.push((id, offer.clone()));
            self.waiting.fetch_add(1, Ordering::SeqCst);
        }
        drop(waiters);
        // Order the registration before the caller's second try of the turn
        // (see "Waiting for the turn").
        fence(Ordering::SeqCst);
    }

    /// Takes thread `id` off the waiting list. `false` if it was not on it:
    /// an offer already popped it (its waker is woken, or about to be); a
    /// caller that will not take the turn then passes the offer on
    /// ([`TurnGate::offer_turn`]).
    pub fn withdraw(&self, id: usize) -> bool {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let mut waiters = lock_list(&self.waiters);
        match waiters.iter().position(|(i, _)| *i == id) {
            Some(pos) => {
                waiters.remove(pos);
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Offers the turn to the longest-waiting registered thread, if any:
    /// pops it and wakes its waker. `true` if one was woken.
    pub fn offer_turn(&self) -> bool {
        let mut waiters = lock_list(&self.waiters);
        if waiters.is_empty() {
            return false;
        }
        let (_, waker) = waiters.remove(0);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        drop(waiters);
        waker.wake();
        true
    }

    /// Whether some thread waits to be offered the turn.
    pub fn has_waiters(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// Wakes the backup thread (or makes its next sleep return at once).
    pub fn wake_backup(&self) {
        *lock(&self.woken) = true;
        self.cv.notify_one();
    }

    /// The backup thread: returns once the turn has been free, with no turn
    /// ended by anyone, for a whole `grace` ([`BackupCall::Unused`]: the
    /// caller offers it to a waiting thread, or polls), or as soon as
    /// `promised()` (some thread promises to take turns) is false
    /// ([`BackupCall::Alone`]). A turn that is free only for a moment (a
    /// worker between two polls) is not handed over: that would wake a
    /// sleeping worker for nothing.
    ///
    /// While the turn is held it naps: `grace` first, doubling up to
    /// `max_nap` while turns keep ending (workers are polling; nobody has to
    /// wake it). Only when a whole nap passes with the turn held and no turn
    /// ended (an idle worker blocked in the poll) does it sleep until the
    /// turn is given back, so an idle process has no periodic wakeups.
    pub fn backup_wait(
        &self,
        promised: impl Fn() -> bool,
        grace: Duration,
        max_nap: Duration,
    ) -> BackupCall {
        // Relaxed loads of `turns`: see `end_turn`.
        let mut last = self.turns.load(Ordering::Relaxed);
        let mut nap = grace;
        loop {
            if !promised() {
                return BackupCall::Alone;
            }
            if self.held.load(Ordering::SeqCst) {
                self.sleep(Some(nap));
                let now = self.turns.load(Ordering::Relaxed);
                if now != last {
                    last = now;
                    nap = (nap * 2).min(max_nap);
                    continue;
                }
                self.backup_sleeping.store(true, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if self.held.load(Ordering::Relaxed) {
                    self.sleep(None);
                }
                self.backup_sleeping.store(false, Ordering::SeqCst);
                nap = grace;
                last = self.turns.load(Ordering::Relaxed);
                continue;
            }
            let seen = self.turns.load(Ordering::Relaxed);
            self.sleep(Some(grace));
            let now = self.turns.load(Ordering::Relaxed);
            if now == seen && !self.held.load(Ordering::SeqCst) {
                return BackupCall::Unused;
            }
            last = now;
        }
    }

    fn sleep(&self, timeout: Option<Duration>) {
        let mut woken = lock(&self.woken);
        match timeout {
            Some(t) => {
                if !*woken {
                    wait_timeout(&self.cv, &mut woken, t);
                }
            }
            None => {
                while !*woken {
                    wait(&self.cv, &mut woken);
                }
            }
        }
        *woken = false;
    }
}

/// Why [`TurnGate::backup_wait`] returned: what the backup thread does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupCall {
    /// Nobody promises to take turns: the backup polls on its own.
    Alone,
    /// The turn sat free and unused for the grace period: every thread
    /// that takes turns is busy. Offer it to a waiting thread, or poll.
    Unused,
}

impl Default for TurnGate {
    fn default() -> TurnGate {
        TurnGate::new()
    }
}
