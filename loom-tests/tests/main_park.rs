//! loom models of the `block_on` thread's use of the I/O driver's turn
//! (corio-rt `scheduler/main_park.rs`): the turn reserved for the thread
//! whose future the events wake.
//!
//! - `woken_while_taking_the_turn`: the future is woken by another thread
//!   just as the `block_on` thread takes the reserved turn; it must not
//!   block in the poll with the wake lost. Fails under
//!   `--cfg corio_mutant_main_recheck` (no re-read of `notified` after
//!   setting `in_io`).
//! - `deferring_worker_gets_the_released_turn`: a worker that defers to
//!   the reservation must get the turn when the `block_on` thread drops it,
//!   however the two interleave. Fails under
//!   `--cfg corio_mutant_no_reserve_recheck` (the worker does not re-check
//!   the reservation after registering for an offer).
#![cfg(loom)]

use std::task::Waker;

use corio_rt::__model::{io, MainParker, Parker, TurnReservation, Woken};
use loom::sync::Arc;
use loom::thread;

#[test]
fn woken_while_taking_the_turn() {
    loom::model(|| {
        let park = Arc::new(MainParker::new());
        let reservation = TurnReservation::new();
        reservation.reserve();
        let waker = {
            let park = park.clone();
            thread::spawn(move || park.wake())
        };
        let mut io = io::IoParker::unpromised();
        park.park(Some(&mut io), Waker::noop(), &reservation);
        waker.join().unwrap();
    });
}

#[test]
fn deferring_worker_gets_the_released_turn() {
    loom::model(|| {
        let reservation = Arc::new(TurnReservation::new());
        reservation.reserve();
        let worker = {
            let reservation = reservation.clone();
            thread::spawn(move || {
                let parker = Parker::new();
                let mut io = io::IoParker::new();
                let woken = parker.park(Some(&mut io), &|| reservation.is_reserved());
                assert_eq!(woken, Woken::Io);
                assert!(io.has_batch());
                io.wake_batch();
            })
        };
        reservation.release();
        while !io::turn_held() {
            thread::yield_now();
        }
        io::fire();
        worker.join().unwrap();
        assert_eq!(io::delivered(), 1);
    });
}
