//! loom models of the Lock and Semaphore hand-off (corio-sync).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p corio-loom-tests --release --test sync_handoff`.
//! Under `--cfg corio_mutant_no_handoff` the `*_cancel_after_wake_*` models
//! must fail (a dropped, woken waiter no longer passes its lock or permits on).
#![cfg(loom)]

mod sync_support;

use std::sync::Arc;

use corio_sync::{Closed, Lock, Semaphore};
use loom::thread;
use sync_support::{block_on, model, poll_once, queued};

// ---------- Lock ----------

/// Three threads increment through the lock; loom checks every access to the
/// protected cell for a data race.
#[test]
fn lock_mutual_exclusion() {
    model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let l = lock.clone();
                thread::spawn(move || block_on(async { *l.acquire().await += 1 }))
            })
            .collect();
        block_on(async { *lock.acquire().await += 1 });
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(Arc::try_unwrap(lock).ok().unwrap().into_inner(), 3);
    });
}

/// Two queued waiters get the lock in order, and a newcomer racing the
/// release never barges in.
#[test]
fn lock_fifo_handoff() {
    model(|| {
        let lock = Arc::new(Lock::new(Vec::new()));
        let g = lock.clone().try_acquire_owned().unwrap();
        let a = queued(lock.clone().acquire_owned());
        let mut b = queued(lock.clone().acquire_owned());
        let t1 = thread::spawn(move || drop(g));
        let l2 = lock.clone();
        let t2 = thread::spawn(move || {
            // Only once both waiters are done may a newcomer get the lock.
            if let Some(g) = l2.try_acquire() {
                assert_eq!(*g, ['a', 'b'], "barged past a queued waiter");
            }
        });
        let mut ga = block_on(a);
        assert!(
            poll_once(&mut b).is_pending(),
            "second waiter got the lock first"
        );
        ga.push('a');
        drop(ga);
        block_on(b).push('b');
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(*lock.try_acquire().unwrap(), ['a', 'b']);
    });
}

/// A waiter dropped right after (or before) being handed the lock passes it
/// on: the next waiter must get it (no deadlock).
#[test]
fn lock_cancel_after_wake_passes_on() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let g = lock.clone().try_acquire_owned().unwrap();
        let a = queued(lock.clone().acquire_owned());
        let b = queued(lock.clone().acquire_owned());
        let t1 = thread::spawn(move || drop(g));
        let t2 = thread::spawn(move || drop(a));
        drop(block_on(b));
        t1.join().unwrap();
        t2.join().unwrap();
        assert!(lock.try_acquire().is_some());
    });
}

/// A waiter dropped while queued (or racing the release) leaves the lock
/// usable.
#[test]
fn lock_cancel_while_queued_leaves_lock_usable() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let g = lock.clone().try_acquire_owned().unwrap();
        let a = queued(lock.clone().acquire_owned());
        let t1 = thread::spawn(move || drop(a));
        let t2 = thread::spawn(move || drop(g));
        t1.join().unwrap();
        t2.join().unwrap();
        assert!(!lock.locked());
        drop(block_on(lock.acquire()));
    });
}

// ---------- Semaphore ----------

/// Permits are conserved: with 2 permits, a holder of both sees none free;
/// after everyone (including a cancelled acquirer) is done, both are back.
#[test]
fn semaphore_permits_conserved() {
    model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let s1 = sem.clone();
        let t1 = thread::spawn(move || {
            let p = block_on(s1.acquire_many(2)).unwrap();
            assert_eq!(s1.available_permits(), 0);
            drop(p);
        });
        let s2 = sem.clone();
        let t2 = thread::spawn(move || drop(block_on(s2.acquire()).unwrap()));
        let mut c = sem.clone().acquire_owned();
        let _ = poll_once(&mut c);
        drop(c);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
        assert!(!sem.locked());
    });
}

/// `acquire_many(2)` completes from two concurrent single releases.
#[test]
fn semaphore_acquire_many_with_concurrent_releases() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let f = queued(sem.clone().acquire_many_owned(2));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let s = sem.clone();
                thread::spawn(move || s.release())
            })
            .collect();
        let p = block_on(f).unwrap();
        assert_eq!(p.num_permits(), 2);
        assert_eq!(sem.available_permits(), 0);
        drop(p);
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
    });
}

/// `close` racing an acquire (and a release): the acquire always completes,
/// with a permit or `Closed`, and no permit is lost.
#[test]
fn semaphore_close_races_acquire() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s1 = sem.clone();
        let t1 = thread::spawn(move || s1.close());
        let s2 = sem.clone();
        let t2 = thread::spawn(move || s2.release());
        match block_on(sem.acquire()) {
            Ok(p) => drop(p),
            Err(Closed) => {}
        }
        t1.join().unwrap();
        t2.join().unwrap();
        assert!(sem.is_closed());
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A waiter dropped after being handed a permit gives it to the next waiter.
#[test]
fn semaphore_cancel_after_wake_returns_permits() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let a = queued(sem.clone().acquire_owned());
        let b = queued(sem.clone().acquire_owned());
        let s = sem.clone();
        let t1 = thread::spawn(move || s.release());
        let t2 = thread::spawn(move || drop(a));
        drop(block_on(b).unwrap());
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}
