#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::Arc;

use common::*;
use corio_sync::Event;

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Event>();
    assert_send_sync::<corio_sync::EventWait<'static>>();
}

#[test]
fn set_wakes_every_waiter_and_stays_set() {
    let ev = Event::new();
    let mut waiters: Vec<_> = (0..20).map(|_| pending(ev.wait())).collect();
    assert!(!ev.is_set());
    ev.set();
    assert!(ev.is_set());
    for w in &mut waiters {
        assert!(w.woken());
        w.ready();
    }
    block_on(ev.wait()); // already set: returns at once
}

#[test]
fn clear_does_not_strand_already_released_waiters() {
    let ev = Event::new();
    let mut w = pending(ev.wait());
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    w.ready();
    // A new wait after clear blocks again.
    let mut again = pending(ev.wait());
    assert!(again.poll().is_pending());
    ev.set();
    again.ready();
}

#[test]
fn cancelled_waiter_leaves_no_trace() {
    let ev = Event::new();
    let a = pending(ev.wait());
    let mut b = pending(ev.wait());
    drop(a);
    ev.set();
    assert!(b.woken());
    b.ready();
    // Dropping one that was already released is fine too.
    ev.clear();
    let c = pending(ev.wait());
    ev.set();
    drop(c);
}

#[test]
fn waiters_on_many_threads_all_wake() {
    let ev = Arc::new(Event::new());
    let started = Arc::new(corio_sync::Barrier::new(9));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (ev, started) = (ev.clone(), started.clone());
            std::thread::spawn(move || {
                block_on(async {
                    started.wait().await.unwrap();
                    ev.wait().await;
                })
            })
        })
        .collect();
    block_on(started.wait()).unwrap();
    ev.set();
    for h in handles {
        on_thread(move || h.join().unwrap());
    }
}
