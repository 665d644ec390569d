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

use std::time::Duration;

use crate::loom::{
    fence, lock, wait, wait_timeout, AtomicBool, AtomicU64, Condvar, Mutex, Ordering,
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

    /// Wakes the backup thread (or makes its next sleep return at once).
    pub fn wake_backup(&self) {
        *lock(&self.woken) = true;
        self.cv.notify_one();
    }

    /// The backup thread: returns once the turn has been free, with no turn
    /// ended by anyone, for a whole `grace`, or as soon as `promised()` (some
    /// thread promises to take turns) is false.
    ///
    /// While the turn is held it naps: `grace` first, doubling up to
    /// `max_nap` while turns keep ending (workers are polling; nobody has to
    /// wake it). Only when a whole nap passes with the turn held and no turn
    /// ended (an idle worker blocked in the poll) does it sleep until the
    /// turn is given back, so an idle process has no periodic wakeups.
    pub fn backup_wait(&self, promised: impl Fn() -> bool, grace: Duration, max_nap: Duration) {
        // Relaxed loads of `turns`: see `end_turn`.
        let mut last = self.turns.load(Ordering::Relaxed);
        let mut nap = grace;
        loop {
            if !promised() {
                return;
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
                return;
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

impl Default for TurnGate {
    fn default() -> TurnGate {
        TurnGate::new()
    }
}
