#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::Arc;

use common::*;
use corio_sync::{Barrier, BrokenBarrier};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Barrier>();
    assert_send_sync::<corio_sync::BarrierWait<'static>>();
}

#[test]
#[should_panic(expected = "parties must be at least 1")]
fn zero_parties_panics_in_new() {
    let _ = Barrier::new(0);
}

#[test]
fn zero_parties_is_none_in_try_new() {
    assert!(Barrier::try_new(0).is_none());
    assert_eq!(Barrier::try_new(2).map(|b| b.parties()), Some(2));
}

#[test]
fn indices_follow_arrival_order_and_the_barrier_restarts() {
    let b = Barrier::new(3);
    for _round in 0..3 {
        let mut first = pending(b.wait());
        let mut second = pending(b.wait());
        assert_eq!(b.n_waiting(), 2);
        assert_eq!(block_on(b.wait()), Ok(2));
        assert!(first.woken() && second.woken());
        assert_eq!(second.ready(), Ok(1));
        assert_eq!(first.ready(), Ok(0));
        assert_eq!(b.n_waiting(), 0);
    }
}

#[test]
fn dropped_waiter_does_not_count_as_arrived() {
    let b = Barrier::new(3);
    let mut a = pending(b.wait());
    let gone = pending(b.wait());
    drop(gone);
    assert_eq!(b.n_waiting(), 1);
    let mut c = pending(b.wait());
    assert!(!a.woken());
    assert_eq!(block_on(b.wait()), Ok(2));
    assert_eq!(a.ready(), Ok(0));
    assert_eq!(c.ready(), Ok(1));
}

#[test]
fn reset_breaks_current_waiters_and_keeps_the_barrier_usable() {
    let b = Barrier::new(2);
    let mut a = pending(b.wait());
    b.reset();
    assert!(a.woken());
    assert_eq!(a.ready(), Err(BrokenBarrier));
    assert!(!b.broken());
    let mut x = pending(b.wait());
    assert_eq!(block_on(b.wait()), Ok(1));
    assert_eq!(x.ready(), Ok(0));
}

#[test]
fn abort_breaks_until_reset() {
    let b = Barrier::new(2);
    let mut a = pending(b.wait());
    b.abort();
    assert!(b.broken());
    assert_eq!(a.ready(), Err(BrokenBarrier));
    assert_eq!(block_on(b.wait()), Err(BrokenBarrier));
    assert_eq!(b.n_waiting(), 0);
    b.reset();
    assert!(!b.broken());
    let mut x = pending(b.wait());
    assert_eq!(block_on(b.wait()), Ok(1));
    assert_eq!(x.ready(), Ok(0));
}

#[test]
fn one_party_passes_at_once() {
    let b = Barrier::new(1);
    assert_eq!(block_on(b.wait()), Ok(0));
    assert_eq!(block_on(b.wait()), Ok(0));
}

#[test]
fn rounds_across_threads_give_distinct_indices() {
    const PARTIES: usize = 6;
    const ROUNDS: usize = scale(200);
    let b = Arc::new(Barrier::new(PARTIES));
    let bb = b.clone();
    let per_thread = run_threads(PARTIES, move |_| {
        (0..ROUNDS)
            .map(|_| block_on(bb.wait()).unwrap())
            .collect::<Vec<_>>()
    });
    for round in 0..ROUNDS {
        let mut idx: Vec<usize> = per_thread.iter().map(|v| v[round]).collect();
        idx.sort();
        assert_eq!(idx, (0..PARTIES).collect::<Vec<_>>());
    }
    assert_eq!(b.n_waiting(), 0);
}
