//! loom model of the I/O driver's turn (corio-io `turn.rs`): the backup
//! thread that sleeps while another thread holds the turn is woken when the
//! turn is given back, so the turn never sits unused with the backup asleep.
//!
//! A lost wake shows up as a deadlock. Under `--cfg corio_mutant_backup_sleep`
//! `end_turn` forgets to wake the backup, and these models must fail.
#![cfg(loom)]

use std::time::Duration;

use corio_io::turn::TurnGate;
use loom::sync::Arc;
use loom::thread;

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
