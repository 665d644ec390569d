#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::Arc;

use common::*;
use corio_sync::{Condition, Lock};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Condition>();
    assert_send_sync::<corio_sync::ConditionWait<'static, 'static, Vec<u8>>>();
}

#[test]
fn wait_releases_the_lock_and_reacquires_before_returning() {
    let (lock, cond) = (Lock::new(0), Condition::new());
    let mut w = pending(cond.wait(lock.try_acquire().unwrap()));
    assert!(!lock.locked(), "released while waiting");
    let mut g = lock.try_acquire().unwrap();
    *g = 5;
    cond.notify(1);
    assert!(w.woken());
    // Notified, but the lock is held: it must wait for it.
    assert!(w.poll().is_pending());
    drop(g);
    let g = w.ready();
    assert_eq!(*g, 5);
    assert!(lock.locked(), "returned holding the lock");
}

#[test]
fn notify_wakes_in_fifo_order_and_n_at_a_time() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let mut ws: Vec<_> = (0..4)
        .map(|_| pending(cond.wait(lock.try_acquire().unwrap())))
        .collect();
    cond.notify(1);
    assert_eq!(
        ws.iter().map(|w| w.woken()).collect::<Vec<_>>(),
        [true, false, false, false]
    );
    cond.notify(2);
    assert_eq!(
        ws.iter().map(|w| w.woken()).collect::<Vec<_>>(),
        [true, true, true, false]
    );
    cond.notify(100); // more than waiting: harmless
    assert!(ws[3].woken());
    for w in &mut ws {
        drop(w.ready());
    }
}

#[test]
fn notify_all_wakes_everyone() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let mut ws: Vec<_> = (0..10)
        .map(|_| pending(cond.wait(lock.try_acquire().unwrap())))
        .collect();
    cond.notify_all();
    for w in &mut ws {
        assert!(w.woken());
        drop(w.ready());
    }
}

#[test]
fn notify_with_no_waiters_is_not_remembered() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    cond.notify_all();
    let mut w = pending(cond.wait(lock.try_acquire().unwrap()));
    assert!(w.poll().is_pending());
    cond.notify(1);
    drop(w.ready());
}

#[test]
fn cancel_before_notify_leaves_no_trace() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let a = pending(cond.wait(lock.try_acquire().unwrap()));
    let mut b = pending(cond.wait(lock.try_acquire().unwrap()));
    drop(a);
    assert!(!lock.locked());
    cond.notify(1);
    assert!(b.woken());
    drop(b.ready());
}

#[test]
fn waiter_dropped_after_notify_passes_the_notification_on() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let a = pending(cond.wait(lock.try_acquire().unwrap()));
    let mut b = pending(cond.wait(lock.try_acquire().unwrap()));
    cond.notify(1);
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken());
    drop(b.ready());
    assert!(!lock.locked());
}

#[test]
fn waiter_dropped_while_reacquiring_passes_notification_and_lock_on() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let mut a = pending(cond.wait(lock.try_acquire().unwrap()));
    let mut b = pending(cond.wait(lock.try_acquire().unwrap()));
    let g = lock.try_acquire().unwrap();
    cond.notify(1);
    assert!(a.poll().is_pending()); // now queued on the lock
    drop(g); // lock handed to `a`
    drop(a);
    assert!(b.woken());
    drop(b.ready());
    assert!(!lock.locked());
}

#[test]
fn unpolled_wait_just_releases_the_guard() {
    let (lock, cond) = (Lock::new(()), Condition::new());
    let w = cond.wait(lock.try_acquire().unwrap());
    drop(w);
    assert!(!lock.locked());
}

#[test]
fn wait_for_loops_until_the_predicate_holds() {
    let state = Arc::new((Lock::new(0u32), Condition::new()));
    let s = state.clone();
    let waiter = std::thread::spawn(move || {
        block_on(async {
            let (lock, cond) = &*s;
            let g = cond.wait_for(lock.acquire().await, |n| *n >= 10).await;
            *g
        })
    });
    block_on(async {
        let (lock, cond) = &*state;
        for _ in 0..10 {
            *lock.acquire().await += 1;
            cond.notify_all();
        }
    });
    assert_eq!(on_thread(move || waiter.join().unwrap()), 10);
}

#[test]
fn producer_consumer_across_threads() {
    const ITEMS: usize = scale(2_000);
    let state = Arc::new((Lock::new(Vec::<usize>::new()), Condition::new()));
    let s = state.clone();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                block_on(async {
                    let (lock, cond) = &*s;
                    loop {
                        let mut g = cond.wait_for(lock.acquire().await, |v| !v.is_empty()).await;
                        let x = g.pop().unwrap();
                        if x == usize::MAX {
                            g.push(x); // leave the stop marker for the others
                            cond.notify_all();
                            return;
                        }
                        got.push(x);
                    }
                });
                got
            })
        })
        .collect();
    block_on(async {
        let (lock, cond) = &*state;
        for i in 0..ITEMS {
            lock.acquire().await.insert(0, i);
            cond.notify(1);
        }
        lock.acquire().await.insert(0, usize::MAX);
        cond.notify_all();
    });
    let mut all: Vec<usize> = consumers
        .into_iter()
        .flat_map(|c| on_thread(move || c.join().unwrap()))
        .collect();
    all.sort();
    assert_eq!(all, (0..ITEMS).collect::<Vec<_>>());
}
