#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use corio_sync::{
    BoundedSemaphore, Closed, OwnedPermit, Permit, ReleasedTooManyTimes, Semaphore, TryAcquireError,
};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Permit<'static>>();
    assert_send_sync::<OwnedPermit>();
    assert_send_sync::<corio_sync::Acquire<'static>>();
    assert_send_sync::<corio_sync::AcquireOwned>();
}

#[test]
fn acquire_and_drop_conserve_permits() {
    let sem = Semaphore::new(3);
    let a = block_on(sem.acquire()).unwrap();
    let b = block_on(sem.acquire_many(2)).unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.locked());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    drop(a);
    assert_eq!(sem.available_permits(), 3);
    assert!(!sem.locked());
}

#[test]
fn acquire_many_zero_is_ready_at_once() {
    let sem = Semaphore::new(0);
    let p = block_on(sem.acquire_many(0)).unwrap();
    assert_eq!(p.num_permits(), 0);
}

#[test]
fn waiters_are_served_in_fifo_order() {
    let sem = Semaphore::new(0);
    let mut a = pending(sem.acquire());
    let mut b = pending(sem.acquire());
    let mut c = pending(sem.acquire());
    sem.release();
    assert!(a.woken() && !b.woken() && !c.woken());
    assert!(c.poll().is_pending() && b.poll().is_pending());
    sem.release();
    assert!(b.woken() && !c.woken());
    assert!(c.poll().is_pending());
    let (pa, pb) = (a.ready().unwrap(), b.ready().unwrap());
    sem.release();
    let pc = c.ready().unwrap();
    drop((pa, pb, pc));
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn no_barging_while_a_waiter_is_queued() {
    let sem = Semaphore::new(1);
    let mut big = pending(sem.acquire_many(2));
    // One permit is free, but `big` is first in line.
    assert!(sem.locked());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let mut small = pending(sem.acquire());
    sem.release();
    assert!(big.woken() && !small.woken());
    // Handed to `big`, not run yet: still no barging.
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let p = big.ready().unwrap();
    assert!(small.poll().is_pending());
    drop(p);
    assert!(small.woken());
    drop(small.ready().unwrap());
}

#[test]
fn head_acquire_many_holds_back_smaller_requests() {
    let sem = Semaphore::new(0);
    let mut big = pending(sem.acquire_many(3));
    let mut small = pending(sem.acquire());
    sem.release();
    sem.release();
    assert!(!big.woken() && !small.woken());
    assert_eq!(sem.available_permits(), 2);
    sem.release();
    assert!(big.woken() && !small.woken());
    assert_eq!(big.ready().unwrap().num_permits(), 3);
    // The permit went back when `big`'s permit dropped: small is served.
    assert!(small.woken());
    drop(small.ready().unwrap());
}

#[test]
fn cancelled_head_lets_smaller_requests_through() {
    let sem = Semaphore::new(2);
    let big = pending(sem.acquire_many(3));
    let mut small = pending(sem.acquire());
    assert!(!small.woken());
    drop(big); // cancelled while queued
    assert!(small.woken());
    drop(small.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancel_before_wake_leaves_no_trace() {
    let sem = Semaphore::new(0);
    let a = pending(sem.acquire());
    let mut b = pending(sem.acquire());
    drop(a);
    sem.release();
    assert!(b.woken());
    drop(b.ready().unwrap());
    assert_eq!(sem.available_permits(), 1);
    assert!(!sem.locked());
}

#[test]
fn cancel_after_wake_passes_permits_on() {
    let sem = Semaphore::new(0);
    let a = pending(sem.acquire_many(2));
    let mut b = pending(sem.acquire());
    let mut c = pending(sem.acquire());
    sem.add_permits(2);
    assert!(a.woken() && !b.woken());
    drop(a); // granted 2, never ran: both go on
    assert!(b.woken() && c.woken());
    let (pb, pc) = (b.ready().unwrap(), c.ready().unwrap());
    assert_eq!(sem.available_permits(), 0);
    drop((pb, pc));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancel_after_wake_with_nobody_behind_returns_permits() {
    let sem = Semaphore::new(0);
    let a = pending(sem.acquire());
    sem.release();
    assert_eq!(sem.available_permits(), 0);
    drop(a);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn close_wakes_every_waiter_with_closed() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = pending(sem.acquire());
    let mut b = pending(sem.acquire_many(3));
    sem.close();
    assert!(sem.is_closed());
    assert!(a.woken() && b.woken());
    assert_eq!(a.ready().unwrap_err(), Closed);
    assert_eq!(b.ready().unwrap_err(), Closed);
    assert_eq!(block_on(sem.acquire()).unwrap_err(), Closed);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held); // held permits stay valid and come back
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn close_from_another_thread_wakes_blocked_acquirer() {
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let waiter = std::thread::spawn(move || block_on(s.acquire()).map(|_| ()));
    on_thread({
        let s = sem.clone();
        move || s.close()
    });
    assert_eq!(waiter.join().unwrap(), Err(Closed));
}

#[test]
fn plain_release_may_grow_past_initial() {
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn forget_shrinks_capacity() {
    let sem = Semaphore::new(2);
    block_on(sem.acquire()).unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    let sem = Arc::new(Semaphore::new(1));
    block_on(sem.clone().acquire_owned()).unwrap().forget();
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn bounded_release_past_initial_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release(), Err(ReleasedTooManyTimes));
    let p = block_on(sem.acquire()).unwrap();
    // A live permit counts toward the bound.
    assert_eq!(sem.release(), Err(ReleasedTooManyTimes));
    drop(p);
    assert_eq!(sem.available_permits(), 2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(ReleasedTooManyTimes));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn bounded_release_hands_to_waiter() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    sem.try_acquire().unwrap().forget();
    let mut w = pending(sem.clone().acquire_owned());
    sem.release().unwrap();
    assert!(w.woken());
    let p = w.ready().unwrap();
    assert_eq!(sem.release(), Err(ReleasedTooManyTimes));
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn bounded_close_and_cancel() {
    let sem = BoundedSemaphore::new(1);
    let p = sem.try_acquire().unwrap();
    let a = pending(sem.acquire());
    let mut b = pending(sem.acquire());
    drop(p);
    drop(a);
    assert!(b.woken());
    drop(b.ready().unwrap());
    sem.close();
    assert_eq!(block_on(sem.acquire()).unwrap_err(), Closed);
}

#[test]
fn owned_permits_cross_threads() {
    let sem = Arc::new(Semaphore::new(1));
    let p = block_on(sem.clone().acquire_owned()).unwrap();
    let s = sem.clone();
    let waiter = std::thread::spawn(move || block_on(s.acquire_owned()).unwrap().num_permits());
    on_thread(move || drop(p));
    assert_eq!(waiter.join().unwrap(), 1);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn concurrency_never_exceeds_permits_across_threads() {
    const PERMITS: usize = 3;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (s, i, m) = (sem.clone(), inside.clone(), max.clone());
    run_threads(8, move |t| {
        for k in 0..scale(1_000) {
            block_on(async {
                let n = if (t + k) % 5 == 0 { 2 } else { 1 };
                let _p = s.acquire_many(n).await.unwrap();
                let now = i.fetch_add(n, Ordering::SeqCst) + n;
                m.fetch_max(now, Ordering::SeqCst);
                std::thread::yield_now();
                i.fetch_sub(n, Ordering::SeqCst);
            });
        }
    });
    assert!(max.load(Ordering::SeqCst) <= PERMITS);
    assert_eq!(sem.available_permits(), PERMITS);
}

#[test]
fn cancellation_storm_conserves_permits() {
    let sem = Arc::new(Semaphore::new(2));
    let s = sem.clone();
    run_threads(6, move |t| {
        for i in 0..scale(2_000) {
            let mut p = Probe::new(s.acquire_many(1 + (i + t) % 2));
            if i % 3 == 0 {
                let _ = p.poll();
            } else {
                drop(block_on(s.acquire()).unwrap());
            }
        }
    });
    assert_eq!(sem.available_permits(), 2);
    assert!(!sem.locked());
}
