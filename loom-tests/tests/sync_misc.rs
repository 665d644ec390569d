//! loom models of Event, Queue, Condition, Barrier and oneshot (corio-sync).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p corio-loom-tests --release --test sync_misc`.
#![cfg(loom)]

mod sync_support;

use std::sync::Arc;

use corio_sync::{oneshot, Barrier, Condition, Event, Lock, Queue, QueueEmpty};
use loom::thread;
use sync_support::{block_on, model, poll_once, queued};

/// `set` racing two waiters: neither misses the wake-up.
#[test]
fn event_set_wait_no_lost_wakeup() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e1 = ev.clone();
        let setter = thread::spawn(move || e1.set());
        let e2 = ev.clone();
        let waiter = thread::spawn(move || block_on(e2.wait()));
        block_on(ev.wait());
        setter.join().unwrap();
        waiter.join().unwrap();
        assert!(ev.is_set());
    });
}

/// `clear` right after `set` cannot strand a waiter that `set` released,
/// whether or not it is polled in between.
#[test]
fn event_set_clear_releases_queued_waiter() {
    model(|| {
        let ev = Arc::new(Event::new());
        let mut wait = queued(ev.wait());
        let e1 = ev.clone();
        let t = thread::spawn(move || {
            e1.set();
            e1.clear();
        });
        let raced = poll_once(&mut wait);
        t.join().unwrap();
        assert!(
            raced.is_ready() || poll_once(&mut wait).is_ready(),
            "released waiter stranded by clear"
        );
        assert!(!ev.is_set());
    });
}

/// Two puts racing the cancellation of the getter the first may be handed
/// to: the surviving getter gets one item and the other stays queued; none is
/// lost or duplicated.
#[test]
fn queue_put_get_with_cancelled_getter() {
    model(|| {
        let q = Arc::new(Queue::new(0));
        let g1 = queued(q.get());
        let mut g2 = queued(q.get());
        let putters: Vec<_> = [7, 8]
            .into_iter()
            .map(|x| {
                let q = q.clone();
                thread::spawn(move || q.put_nowait(x).unwrap())
            })
            .collect();
        drop(g1);
        let got = block_on(&mut g2).unwrap();
        for t in putters {
            t.join().unwrap();
        }
        let rest = q.get_nowait().unwrap();
        let mut both = [got, rest];
        both.sort();
        assert_eq!(both, [7, 8]);
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
        assert!(q.empty());
    });
}

/// A putter blocked on a full queue and a concurrent getter: the putter's
/// item goes in exactly once.
#[test]
fn queue_full_put_races_get() {
    model(|| {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let q1 = q.clone();
        let getter = thread::spawn(move || block_on(q1.get()).unwrap());
        block_on(q.put(2)).unwrap();
        assert_eq!(getter.join().unwrap(), 1);
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
    });
}

/// A putter waiting on a full queue is dropped (after at most one more poll)
/// while a getter makes room: either its poll saw the slot and put (`Ready`),
/// or it did not put at all. Never "cancelled but enqueued"; the item taken
/// is the one that was there.
#[test]
fn queue_waiting_put_dropped_while_get_makes_room() {
    model(|| {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let mut put = queued(q.put(2));
        let q1 = q.clone();
        let getter = thread::spawn(move || q1.get_nowait());
        let polled = poll_once(&mut put);
        drop(put);
        assert_eq!(getter.join().unwrap(), Ok(1));
        match polled {
            std::task::Poll::Ready(r) => {
                r.unwrap();
                assert_eq!(q.qsize(), 1);
                assert_eq!(q.get_nowait(), Ok(2));
            }
            std::task::Poll::Pending => assert_eq!(q.qsize(), 0, "cancelled put enqueued"),
        }
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
        assert!(!q.full(), "a slot was leaked");
    });
}

/// As above with a second putter behind the first (3 threads): if the first
/// is dropped after the get made room, the slot passes to the second, which
/// must finish (a lost slot would strand it: loom reports a deadlock). Every
/// item is got exactly once.
#[test]
fn queue_dropped_admitted_put_passes_the_slot_on() {
    model(|| {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let mut first = queued(q.put(2));
        let q1 = q.clone();
        let getter = thread::spawn(move || q1.get_nowait());
        let q2 = q.clone();
        let second = thread::spawn(move || block_on(q2.put(3)));
        let polled = poll_once(&mut first);
        drop(first);
        assert_eq!(getter.join().unwrap(), Ok(1));
        if let std::task::Poll::Ready(r) = polled {
            // The first put went in: take its item to make room for the second.
            r.unwrap();
            assert_eq!(block_on(q.get()), Ok(2));
        }
        second.join().unwrap().unwrap();
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
        assert!(!q.full(), "a slot was leaked");
    });
}

/// `notify(1)` racing the cancellation of the first waiter: the second waiter
/// is woken either way (the notification is passed on, never lost).
#[test]
fn condition_notify_with_cancelled_waiter() {
    model(|| {
        let shared = Arc::new((Lock::new(()), Condition::new()));
        let (lock, cond) = &*shared;
        let w1 = queued(Box::pin(cond.wait(lock.try_acquire().unwrap())));
        let w2 = queued(Box::pin(cond.wait(lock.try_acquire().unwrap())));
        let s = shared.clone();
        let notifier = thread::spawn(move || s.1.notify(1));
        drop(w1);
        drop(block_on(w2));
        notifier.join().unwrap();
        assert!(!lock.locked());
    });
}

/// Two parties meet from two threads and get indices {0, 1}.
#[test]
fn barrier_two_parties() {
    model(|| {
        let b = Arc::new(Barrier::new(2));
        let b1 = b.clone();
        let t = thread::spawn(move || block_on(b1.wait()).unwrap());
        let mine = block_on(b.wait()).unwrap();
        let theirs = t.join().unwrap();
        assert_eq!(mine + theirs, 1);
        assert_eq!(b.n_waiting(), 0);
    });
}

/// `send` racing the receiver's poll: the value arrives.
#[test]
fn oneshot_send_races_recv() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(block_on(rx), Ok(1));
        t.join().unwrap();
    });
}

/// Dropping the sender racing the receiver's poll: the receiver wakes with
/// an error.
#[test]
fn oneshot_sender_drop_races_recv() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

/// `send` racing the receiver's drop: the value is either given back or
/// dropped with the channel, exactly once.
#[test]
fn oneshot_send_races_receiver_drop() {
    model(|| {
        let value = Arc::new(());
        let (tx, rx) = oneshot::channel();
        let v = value.clone();
        let t = thread::spawn(move || tx.send(v).err());
        drop(rx);
        let back = t.join().unwrap();
        drop(back);
        assert_eq!(Arc::strong_count(&value), 1, "value leaked");
    });
}
