//! corio::sync primitives used by many tasks at once on the multi-threaded
//! runtime (the primitives' own tests run them without a runtime).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::{Barrier, Condition, Event, Lock, Queue, Semaphore};
use corio::time::wait_for;

const BOUND: Duration = Duration::from_secs(30);

#[corio::test(worker_threads = 2)]
async fn lock_counter_100_tasks_by_1000() {
    let counter = Arc::new(Lock::new(0u64));
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let counter = counter.clone();
            corio::spawn(async move {
                for i in 0..1_000 {
                    let mut guard = counter.acquire().await;
                    *guard += 1;
                    if i % 100 == 0 {
                        // Hold the lock across a suspension now and then.
                        corio::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for result in wait_for(corio::gather(handles), BOUND).await.expect("hung") {
        result.unwrap();
    }
    assert_eq!(*counter.acquire().await, 100_000);
    assert!(!counter.locked());
}

#[corio::test(worker_threads = 2)]
async fn semaphore_limits_concurrency() {
    const LIMIT: usize = 3;
    let sem = Arc::new(Semaphore::new(LIMIT));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
            corio::spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                corio::time::sleep(Duration::from_millis(1)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for result in wait_for(corio::gather(handles), BOUND).await.expect("hung") {
        result.unwrap();
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=LIMIT).contains(&peak), "peak {peak}");
    assert_eq!(sem.available_permits(), LIMIT);
}

#[corio::test(worker_threads = 2)]
async fn queue_producers_and_consumers_lose_nothing() {
    const PRODUCERS: u64 = 8;
    const PER: u64 = 2_000;
    let queue = Arc::new(Queue::new(16));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            corio::spawn(async move {
                for i in 0..PER {
                    queue.put(p * PER + i).await.unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            corio::spawn(async move {
                let mut got = Vec::new();
                while let Ok(item) = queue.get().await {
                    got.push(item);
                    queue.task_done().unwrap();
                }
                got
            })
        })
        .collect();
    for result in wait_for(corio::gather(producers), BOUND)
        .await
        .expect("hung")
    {
        result.unwrap();
    }
    wait_for(queue.join(), BOUND).await.expect("join hung");
    queue.shutdown(false);
    let mut all: Vec<u64> = wait_for(corio::gather(consumers), BOUND)
        .await
        .expect("hung")
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    all.sort();
    assert_eq!(all, (0..PRODUCERS * PER).collect::<Vec<_>>());
}

#[corio::test(worker_threads = 2)]
async fn event_wakes_every_waiter() {
    let event = Arc::new(Event::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (event, woken) = (event.clone(), woken.clone());
            corio::spawn(async move {
                event.wait().await;
                woken.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    corio::yield_now().await;
    event.set();
    for result in wait_for(corio::gather(handles), BOUND).await.expect("hung") {
        result.unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), 50);
}

#[corio::test(worker_threads = 2)]
async fn barrier_releases_all_parties_with_distinct_indices() {
    let barrier = Arc::new(Barrier::new(10));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let barrier = barrier.clone();
            corio::spawn(async move { barrier.wait().await.unwrap() })
        })
        .collect();
    let mut indices: Vec<usize> = wait_for(corio::gather(handles), BOUND)
        .await
        .expect("hung")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    indices.sort();
    assert_eq!(indices, (0..10).collect::<Vec<_>>());
}

#[corio::test(worker_threads = 2)]
async fn condition_hands_items_across_tasks() {
    let state = Arc::new((Lock::new(Vec::<u32>::new()), Condition::new()));
    let consumer = {
        let state = state.clone();
        corio::spawn(async move {
            let (lock, cond) = &*state;
            let mut guard = lock.acquire().await;
            guard = cond
                .wait_for(guard, |items: &Vec<u32>| items.len() >= 3)
                .await;
            guard.clone()
        })
    };
    for i in 0..3 {
        let (lock, cond) = &*state;
        lock.acquire().await.push(i);
        cond.notify_all();
        corio::yield_now().await;
    }
    let items = wait_for(consumer, BOUND).await.expect("hung").unwrap();
    assert_eq!(items, [0, 1, 2]);
}

#[corio::test(worker_threads = 2)]
async fn oneshot_across_tasks() {
    let (tx, rx) = corio::sync::oneshot::channel();
    corio::spawn(async move {
        corio::yield_now().await;
        let _ = tx.send(99u8);
    });
    assert_eq!(wait_for(rx, BOUND).await.expect("hung").unwrap(), 99);
}
