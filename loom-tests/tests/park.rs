//! loom model of the scheduler's park/notify protocol (corio-rt
//! `scheduler/idle.rs`): a task pushed where a worker could find it is never
//! left behind while every worker sleeps.
//!
//! A lost wakeup shows up as a deadlock (every thread blocked), which loom
//! reports as a failure. Under `--cfg corio_mutant_lost_wakeup` the parking
//! worker skips its re-check of the queues, and the first three models must
//! fail. The last two put a worker to sleep in the I/O driver's turn (the
//! facade's model of it, `corio_rt::__model::io`); under
//! `--cfg corio_mutant_io_unpark` an unpark signals the condvar even when the
//! worker sleeps in the turn, and `io_parked_worker_is_unparked` must fail.
//! `io_offered_turn_is_taken` puts a worker to sleep while another thread
//! (the backup) holds the turn: when that thread leaves, the worker must
//! take the turn and get the next event. Under
//! `--cfg corio_mutant_no_turn_wait` a parking worker that finds the turn
//! held sleeps without registering for it (as before offers existed), and
//! the model must fail. (The driver's side, that a leaving holder offers,
//! is `turn.rs`'s `offered_turn_*`.)
#![cfg(loom)]

use corio_rt::__model::{io, Idle, Injector, Parker, Steal, Worker};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

fn take<T>(s: Steal<T>) -> Option<T> {
    s.success()
}

/// One worker, one producer pushing to the injector.
#[test]
fn injector_push_wakes_a_parking_worker() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let injector = Arc::new(Injector::<u32>::new());

        let worker = {
            let (idle, parker, injector) = (idle.clone(), parker.clone(), injector.clone());
            thread::spawn(move || {
                let mut searching = false;
                loop {
                    if let Some(v) = take(injector.steal()) {
                        if searching {
                            idle.stop_searching();
                        }
                        return v;
                    }
                    searching = idle.park(
                        &parker,
                        0,
                        searching,
                        || !injector.is_empty(),
                        None,
                        &|| false,
                    );
                }
            })
        };

        injector.push(7);
        if let Some(id) = idle.worker_to_notify() {
            assert_eq!(id, 0);
            parker.unpark();
        }
        assert_eq!(worker.join().unwrap(), 7);
    });
}

/// Two workers, one item in the injector: whichever takes it ends the run
/// and wakes the other (as shutdown does). If both park with the item still
/// queued, loom reports the deadlock.
#[test]
fn two_workers_one_item_no_lost_wakeup() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(2));
        let parkers: Arc<Vec<Parker>> = Arc::new((0..2).map(|_| Parker::new()).collect());
        let injector = Arc::new(Injector::<u32>::new());
        let done = Arc::new(AtomicBool::new(false));
        let taken = Arc::new(AtomicUsize::new(0));

        let workers: Vec<_> = (0..2)
            .map(|me| {
                let (idle, parkers, injector, done, taken) = (
                    idle.clone(),
                    parkers.clone(),
                    injector.clone(),
                    done.clone(),
                    taken.clone(),
                );
                thread::spawn(move || {
                    let mut searching = false;
                    loop {
                        if done.load(Ordering::SeqCst) {
                            return;
                        }
                        if take(injector.steal()).is_some() {
                            taken.fetch_add(1, Ordering::SeqCst);
                            done.store(true, Ordering::SeqCst);
                            for p in parkers.iter() {
                                p.unpark();
                            }
                            return;
                        }
                        if !searching {
                            searching = idle.try_search();
                        }
                        searching = idle.park(
                            &parkers[me],
                            me,
                            searching,
                            || done.load(Ordering::SeqCst) || !injector.is_empty(),
                            None,
                            &|| false,
                        );
                    }
                })
            })
            .collect();

        injector.push(1);
        if let Some(id) = idle.worker_to_notify() {
            parkers[id].unpark();
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::SeqCst), 1);
    });
}

