//! Debug mode: slow polls, panics nobody retrieves, and stuck workers are
//! reported through `tracing` with the task's identity.

mod common;

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event's fields, rendered `name=value ...`, from every thread.
fn events() -> &'static Mutex<Vec<String>> {
    static EVENTS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        tracing::subscriber::set_global_default(Capture).expect("subscriber");
        Mutex::new(Vec::new())
    })
}

struct Capture;

struct Render(String);

impl Visit for Render {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, "{}={} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut r = Render(String::new());
        event.record(&mut r);
        events().lock().unwrap().push(r.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn find(pred: impl Fn(&str) -> bool) -> Option<String> {
    events().lock().unwrap().iter().find(|e| pred(e)).cloned()
}

/// Waits (generously) for a matching event: reports are emitted after the
/// task's poll returns, which may be after its JoinHandle saw the output.
fn wait_for_event(pred: impl Fn(&str) -> bool) -> String {
    let mut found = None;
    wait_until(|| {
        found = find(&pred);
        found.is_some()
    });
    found.unwrap()
}

fn debug_rt() -> corio_rt::Runtime {
    debug_rt_with(2)
}

fn debug_rt_with(workers: usize) -> corio_rt::Runtime {
    events();
    corio_rt::Builder::new()
        .worker_threads(workers)
        .debug(true)
        // Well above a worker thread descheduled on a loaded machine (CI runs
        // these under ThreadSanitizer on two cores), so a one-instruction
        // poll is never "slow"; the slow tasks below block several times it.
        .slow_poll_threshold(Duration::from_millis(250))
        .build()
        .unwrap()
}

#[test]
fn slow_poll_is_reported_with_name_and_location() {
    let rt = debug_rt();
    let h = corio_rt::task::Builder::new().name("sloth").spawn_on(
        async { std::thread::sleep(Duration::from_millis(600)) },
        &rt.handle(),
    );
    rt.block_on(h).unwrap();
    let e = wait_for_event(|e| e.contains("slow poll") && e.contains("task.name=sloth"));
    assert!(e.contains("debug.rs"), "spawn location missing: {e}");
}

#[test]
fn fast_polls_are_not_reported() {
    let rt = debug_rt();
    let h = corio_rt::task::Builder::new()
        .name("quick-one")
        .spawn_on(async { 1 }, &rt.handle());
    rt.block_on(h).unwrap();
    assert!(find(|e| e.contains("quick-one")).is_none());
}

#[test]
fn unretrieved_panic_is_reported() {
    let rt = debug_rt();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let h = corio_rt::task::Builder::new().name("lost-panic").spawn_on(
        async {
            if std::hint::black_box(true) {
                panic!("nobody reads this");
            }
        },
        &rt.handle(),
    );
    wait_until(|| h.is_finished());
    drop(h);
    std::panic::set_hook(prev);
    let e = find(|e| e.contains("exception never retrieved") && e.contains("task.name=lost-panic"));
    assert!(
        e.is_some(),
        "no report for a panic whose JoinHandle was dropped"
    );
}

#[test]
fn stuck_worker_is_reported() {
    let rt = debug_rt();
    let h = rt.spawn(async {
        // Blocks its worker well past the threshold, in one poll.
        std::thread::sleep(Duration::from_millis(1000));
    });
    let id = h.id().as_u64();
    rt.block_on(h).unwrap();
    let e =
        find(|e| e.contains("worker stuck in one poll") && e.contains(&format!("task.id={id}")));
    assert!(e.is_some(), "no stuck-worker report for task {id}");
}
