//! TaskGroup: results in spawn order, the first failure cancels the siblings
//! at once (before `join` is awaited), every error and panic is carried, and
//! dropping the group leaves no orphan task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::sync::Event;
use corio::task::{TaskGroup, TaskGroupError, TaskGroupHandle};
use corio::time::wait_for;

/// Generous bound for waiting on a signal that must come.
const BOUND: Duration = Duration::from_secs(30);

/// Sets an event when dropped: proof that a cancelled child's future was
/// dropped.
struct SetOnDrop(Arc<Event>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// A child that never finishes on its own and signals when it is dropped.
async fn forever<T, E>(dropped: Arc<Event>, started: Option<Arc<Event>>) -> Result<T, E> {
    let _guard = SetOnDrop(dropped);
    if let Some(started) = started {
        started.set();
    }
    std::future::pending().await
}

#[corio::test]
async fn results_come_in_spawn_order() {
    let group = TaskGroup::new();
    for i in 0..50u64 {
        group.spawn(async move {
            // Later children finish first.
            corio::time::sleep(Duration::from_millis(50 - i)).await;
            Ok::<_, String>(i)
        });
    }
    assert_eq!(group.len(), 50);
    let values = group.join().await.unwrap();
    assert_eq!(values, (0..50).collect::<Vec<_>>());
}

#[corio::test]
async fn empty_group_joins_to_nothing() {
    let group: TaskGroup<(), ()> = TaskGroup::new();
    assert!(group.is_empty());
    assert_eq!(group.join().await.unwrap(), Vec::<()>::new());
}

#[corio::test]
async fn first_error_cancels_siblings_before_join() {
    let dropped = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    let fail = Arc::new(Event::new());
    let group = TaskGroup::new();
    group.spawn(forever::<u32, &str>(dropped.clone(), Some(started.clone())));
    group.spawn({
        let fail = fail.clone();
        async move {
            fail.wait().await;
            Err("boom")
        }
    });
    // Make sure the endless sibling runs before the failure.
    wait_for(started.wait(), BOUND)
        .await
        .expect("sibling never started");
    assert!(!group.is_cancelled());
    fail.set();
    // The sibling's future is dropped without anyone awaiting join().
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("sibling not cancelled by the failure");
    assert!(group.is_cancelled());

    let error = group.join().await.unwrap_err();
    assert_eq!(error.len(), 1);
    assert_eq!(error.errors(), ["boom"]);
    assert_eq!(
        error.cancelled(),
        1,
        "the cancelled sibling is not an error"
    );
    assert!(error.panics().is_empty());
}

#[corio::test]
async fn children_spawned_after_a_failure_never_run() {
    let ran = Arc::new(AtomicUsize::new(0));
    let group = TaskGroup::new();
    group.spawn(async { Err::<(), _>(1) });
    let deadline = Instant::now() + BOUND;
    while !group.is_cancelled() && Instant::now() < deadline {
        corio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(group.is_cancelled());
    let counter = ran.clone();
    group.spawn(async move {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let error = group.join().await.unwrap_err();
    assert_eq!(error.into_errors(), [1]);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// Two children fail at the same moment on two workers: both errors are
/// carried, like an ExceptionGroup with two exceptions.
#[corio::test(worker_threads = 2)]
async fn every_error_is_collected() {
    let arrived = Arc::new(AtomicUsize::new(0));
    let group = TaskGroup::new();
    for name in ["left", "right"] {
        let arrived = arrived.clone();
        group.spawn(async move {
            // Hold the worker until both children are inside their poll, so
            // neither can observe the other's cancellation first.
            arrived.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + BOUND;
            while arrived.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            Err::<(), _>(name)
        });
    }
    let error = group.join().await.unwrap_err();
    let mut errors = error.into_errors();
    errors.sort();
    assert_eq!(errors, ["left", "right"]);
}

#[corio::test]
async fn a_panic_cancels_siblings_and_is_carried() {
    let dropped = Arc::new(Event::new());
    let group = TaskGroup::new();
    group.spawn(forever::<(), String>(dropped.clone(), None));
    group.spawn(async {
        corio::yield_now().await;
        panic!("child exploded");
    });
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("sibling not cancelled by the panic");
    let error: TaskGroupError<String> = group.join().await.unwrap_err();
    assert_eq!(error.panics().len(), 1);
    assert!(error.errors().is_empty());
    assert_eq!(
        error.panics()[0].message().as_deref(),
        Some("child exploded")
    );
    assert!(error.to_string().contains("child exploded"), "{error}");
    let payload = error.into_panics().remove(0);
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"child exploded"));
}

#[corio::test]
async fn one_failure_cancels_the_waiting_rest() {
    let group = TaskGroup::new();
    let gate = Arc::new(Event::new());
    for i in 0..4 {
        let gate = gate.clone();
        group.spawn(async move {
            if i == 2 {
                // Fails first, by itself.
                return Err(i);
            }
            gate.wait().await;
            Ok(i)
        });
    }
    let error = group.join().await.unwrap_err();
    assert_eq!(error.errors(), [2]);
    assert_eq!(error.cancelled(), 3);
}

#[corio::test]
async fn dropping_the_group_cancels_every_child() {
    let drops: Vec<Arc<Event>> = (0..10).map(|_| Arc::new(Event::new())).collect();
    let starts: Vec<Arc<Event>> = (0..10).map(|_| Arc::new(Event::new())).collect();
    let group = TaskGroup::<(), ()>::new();
    for (dropped, started) in drops.iter().zip(&starts) {
        group.spawn(forever(dropped.clone(), Some(started.clone())));
    }
    for started in &starts {
        wait_for(started.wait(), BOUND)
            .await
            .expect("child never started");
    }
    drop(group);
    for dropped in &drops {
        wait_for(dropped.wait(), BOUND)
            .await
            .expect("a child outlived its dropped group");
    }
}

#[corio::test]
async fn dropping_join_cancels_every_child() {
    let dropped = Arc::new(Event::new());
    let group = TaskGroup::<(), ()>::new();
    group.spawn(forever(dropped.clone(), None));
    group.spawn(async { Ok(()) });
    // join() gives up at the timeout; dropping it drops the group.
    assert!(wait_for(group.join(), Duration::from_millis(20))
        .await
        .is_err());
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("a child outlived its dropped join()");
}

#[corio::test]
async fn cancel_stops_every_child() {
    let dropped = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    let group = TaskGroup::<(), ()>::new();
    group.spawn(forever(dropped.clone(), Some(started.clone())));
    wait_for(started.wait(), BOUND)
        .await
        .expect("child never started");
    group.cancel();
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("not cancelled");
    let error = group.join().await.unwrap_err();
    assert!(error.is_empty());
    assert_eq!(error.cancelled(), 1);
}

#[corio::test(worker_threads = 2)]
async fn many_children_and_one_failure() {
    let group = TaskGroup::new();
    let started = Arc::new(AtomicUsize::new(0));
    for i in 0..1_000u32 {
        let started = started.clone();
        group.spawn(async move {
            started.fetch_add(1, Ordering::SeqCst);
            if i == 500 {
                return Err("the one");
            }
            // Everyone else would wait forever.
            std::future::pending::<()>().await;
            Ok(i)
        });
    }
    let error = wait_for(group.join(), BOUND).await.expect("join hung");
    let error = error.unwrap_err();
    assert_eq!(error.into_errors(), ["the one"]);
}

// ---- TaskGroup for servers: spawn(&self), handles, siblings ----

#[corio::test]
async fn children_add_siblings_through_a_handle_and_join_waits_for_them() {
    let group = TaskGroup::<u32, String>::new();
    let handle = group.handle();
    let release = Arc::new(Event::new());
    let late_dropped = Arc::new(Event::new());
    {
        let release = release.clone();
        let late_dropped = late_dropped.clone();
        group.spawn(async move {
            // A grandchild that finishes only once released, after its
            // parent has long returned.
            let release = release.clone();
            handle.spawn(async move {
                let _guard = SetOnDrop(late_dropped);
                release.wait().await;
                Ok(2)
            });
            Ok(1)
        });
    }
    let joining = corio::spawn(group.join());
    // The grandchild holds join back: it cannot have returned yet.
    corio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !joining.is_finished(),
        "join returned before the sibling finished"
    );
    release.set();
    let values = wait_for(joining, BOUND).await.expect("join hung").unwrap();
    assert_eq!(
        values.unwrap(),
        [1, 2],
        "spawn order: the sibling came second"
    );
    assert!(late_dropped.is_set());
}

/// A chain: each child spawns the next through a handle moved into it.
#[corio::test(worker_threads = 2)]
async fn a_chain_of_siblings_returns_in_spawn_order() {
    type Link = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, ()>> + Send>>;
    fn link(handle: TaskGroupHandle<u32, ()>, n: u32) -> Link {
        Box::pin(async move {
            corio::yield_now().await;
            if n < 100 {
                let next = handle.clone();
                handle.spawn(link(next, n + 1));
            }
            Ok(n)
        })
    }
    let group = TaskGroup::new();
    group.spawn(link(group.handle(), 0));
    let values = wait_for(group.join(), BOUND)
        .await
        .expect("join hung")
        .unwrap();
    assert_eq!(values, (0..=100).collect::<Vec<_>>());
}

/// `spawn(&self)`: many tasks spawn into one shared group at once.
#[corio::test(worker_threads = 2)]
async fn spawn_through_a_shared_reference_from_many_tasks() {
    let group = Arc::new(TaskGroup::<u64, ()>::new());
    let spawners: Vec<_> = (0..8u64)
        .map(|s| {
            let group = group.clone();
            corio::spawn(async move {
                for i in 0..50 {
                    group.spawn(async move { Ok(s * 1000 + i) });
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    for spawner in spawners {
        spawner.await.unwrap();
    }
    let group = Arc::into_inner(group).expect("the spawners are done");
    assert_eq!(group.len(), 400);
    let mut values = wait_for(group.join(), BOUND).await.unwrap().unwrap();
    values.sort();
    let mut expected: Vec<u64> = (0..8)
        .flat_map(|s| (0..50).map(move |i| s * 1000 + i))
        .collect();
    expected.sort();
    assert_eq!(values, expected);
}

/// A failure cancels siblings spawned through handles too; a handle used
/// after the group is cancelled or joined gets a child that never runs.
#[corio::test]
async fn handle_children_are_cancelled_with_the_group() {
    let group = TaskGroup::<(), &str>::new();
    let handle = group.handle();
    let dropped = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    handle.spawn(forever(dropped.clone(), Some(started.clone())));
    wait_for(started.wait(), BOUND)
        .await
        .expect("child never started");
    group.spawn(async { Err("boom") });
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("a handle's child survived the failure");
    assert!(handle.is_cancelled());
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    handle.spawn(async move {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let error = wait_for(group.join(), BOUND).await.unwrap().unwrap_err();
    assert_eq!(error.errors(), ["boom"]);
    assert_eq!(error.cancelled(), 2, "the endless child and the late one");
    assert_eq!(ran.load(Ordering::SeqCst), 0);

    // After join: a leftover handle's child is cancelled without running.
    let group = TaskGroup::<(), ()>::new();
    let handle = group.handle();
    group.join().await.unwrap();
    let counter = ran.clone();
    let late_dropped = Arc::new(Event::new());
    let guard = SetOnDrop(late_dropped.clone());
    handle.spawn(async move {
        let _guard = guard;
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    wait_for(late_dropped.wait(), BOUND)
        .await
        .expect("the late child's future was never dropped");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[corio::test]
async fn dropping_the_group_cancels_handle_children() {
    let group = TaskGroup::<(), ()>::new();
    let handle = group.handle();
    let dropped = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    handle.spawn(forever(dropped.clone(), Some(started.clone())));
    wait_for(started.wait(), BOUND)
        .await
        .expect("child never started");
    drop(group);
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("a handle's child outlived the group");
}

/// The group forgets children as they end: `live()` follows them.
#[corio::test]
async fn live_counts_only_running_children() {
    let group = TaskGroup::<(), ()>::new();
    let gate = Arc::new(Event::new());
    for _ in 0..10 {
        let gate = gate.clone();
        group.spawn(async move {
            gate.wait().await;
            Ok(())
        });
    }
    assert_eq!((group.len(), group.live()), (10, 10));
    gate.set();
    let deadline = Instant::now() + BOUND;
    while group.live() > 0 && Instant::now() < deadline {
        corio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!((group.len(), group.live()), (10, 0));
    assert_eq!(group.join().await.unwrap().len(), 10);
}
