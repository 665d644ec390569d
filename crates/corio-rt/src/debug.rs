//! Debug mode's reports (asyncio's debug mode): a slow poll, a worker stuck
//! in one poll, a panic nobody retrieved.
//!
//! Each report goes through `tracing` when a subscriber is installed (the
//! process-wide default or one set for the reporting thread), so it lands
//! wherever the program's other logs go. With no subscriber at all, the
//! report is written to stderr instead, as asyncio logs to stderr: a user
//! who sets `CORIO_DEBUG=1` sees the reports without any setup.

use std::panic::Location;
use std::time::Duration;

use crate::task::Id;

/// Whether `tracing` would drop our events for want of any subscriber.
fn no_subscriber() -> bool {
    tracing::dispatcher::get_default(|dispatch| dispatch.is::<tracing::subscriber::NoSubscriber>())
}

/// A task held its worker for `took` in one poll.
pub(crate) fn slow_poll(
    worker: Option<usize>,
    id: Id,
    name: Option<&str>,
    location: &'static Location<'static>,
    took: Duration,
) {
    let on = match worker {
        Some(index) => format!("worker {index}"),
        None => "the thread that spawned it (eager start)".to_string(),
    };
    if no_subscriber() {
        eprintln!(
            "corio debug: slow poll: task {id}{} spawned at {location} held {on} for {took:?} \
             without yielding",
            quoted(name),
        );
        return;
    }
    tracing::warn!(
        task.id = %id,
        task.name = name.unwrap_or(""),
        spawned_at = %location,
        took_ms = took.as_secs_f64() * 1e3,
        "slow poll: a task held {on} for {took:?} without yielding",
    );
}

/// A worker has been inside one poll of task `task_id` for `stuck`.
#[cfg_attr(loom, allow(dead_code))] // the monitor thread is not modelled under loom
pub(crate) fn stuck_worker(worker: usize, task_id: u64, stuck: Duration, queued: bool) {
    if no_subscriber() {
        eprintln!(
            "corio debug: worker {worker} stuck in one poll of task {task_id} for {stuck:?}{}",
            if queued {
                "; its queued tasks are being taken by other workers"
            } else {
                ""
            }
        );
        return;
    }
    tracing::warn!(
        worker,
        task.id = task_id,
        stuck_ms = stuck.as_millis() as u64,
        queued,
        "worker stuck in one poll; its queued tasks are being taken by other workers"
    );
}

/// A task panicked and its `JoinHandle` was dropped unread (asyncio: "Task
/// exception was never retrieved").
pub(crate) fn unretrieved_panic(id: Id, name: Option<&str>, location: &'static Location<'static>) {
    if no_subscriber() {
        eprintln!(
            "corio debug: task {id}{} spawned at {location} panicked and its JoinHandle was \
             dropped: exception never retrieved",
            quoted(name),
        );
        return;
    }
    tracing::error!(
        task.id = %id,
        task.name = name.unwrap_or(""),
        spawned_at = %location,
        "task panicked and its JoinHandle was dropped: exception never retrieved"
    );
}

/// ` "name"` for a named task, nothing for an unnamed one.
fn quoted(name: Option<&str>) -> String {
    name.map(|n| format!(" {n:?}")).unwrap_or_default()
}
