//! The rest of asyncio's task toolbox on a real runtime: eager tasks,
//! `abort_on_drop` (wait_for's cancel-on-timeout), task-locals.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::sync::Event;
use corio::task::Builder;
use corio::time::wait_for;

/// Generous bound for waiting on a signal that must come.
const BOUND: Duration = Duration::from_secs(30);

/// Counts its drops; a future holding one shows when (and how often) the
/// future was dropped.
struct DropCount(Arc<AtomicUsize>, Option<Arc<Event>>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        if let Some(event) = &self.1 {
            event.set();
        }
    }
}

// ---- eager tasks ----

#[corio::test]
async fn eager_ready_future_is_finished_when_spawn_returns() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone(), None);
    let caller = std::thread::current().id();
    let handle = Builder::new().eager(true).spawn(async move {
        let _guard = guard;
        (std::thread::current().id(), corio::task::id())
    });
    assert!(handle.is_finished(), "a ready eager task is done on return");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "its future was dropped once, at completion"
    );
    let id = handle.id();
    let (thread, task_id) = handle.await.unwrap();
    assert_eq!(thread, caller, "the first poll runs on the caller's thread");
    assert_eq!(
        task_id, id,
        "task::id() inside the first poll is the new task's"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// Without `eager`, a task spawned from a task waits in the worker's queue
/// until the spawner yields (one worker, so nobody else can take it): the
/// contrast that shows eager's first poll is synchronous.
#[corio::test(worker_threads = 1)]
async fn a_plain_spawn_from_a_task_has_not_run_when_spawn_returns() {
    let spawner = corio::spawn(async {
        let plain = corio::spawn(async { 1 });
        let eager = Builder::new().eager(true).spawn(async { 2 });
        let seen = (plain.is_finished(), eager.is_finished());
        (seen, plain.await.unwrap() + eager.await.unwrap())
    });
    assert_eq!(spawner.await.unwrap(), ((false, true), 3));
}

#[corio::test]
async fn eager_pending_future_runs_to_its_first_await_then_as_a_task() {
    let steps = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Event::new());
    let caller_id = corio::task::try_id();
    let handle = {
        let (steps, gate) = (steps.clone(), gate.clone());
        Builder::new()
            .eager(true)
            .name("eager-waiter")
            .spawn(async move {
                steps.lock().unwrap().push("before await");
                gate.wait().await;
                steps.lock().unwrap().push("after await");
                corio::task::name()
            })
    };
    assert_eq!(*steps.lock().unwrap(), ["before await"]);
    assert!(!handle.is_finished());
    assert_eq!(
        corio::task::try_id(),
        caller_id,
        "the caller's task id is back"
    );
    gate.set();
    let name = wait_for(handle, BOUND)
        .await
        .expect("eager task never resumed");
    assert_eq!(name.unwrap().as_deref(), Some("eager-waiter"));
    assert_eq!(*steps.lock().unwrap(), ["before await", "after await"]);
}

/// Inside a task, the eager child's first poll runs with its own task id,
/// and the spawner's comes back afterwards.
#[corio::test]
async fn eager_spawn_inside_a_task_restores_the_callers_id() {
    let outer = corio::spawn(async {
        let me = corio::task::id();
        let child = Builder::new()
            .eager(true)
            .spawn(async { corio::task::id() });
        (me, corio::task::id(), child.id(), child.await.unwrap())
    });
    let (before, after, child_handle, child_inside) = outer.await.unwrap();
    assert_eq!(before, after);
    assert_eq!(child_handle, child_inside);
    assert_ne!(before, child_inside);
}

#[corio::test]
async fn eager_panic_is_caught_and_given_to_the_handle() {
    let handle = Builder::new().eager(true).spawn(async {
        if std::hint::black_box(true) {
            panic!("eager boom");
        }
    });
    assert!(handle.is_finished());
    let error = handle.await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(
        error.into_panic().downcast_ref::<&str>(),
        Some(&"eager boom")
    );
}

#[test]
fn eager_spawn_from_outside_the_workers() {
    let rt = corio::runtime::Builder::new()
        .worker_threads(1)
        .build()
        .unwrap();
    let gate = Arc::new(Event::new());
    let waiting = {
        let gate = gate.clone();
        Builder::new().eager(true).spawn_on(
            async move {
                gate.wait().await;
                2
            },
            &rt.handle(),
        )
    };
    let ready = Builder::new()
        .eager(true)
        .spawn_on(async { 1 }, &rt.handle());
    assert!(ready.is_finished());
    gate.set();
    let out = rt.block_on(async { (ready.await.unwrap(), wait_for(waiting, BOUND).await) });
    assert_eq!(out.0, 1);
    assert_eq!(out.1.expect("woken eager task never ran").unwrap(), 2);
}

// ---- abort_on_drop: wait_for's cancel-on-timeout ----

