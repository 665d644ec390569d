#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::Arc;

use common::*;
use corio_sync::{Lock, LockGuard, OwnedLockGuard};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Lock<Vec<u8>>>();
    assert_send_sync::<LockGuard<'static, Vec<u8>>>();
    assert_send_sync::<OwnedLockGuard<Vec<u8>>>();
    assert_send_sync::<corio_sync::LockAcquire<'static, Vec<u8>>>();
    assert_send_sync::<corio_sync::LockAcquireOwned<Vec<u8>>>();
}

#[test]
fn acquire_release_try_acquire_into_inner() {
    let mut lock = Lock::new(1);
    assert!(!lock.locked());
    {
        let mut g = block_on(lock.acquire());
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none());
        *g += 1;
    }
    assert!(!lock.locked());
    *lock.try_acquire().unwrap() += 1;
    *lock.get_mut() += 1;
    assert_eq!(lock.into_inner(), 4);
}

#[test]
fn waiters_get_the_lock_in_fifo_order() {
    let lock = Lock::new(Vec::new());
    let g = lock.try_acquire().unwrap();
    let mut a = pending(async { lock.acquire().await.push('a') });
    let mut b = pending(async { lock.acquire().await.push('b') });
    let mut c = pending(async { lock.acquire().await.push('c') });
    drop(g);
    assert!(a.woken() && !b.woken() && !c.woken());
    // Poll in reverse: only the one handed the lock may proceed.
    assert!(c.poll().is_pending());
    assert!(b.poll().is_pending());
    a.ready();
    assert!(b.woken() && !c.woken());
    assert!(c.poll().is_pending());
    b.ready();
    c.ready();
    assert_eq!(*lock.try_acquire().unwrap(), ['a', 'b', 'c']);
}

#[test]
fn no_barging_past_a_woken_waiter() {
    let lock = Lock::new(());
    let g = lock.try_acquire().unwrap();
    let mut a = pending(lock.acquire());
    drop(g);
    assert!(a.woken());
    // Handed to `a`, which has not run yet: newcomers must not take it.
    assert!(lock.locked());
    assert!(lock.try_acquire().is_none());
    let mut late = pending(lock.acquire());
    let ga = a.ready();
    assert!(late.poll().is_pending());
    drop(ga);
    assert!(late.woken());
    drop(late.ready());
    assert!(lock.try_acquire().is_some());
}

#[test]
fn try_acquire_fails_while_a_waiter_is_queued() {
    let lock = Lock::new(());
    let g = lock.try_acquire().unwrap();
    let a = pending(lock.acquire());
    drop(g);
    assert!(lock.try_acquire().is_none());
    drop(a);
    assert!(lock.try_acquire().is_some());
}

#[test]
fn cancel_before_wake_leaves_no_trace() {
    let lock = Lock::new(());
    let g = lock.try_acquire().unwrap();
    let a = pending(lock.acquire());
    let mut b = pending(lock.acquire());
    drop(a);
    assert!(!b.woken());
    drop(g);
    assert!(b.woken());
    drop(b.ready());
    assert!(!lock.locked());
}

#[test]
fn cancel_after_wake_passes_the_lock_on() {
    let lock = Lock::new(0);
    let g = lock.try_acquire().unwrap();
    let a = pending(lock.acquire());
    let mut b = pending(lock.acquire());
    drop(g);
    assert!(a.woken() && !b.woken());
    drop(a); // handed the lock, never ran
    assert!(b.woken());
    assert!(lock.locked());
    drop(b.ready());
    assert!(!lock.locked());
}

#[test]
fn cancel_after_wake_with_nobody_behind_frees_the_lock() {
    let lock = Lock::new(0);
    let g = lock.try_acquire().unwrap();
    let a = pending(lock.acquire());
    drop(g);
    assert!(lock.locked());
    drop(a);
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

#[test]
fn owned_guard_moves_across_threads() {
    let lock = Arc::new(Lock::new(0));
    let mut g = block_on(lock.clone().acquire_owned());
    let l2 = lock.clone();
    let waiter = std::thread::spawn(move || *block_on(l2.acquire()));
    *g = 7;
    on_thread(move || drop(g));
    assert_eq!(waiter.join().unwrap(), 7);
    let owned = lock.clone().try_acquire_owned().unwrap();
    assert!(Arc::ptr_eq(OwnedLockGuard::lock(&owned), &lock));
}

#[test]
fn owned_acquire_cancel_after_wake_passes_on() {
    let lock = Arc::new(Lock::new(()));
    let g = lock.clone().try_acquire_owned().unwrap();
    let a = pending(lock.clone().acquire_owned());
    let mut b = pending(lock.clone().acquire_owned());
    drop(g);
    drop(a);
    assert!(b.woken());
    drop(b.ready());
    assert!(!lock.locked());
}

#[test]
fn mutual_exclusion_across_threads() {
    const THREADS: usize = 8;
    const ROUNDS: usize = scale(2_000);
    let lock = Arc::new(Lock::new((0usize, false)));
    let l = lock.clone();
    run_threads(THREADS, move |_| {
        for _ in 0..ROUNDS {
            block_on(async {
                let mut g = l.acquire().await;
                assert!(!g.1, "two holders at once");
                g.1 = true;
                g.0 += 1;
                std::thread::yield_now();
                g.1 = false;
            });
        }
    });
    assert_eq!(block_on(lock.acquire()).0, THREADS * ROUNDS);
}

#[test]
fn cancellation_storm_across_threads_loses_nothing() {
    // Threads that give up half their acquires at random points still leave
    // a usable lock and a correct count.
    let lock = Arc::new(Lock::new(0usize));
    let l = lock.clone();
    let done: usize = run_threads(6, move |t| {
        let mut done = 0;
        for i in 0..scale(2_000) {
            let mut p = Probe::new(l.acquire());
            if (i + t) % 2 == 0 {
                let _ = p.poll();
                drop(p); // cancelled, maybe after being handed the lock
            } else {
                drop(p);
                *block_on(l.acquire()) += 1;
                done += 1;
            }
        }
        done
    })
    .into_iter()
    .sum();
    assert_eq!(*lock.try_acquire().expect("lock must be free"), done);
}
