#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use corio_sync::{
    LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown, TaskDoneTooManyTimes,
};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<PriorityQueue<u32>>();
    assert_send_sync::<LifoQueue<String>>();
    assert_send_sync::<corio_sync::Put<'static, String, corio_sync::Fifo<String>>>();
    assert_send_sync::<corio_sync::Get<'static, String, corio_sync::Fifo<String>>>();
    assert_send_sync::<corio_sync::Join<'static, String, corio_sync::Fifo<String>>>();
}

#[test]
fn orders_fifo_priority_lifo() {
    let q = Queue::new(0);
    let p = PriorityQueue::new(0);
    let l = LifoQueue::new(0);
    for x in [3, 1, 2] {
        q.put_nowait(x).unwrap();
        p.put_nowait(x).unwrap();
        l.put_nowait(x).unwrap();
    }
    let drain =
        |f: &dyn Fn() -> Result<i32, QueueEmpty>| (0..3).map(|_| f().unwrap()).collect::<Vec<_>>();
    assert_eq!(drain(&|| q.get_nowait()), [3, 1, 2]);
    assert_eq!(drain(&|| p.get_nowait()), [1, 2, 3]);
    assert_eq!(drain(&|| l.get_nowait()), [2, 1, 3]);
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
}

#[test]
fn maxsize_bounds_and_zero_is_unbounded() {
    let q = Queue::new(2);
    assert!(q.empty() && !q.full());
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(q.full());
    assert_eq!(q.put_nowait(3), Err(QueueFull(3)));
    assert_eq!(q.qsize(), 2);
    let u = Queue::new(0);
    for i in 0..scale(10_000) {
        u.put_nowait(i).unwrap();
    }
    assert!(!u.full());
    assert_eq!(u.qsize(), scale(10_000));
}

#[test]
fn getters_are_served_in_fifo_order() {
    let q = Queue::new(0);
    let mut a = pending(q.get());
    let mut b = pending(q.get());
    let mut c = pending(q.get());
    q.put_nowait('x').unwrap();
    assert!(a.woken() && !b.woken() && !c.woken());
    // The item is promised to `a`: nobody else can take it.
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    assert_eq!(q.qsize(), 1);
    assert!(c.poll().is_pending() && b.poll().is_pending());
    q.put_nowait('y').unwrap();
    q.put_nowait('z').unwrap();
    assert_eq!(
        (a.ready(), b.ready(), c.ready()),
        (Ok('x'), Ok('y'), Ok('z'))
    );
    assert!(q.empty());
}

#[test]
fn putters_wait_when_full_and_are_served_in_fifo_order() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = pending(q.put(1));
    let mut b = pending(q.put(2));
    // No barging: a newcomer fails even though a get is about to free a slot.
    assert_eq!(q.get_nowait(), Ok(0));
    assert!(a.woken() && !b.woken());
    assert_eq!(q.put_nowait(9), Err(QueueFull(9)));
    assert_eq!(a.ready(), Ok(()));
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(b.woken());
    // As in asyncio, a woken putter's item goes in when it runs.
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    assert_eq!(b.ready(), Ok(()));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn getter_cancelled_after_wake_passes_the_item_on() {
    let q = Queue::new(0);
    let a = pending(q.get());
    let mut b = pending(q.get());
    q.put_nowait(1).unwrap();
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(1));
    assert!(q.empty());
}

#[test]
fn getter_cancelled_after_wake_with_nobody_behind_returns_the_item_first() {
    let q = Queue::new(2);
    let a = pending(q.get());
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(q.full(), "the handed item still counts");
    drop(a);
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get_nowait(), Ok(1), "returned item is served first");
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn getter_cancelled_before_wake_leaves_no_trace() {
    let q = Queue::new(0);
    let a = pending(q.get());
    let mut b = pending(q.get());
    drop(a);
    q.put_nowait(5).unwrap();
    assert_eq!(b.ready(), Ok(5));
}

#[test]
fn putter_cancelled_while_waiting_never_puts() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let a = pending(q.put(1));
    let mut b = pending(q.put(2));
    drop(a);
    assert_eq!(q.get_nowait(), Ok(0));
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(()));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
}

#[test]
fn putter_cancelled_after_room_was_made_did_not_put() {
    // asyncio: a putter woken for a free slot but cancelled before it runs
    // did not put. (A `wait_for` timeout reported here must not leave the
    // item queued, or a retry duplicates it.)
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let a = pending(q.put(2));
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(a.woken());
    drop(a);
    assert_eq!(q.qsize(), 0);
    assert!(q.empty() && !q.full());
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    // The slot it was given is free again.
    q.put_nowait(3).unwrap();
    assert_eq!(q.get_nowait(), Ok(3));
    // Nothing was counted as unfinished for the cancelled put.
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneTooManyTimes));
}

#[test]
fn putter_cancelled_after_room_was_made_passes_the_slot_on() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let a = pending(q.put(2));
    let mut b = pending(q.put(3));
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken(), "the slot goes to the next putter");
    assert_eq!(b.ready(), Ok(()));
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
}

#[test]
fn putter_cancelled_after_room_was_made_gives_a_waiting_getter_nothing() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let a = pending(q.put(2));
    assert_eq!(q.get_nowait(), Ok(1));
    let mut g = pending(q.get());
    drop(a);
    assert!(!g.woken(), "the cancelled put must not reach the getter");
    assert!(g.poll().is_pending());
    assert_eq!(q.qsize(), 0);
    q.put_nowait(4).unwrap();
    assert!(g.woken());
    assert_eq!(g.ready(), Ok(4));
}

