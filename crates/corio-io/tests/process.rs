//! Child processes through the default reaping path (a pidfd per child on
//! Linux). The same cases run over the SIGCHLD listener in
//! `process_sigchld.rs`.

mod common;
mod process_cases;

use process_cases as cases;

#[test]
fn megabyte_through_cat() {
    cases::megabyte_through_cat();
}

#[test]
fn two_hundred_children_all_reaped() {
    cases::two_hundred_children_all_reaped();
}

#[test]
fn children_awaited_in_one_task() {
    cases::children_awaited_in_one_task();
}

#[test]
fn killed_child_status() {
    cases::killed_child_status();
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    cases::kill_on_drop_kills_and_reaps();
}

#[test]
fn dropped_child_runs_on_and_is_reaped() {
    cases::dropped_child_runs_on_and_is_reaped();
}

#[test]
fn output_and_status() {
    cases::output_and_status();
}

#[test]
fn spawn_error() {
    cases::spawn_error();
}

#[test]
fn wait_is_cancel_safe() {
    cases::wait_is_cancel_safe();
}

/// On Linux the default path is a pidfd, not a SIGCHLD handler.
#[cfg(target_os = "linux")]
#[test]
fn linux_children_use_a_pidfd() {
    let child = corio_io::process::Command::new("true").spawn().unwrap();
    let debug = format!("{child:?}");
    assert!(debug.contains("pidfd"), "{debug}");
    drop(child);
}

/// A shell pipeline: one child's stdout is the next one's stdin.
#[test]
fn pipeline_between_children() {
    use corio_io::process::{Command, Stdio};
    let out = common::block_on_within(cases::LIMIT, async {
        let mut producer = Command::new("sh")
            .args(["-c", "printf 'b\\na\\nc\\n'"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: Stdio = producer.stdout.take().unwrap().try_into().unwrap();
        let out = Command::new("sort").stdin(stdout).output().await.unwrap();
        assert!(producer.wait().await.unwrap().success());
        out
    });
    assert!(out.status.success());
    assert_eq!(out.stdout, b"a\nb\nc\n");
}
