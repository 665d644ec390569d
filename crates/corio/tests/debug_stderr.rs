//! Debug mode writes its reports to stderr when no `tracing` subscriber is
//! installed: `CORIO_DEBUG=1` alone shows a slow poll with the task's name
//! and spawn location, and a panic nobody retrieved.
//!
//! The test runs this test binary again as a child process with
//! `CORIO_DEBUG=1` (only the `child_process` test, which does nothing unless
//! it is that child) and reads the child's stderr.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child's environment.
const CHILD: &str = "CORIO_DEBUG_STDERR_CHILD";

/// The child's program: a slow poll and an unretrieved panic, on the
/// default runtime, configured only by the environment.
#[test]
fn child_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    std::panic::set_hook(Box::new(|_| {}));
    corio::run(async {
        let slow = corio::task::Builder::new()
            .name("sluggish")
            .spawn(async { std::thread::sleep(Duration::from_millis(150)) });
        slow.await.unwrap();

        let lost = corio::task::Builder::new().name("lost-panic").spawn(async {
            if std::hint::black_box(true) {
                panic!("nobody reads this");
            }
        });
        while !lost.is_finished() {
            corio::yield_now().await;
        }
        drop(lost);
    });
}

/// Runs `child_process` in a child with `env` and returns its stderr.
fn run_child(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("CORIO_DEBUG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start the child");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = reader.join().unwrap();
    assert!(status.success(), "the child failed: {status}\n{text}");
    text
}

#[test]
fn corio_debug_reports_on_stderr_without_a_subscriber() {
    let stderr = run_child(&[("CORIO_DEBUG", "1")]);
    let slow = stderr
        .lines()
        .find(|line| line.contains("slow poll"))
        .unwrap_or_else(|| panic!("no slow-poll report on stderr:\n{stderr}"));
    assert!(slow.contains("\"sluggish\""), "no task name: {slow}");
    assert!(
        slow.contains("debug_stderr.rs:"),
        "no spawn location: {slow}"
    );
    let lost = stderr
        .lines()
        .find(|line| line.contains("exception never retrieved"))
        .unwrap_or_else(|| panic!("no unretrieved-panic report on stderr:\n{stderr}"));
    assert!(lost.contains("\"lost-panic\""), "{lost}");
}

#[test]
fn without_corio_debug_nothing_is_reported() {
    let stderr = run_child(&[]);
    assert!(
        !stderr.contains("corio debug"),
        "reports without CORIO_DEBUG:\n{stderr}"
    );
}