/// A worker pushes to its own deque and then stays busy (never looks at it
/// again); the other worker must be woken and steal the task.
#[test]
fn local_push_is_stolen_by_a_parked_worker() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(2));
        let parkers: Arc<Vec<Parker>> = Arc::new((0..2).map(|_| Parker::new()).collect());
        let local = Worker::<u32>::new_fifo();
        let stealer = Arc::new(local.stealer());

        let thief = {
            let (idle, parkers, stealer) = (idle.clone(), parkers.clone(), stealer.clone());
            thread::spawn(move || {
                let dest = Worker::<u32>::new_fifo();
                let mut searching = false;
                loop {
                    if let Some(v) = take(stealer.steal_batch_and_pop(&dest)) {
                        return v;
                    }
                    if !searching {
                        searching = idle.try_search();
                    }
                    searching = idle.park(
                        &parkers[1],
                        1,
                        searching,
                        || !stealer.is_empty(),
                        None,
                        &|| false,
                    );
                }
            })
        };

        // Worker 0: push locally, notify, then "block in a long poll".
        local.push(9);
        if let Some(id) = idle.worker_to_notify() {
            parkers[id].unpark();
        }
        assert_eq!(thief.join().unwrap(), 9);
    });
}

/// A worker sleeping in the I/O turn (not on its condvar) is woken by a
/// producer's push + notify. The producer pushes only once the worker holds
/// the turn, so the worker is past its re-check: only the parker's routing of
/// the unpark to the poll can wake it.
#[test]
fn io_parked_worker_is_unparked() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let injector = Arc::new(Injector::<u32>::new());

        let worker = {
            let (idle, parker, injector) = (idle.clone(), parker.clone(), injector.clone());
            thread::spawn(move || {
                let mut io = io::IoParker::new();
                let mut searching = false;
                loop {
                    if let Some(v) = take(injector.steal()) {
                        if searching {
                            idle.stop_searching();
                        }
                        return v;
                    }
                    searching = idle.park(
                        &parker,
                        0,
                        searching,
                        || !injector.is_empty(),
                        Some(&mut io),
                        &|| false,
                    );
                    io.wake_batch();
                }
            })
        };

        while !io::turn_held() {
            thread::yield_now();
        }
        injector.push(7);
        if let Some(id) = idle.worker_to_notify() {
            parker.unpark();
            assert_eq!(id, 0);
        }
        assert_eq!(worker.join().unwrap(), 7);
    });
}

/// Two workers that sleep in the I/O turn when they can; one I/O event
/// fires. Whichever worker holds the turn takes the event and wakes its
/// task; the worker that slept on its condvar is woken at the end. The
/// event is delivered exactly once and nobody is left asleep.
#[test]
fn io_event_reaches_a_worker() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(2));
        let parkers: Arc<Vec<Parker>> = Arc::new((0..2).map(|_| Parker::new()).collect());
        let done = Arc::new(AtomicBool::new(false));

        let workers: Vec<_> = (0..2)
            .map(|me| {
                let (idle, parkers, done) = (idle.clone(), parkers.clone(), done.clone());
                thread::spawn(move || {
                    let mut io = io::IoParker::new();
                    let mut searching = false;
                    loop {
                        if done.load(Ordering::SeqCst) {
                            return;
                        }
                        if !searching {
                            searching = idle.try_search();
                        }
                        searching = idle.park(
                            &parkers[me],
                            me,
                            searching,
                            || done.load(Ordering::SeqCst),
                            Some(&mut io),
                            &|| false,
                        );
                        if io.has_batch() {
                            io.wake_batch();
                            done.store(true, Ordering::SeqCst);
                            for p in parkers.iter() {
                                p.unpark();
                            }
                            return;
                        }
                    }
                })
            })
            .collect();

        io::fire();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(io::delivered(), 1);
    });
}

/// The backup thread holds the turn while a worker parks: the worker sleeps
/// off the turn, registered for it. The backup leaves (offering the turn);
/// the worker must take it, and an event fired after that must reach the
/// worker through its poll. Without the offer the worker sleeps on its
/// condvar forever and the event is never delivered: a deadlock.
#[test]
fn io_offered_turn_is_taken() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        assert!(io::hold_external());

        let worker = {
            let (idle, parker) = (idle.clone(), parker.clone());
            thread::spawn(move || {
                let mut io = io::IoParker::new();
                let mut searching = false;
                while !io.has_batch() {
                    searching =
                        idle.park(&parker, 0, searching, || false, Some(&mut io), &|| false);
                }
                io.wake_batch();
            })
        };

        io::release_external();
        while !io::turn_held() {
            thread::yield_now();
        }
        io::fire();
        worker.join().unwrap();
        assert_eq!(io::delivered(), 1);
    });
}
