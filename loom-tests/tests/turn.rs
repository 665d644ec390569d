//! loom model of the I/O driver's turn (corio-io `turn.rs`): the backup
//! thread that sleeps while another thread holds the turn is woken when the
//! turn is given back, so the turn never sits unused with the backup asleep.
//!
//! A lost wake shows up as a deadlock. Under `--cfg corio_mutant_backup_sleep`
//! `end_turn` forgets to wake the backup, and the first two models must
//! fail.
//!
//! The `offered_turn_*` models check the hand-off of the turn to a thread
//! that found it held and sleeps off it (`turn.rs`, "Waiting for the turn"):
//! a holder leaving for good must offer it, whichever way the registration
//! and the leaving interleave. Under `--cfg corio_mutant_no_offer` the
//! leaver forgets to offer, and they must fail.
#![cfg(loom)]

use std::task::{Wake, Waker};
use std::time::Duration;

use corio_io::turn::TurnGate;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// A thread's sleep off the turn: the offer waker sets the flag.
struct Sleeper {
    offered: Mutex<bool>,
    cv: Condvar,
}

impl Sleeper {
    fn new() -> std::sync::Arc<Sleeper> {
        std::sync::Arc::new(Sleeper {
            offered: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    /// Sleeps until offered; consumes the offer.
    fn sleep(&self) {
        let mut o = self.offered.lock().unwrap();
        while !*o {
            o = self.cv.wait(o).unwrap();
        }
        *o = false;
    }
}

impl Wake for Sleeper {
    fn wake(self: std::sync::Arc<Self>) {
        *self.offered.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// What an idle thread does to get the turn: try, else register, try
/// again, sleep until offered, and start over. Returns once it holds it.
fn take_turn_when_offered(gate: &TurnGate, id: usize, sleeper: &std::sync::Arc<Sleeper>) {
    let waker = Waker::from(sleeper.clone());
    loop {
        if gate.try_turn() {
            gate.withdraw(id);
            return;
        }
        gate.wait_for_turn(id, &waker);
        if gate.try_turn() {
            if !gate.withdraw(id) {
                // Popped by an offer that we no longer need: pass it on.
                gate.offer_turn();
            }
            return;
        }
        sleeper.sleep();
    }
}

/// A worker takes the turn and gives it back; the backup thread, waiting
/// for the turn to be free, must get to take it.
#[test]
fn backup_is_woken_when_the_turn_is_given_back() {
    loom::model(|| {
        let gate = Arc::new(TurnGate::new());
        assert!(gate.try_turn());
        let worker = {
            let gate = gate.clone();
            thread::spawn(move || gate.end_turn())
        };
        gate.backup_wait(|| true, Duration::from_millis(1), Duration::from_millis(8));
        assert!(gate.try_turn());
        worker.join().unwrap();
    });
}

/// Two turns by a worker while the backup waits: the backup is not left
/// asleep after the second, whichever way the turns and its checks
/// interleave.
#[test]
fn backup_survives_back_to_back_turns() {
    loom::model(|| {
        let gate = Arc::new(TurnGate::new());
        assert!(gate.try_turn());
        let worker = {
            let gate = gate.clone();
            thread::spawn(move || {
                gate.end_turn();
                if gate.try_turn() {
                    gate.end_turn();
                }
            })
        };
        gate.backup_wait(|| true, Duration::from_millis(1), Duration::from_millis(8));
        worker.join().unwrap();
        assert!(!gate.is_held());
    });
}

/// A holder leaves for good while another thread finds the turn held and
/// goes to sleep off it: the sleeper must be offered the turn and take it.
#[test]
fn offered_turn_reaches_a_waiter() {
    loom::model(|| {
        let gate = Arc::new(TurnGate::new());
        assert!(gate.try_turn());
        let holder = {
            let gate = gate.clone();
            thread::spawn(move || gate.end_turn_and_offer())
        };
        let sleeper = Sleeper::new();
        take_turn_when_offered(&gate, 1, &sleeper);
        assert!(gate.is_held());
        holder.join().unwrap();
    });
}

/// Two threads wait; the first one offered takes the turn and leaves for
/// good too, so the second must get it after it. Nobody is left asleep by
/// a free turn.
#[test]
fn offered_turn_is_passed_along() {
    loom::model(|| {
        let gate = Arc::new(TurnGate::new());
        assert!(gate.try_turn());
        let waiters: Vec<_> = (1..=2)
            .map(|id| {
                let gate = gate.clone();
                thread::spawn(move || {
                    let sleeper = Sleeper::new();
                    take_turn_when_offered(&gate, id, &sleeper);
                    gate.end_turn_and_offer();
                })
            })
            .collect();
        gate.end_turn_and_offer();
        for w in waiters {
            w.join().unwrap();
        }
        assert!(!gate.is_held());
    });
}