#[test]
fn admitted_putter_hands_its_item_to_a_waiting_getter_when_it_runs() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut a = pending(q.put(2));
    assert_eq!(q.get_nowait(), Ok(1));
    // The slot is reserved for `a`: no barging, and its item is not in yet.
    assert!(q.full());
    assert_eq!(q.put_nowait(9), Err(QueueFull(9)));
    assert_eq!(q.qsize(), 0);
    let mut g = pending(q.get());
    assert_eq!(a.ready(), Ok(()));
    assert!(g.woken());
    assert_eq!(g.ready(), Ok(2));
    assert!(q.empty() && !q.full());
}

#[test]
fn shutdown_gives_an_admitted_putter_its_item_back() {
    let q = Queue::new(1);
    q.put_nowait("a".to_string()).unwrap();
    let mut p = pending(q.put("b".to_string()));
    assert_eq!(q.get_nowait().as_deref(), Ok("a"));
    assert!(p.woken());
    q.shutdown(false);
    assert_eq!(p.ready(), Err(QueueShutDown("b".to_string())));
    assert!(q.empty() && !q.full());
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneTooManyTimes));
}

#[test]
fn claiming_a_handed_item_admits_a_waiting_putter() {
    let q = Queue::new(1);
    let mut g = pending(q.get());
    q.put_nowait(1).unwrap(); // handed to g, counts toward maxsize
    let mut p = pending(q.put(2));
    assert!(!p.woken());
    assert_eq!(g.ready(), Ok(1));
    assert!(p.woken());
    assert_eq!(p.ready(), Ok(()));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn task_done_and_join() {
    let q = Queue::new(0);
    block_on(q.join());
    assert_eq!(q.task_done(), Err(TaskDoneTooManyTimes));
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut j = pending(q.join());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(!j.woken());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(j.woken());
    j.ready();
    assert_eq!(q.task_done(), Err(TaskDoneTooManyTimes));
    // A dropped joiner leaves no trace.
    q.put_nowait(3).unwrap();
    drop(pending(q.join()));
    q.get_nowait().unwrap();
    q.task_done().unwrap();
}

#[test]
fn shutdown_makes_put_fail_and_get_drain_then_fail() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    assert!(q.is_shut_down());
    assert_eq!(block_on(q.put(3)), Err(QueueShutDown(3)));
    assert_eq!(q.put_nowait(4), Err(QueueFull(4)));
    assert_eq!(block_on(q.get()), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(block_on(q.get()), Err(QueueShutDown(())));
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
}

#[test]
fn shutdown_wakes_blocked_getters_and_putters() {
    let q: Queue<u8> = Queue::new(0);
    let mut g = pending(q.get());
    q.shutdown(false);
    assert!(g.woken());
    assert_eq!(g.ready(), Err(QueueShutDown(())));

    let q = Queue::new(1);
    q.put_nowait("kept".to_string()).unwrap();
    let mut p = pending(q.put("back".to_string()));
    q.shutdown(false);
    assert!(p.woken());
    assert_eq!(
        p.ready(),
        Err(QueueShutDown("back".to_string())),
        "item given back"
    );
    assert_eq!(q.get_nowait().as_deref(), Ok("kept"));
}

#[test]
fn shutdown_immediate_drops_items_and_releases_join() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let q = Queue::new(0);
    let mut handed = pending(q.get());
    for _ in 0..3 {
        q.put_nowait(Counted(dropped.clone())).unwrap();
    }
    let mut j = pending(q.join());
    q.shutdown(true);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "stored and handed items dropped"
    );
    assert!(j.woken());
    j.ready();
    assert!(handed.ready().is_err(), "get fails at once");
    assert!(q.empty());
    assert!(q.get_nowait().is_err());
}

#[test]
fn item_drop_may_reenter_the_queue() {
    // Items are dropped outside the queue's mutex.
    struct Reenter(Arc<Queue<u8>>);
    impl Drop for Reenter {
        fn drop(&mut self) {
            let _ = self.0.qsize();
        }
    }
    let other = Arc::new(Queue::new(0));
    let q = Queue::new(1);
    q.put_nowait(Reenter(other.clone())).unwrap();
    drop(pending(q.put(Reenter(other.clone()))));
    q.shutdown(true);
}

#[test]
fn mpmc_across_threads_delivers_every_item_once_despite_cancelled_getters() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    const PER: usize = scale(20_000);
    let q = Arc::new(Queue::new(16));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut k = 0usize;
                loop {
                    k += 1;
                    if (k + c).is_multiple_of(7) {
                        // A get polled once and dropped: if it was handed an
                        // item it must pass it on, or it would be lost.
                        let mut p = Probe::new(q.get());
                        if let std::task::Poll::Ready(r) = p.poll() {
                            match r {
                                Ok(usize::MAX) => break,
                                Ok(x) => got.push(x),
                                Err(_) => break,
                            }
                        }
                        continue;
                    }
                    match block_on(q.get()) {
                        Ok(usize::MAX) | Err(_) => break,
                        Ok(x) => got.push(x),
                    }
                }
                got
            })
        })
        .collect();
    run_threads(PRODUCERS, {
        let q = q.clone();
        move |i| {
            block_on(async {
                for k in 0..PER {
                    q.put(i * PER + k).await.unwrap();
                }
            })
        }
    });
    for _ in 0..CONSUMERS {
        block_on(q.put(usize::MAX)).unwrap();
    }
    let mut all: Vec<usize> = consumers
        .into_iter()
        .flat_map(|c| on_thread(move || c.join().unwrap()))
        .collect();
    all.sort_unstable();
    assert_eq!(all.len(), PRODUCERS * PER);
    assert!(
        all.iter().enumerate().all(|(i, &x)| i == x),
        "every item exactly once"
    );
    assert!(q.empty());
}