#[corio::test]
async fn wait_for_on_an_abort_on_drop_handle_cancels_the_task() {
    let drops = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(Event::new());
    let guard = DropCount(drops.clone(), Some(dropped.clone()));
    let task = corio::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    let timed_out = wait_for(task.abort_on_drop(), Duration::from_millis(10)).await;
    assert!(timed_out.is_err());
    wait_for(dropped.wait(), BOUND)
        .await
        .expect("the task outlived its AbortOnDrop handle");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// The documented difference from asyncio: a plain handle dropped by a
/// timed-out wait_for leaves its task running.
#[corio::test]
async fn wait_for_on_a_plain_handle_leaves_the_task_running() {
    let gate = Arc::new(Event::new());
    let finished = Arc::new(Event::new());
    let task = {
        let (gate, finished) = (gate.clone(), finished.clone());
        corio::spawn(async move {
            gate.wait().await;
            finished.set();
        })
    };
    assert!(wait_for(task, Duration::from_millis(10)).await.is_err());
    gate.set();
    wait_for(finished.wait(), BOUND)
        .await
        .expect("a detached task was cancelled");
}

#[corio::test]
async fn abort_on_drop_after_completion_and_detach() {
    let guarded = corio::spawn(async { 5 }).abort_on_drop();
    assert_eq!(wait_for(guarded, BOUND).await.unwrap().unwrap(), 5);

    // Detached again: dropping the plain handle does not cancel.
    let gate = Arc::new(Event::new());
    let finished = Arc::new(Event::new());
    let guarded = {
        let (gate, finished) = (gate.clone(), finished.clone());
        corio::spawn(async move {
            gate.wait().await;
            finished.set();
        })
        .abort_on_drop()
    };
    assert!(!guarded.is_finished());
    drop(guarded.detach());
    gate.set();
    wait_for(finished.wait(), BOUND)
        .await
        .expect("detach() still aborted the task");
}

// ---- task-locals ----

corio::task_local! {
    static REQUEST: u64;
    static TAG: String;
}

#[corio::test]
async fn task_local_scope_with_try_with_and_nesting() {
    assert!(REQUEST.try_with(|r| *r).is_err());
    let seen = REQUEST
        .scope(1, async {
            let outer = REQUEST.get();
            let inner = REQUEST
                .scope(2, async {
                    corio::yield_now().await;
                    REQUEST.with(|r| *r)
                })
                .await;
            (outer, inner, REQUEST.try_with(|r| *r))
        })
        .await;
    assert_eq!(seen, (1, 2, Ok(1)));
    assert!(REQUEST.try_with(|r| *r).is_err(), "the scope ended");
}

#[test]
fn task_local_with_outside_a_scope_panics_naming_the_misuse() {
    let payload = std::panic::catch_unwind(|| REQUEST.with(|r| *r)).unwrap_err();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("outside its scope"), "{message}");
}

/// Many tasks with their own values, interleaving on two workers (and
/// moving between them): each only ever sees its own value.
#[corio::test(worker_threads = 2)]
async fn task_locals_follow_their_task_across_polls_and_workers() {
    let handles: Vec<_> = (0..200u64)
        .map(|i| {
            corio::spawn(REQUEST.scope(i, async move {
                for _ in 0..20 {
                    corio::yield_now().await;
                    assert_eq!(REQUEST.get(), i);
                }
                // Children polled inside the scope see it too.
                let (a, b) = corio::gather!(async { REQUEST.get() }, async { REQUEST.get() });
                (a, b)
            }))
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let (a, b) = wait_for(handle, BOUND).await.unwrap().unwrap();
        assert_eq!((a, b), (i as u64, i as u64));
    }
}

#[corio::test]
async fn spawned_tasks_do_not_inherit_task_locals() {
    let (inherited, handed_on) = TAG
        .scope("parent".to_string(), async {
            let plain = corio::spawn(async { TAG.try_with(|t| t.clone()) });
            let explicit = corio::spawn(TAG.scope(TAG.get(), async { TAG.get() }));
            (plain.await.unwrap(), explicit.await.unwrap())
        })
        .await;
    assert!(inherited.is_err(), "a spawned task saw its parent's value");
    assert_eq!(handed_on, "parent");
}

/// The value lives as long as the scope's future; the wrapped future is
/// dropped with the value still readable.
#[corio::test]
async fn task_local_value_is_dropped_with_its_future() {
    struct ReadsOnDrop(Arc<Mutex<Option<String>>>);
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = TAG.try_with(|t| t.clone()).ok();
        }
    }
    let seen = Arc::new(Mutex::new(None));
    let reader = ReadsOnDrop(seen.clone());
    let scoped = TAG.scope("in scope".to_string(), async move {
        let _reader = reader;
        std::future::pending::<()>().await
    });
    // Dropped before it ever ran: its destructor still sees the value.
    drop(scoped);
    assert_eq!(seen.lock().unwrap().as_deref(), Some("in scope"));
    assert!(TAG.try_with(|_| ()).is_err());
}
