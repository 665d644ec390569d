//! Failure edges a new user runs into: a runtime dropped on one of its own
//! blocking threads, `JoinError` crossing `?` into a `Send + Sync` error,
//! and threads that cannot be started (a lowered `RLIMIT_NPROC`).

mod common;

use std::error::Error;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use corio_rt::{JoinError, Runtime};

#[test]
fn dropping_the_runtime_on_its_own_blocking_thread_shuts_it_down() {
    let rt = rt(1);
    let drops = Drops::default();
    // A task that waits forever: the shutdown must cancel it.
    let guard = DropGuard(drops.clone());
    let _pending = rt.spawn(async move {
        let _g = guard;
        std::future::pending::<()>().await
    });
    let slot: Arc<Mutex<Option<Runtime>>> = Arc::new(Mutex::new(None));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let s = slot.clone();
    let _blocking = rt.spawn_blocking(move || {
        go_rx.recv().unwrap();
        let rt = s.lock().unwrap().take().unwrap();
        drop(rt);
        let _ = done_tx.send(());
    });
    *slot.lock().unwrap() = Some(rt);
    go_tx.send(()).unwrap();
    done_rx
        .recv_timeout(PATIENCE)
        .expect("drop(runtime) on one of its own blocking threads hung");
    assert_eq!(
        drops.count.load(Ordering::SeqCst),
        1,
        "the shutdown cancelled the pending task"
    );
}

/// `?` from a `JoinError` into the usual boxed error; compiles only if
/// `JoinError: Send + Sync + 'static`.
fn join_twice(rt: &Runtime) -> Result<u32, Box<dyn Error + Send + Sync>> {
    let a = rt.block_on(rt.spawn(async { 20 }))?;
    let b = rt.block_on(rt.spawn(async { 22 }))?;
    Ok(a + b)
}

fn boom(rt: &Runtime) -> Result<(), Box<dyn Error + Send + Sync>> {
    rt.block_on(rt.spawn(async { panic!("boom") }))?;
    Ok(())
}

#[test]
fn join_error_is_send_and_sync_and_keeps_its_payload() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<JoinError>();

    let rt = rt(1);
    assert_eq!(join_twice(&rt).unwrap(), 42);
    let err = boom(&rt).unwrap_err();
    assert!(err.to_string().contains("panicked: boom"), "{err}");
    let join_err = err.downcast::<JoinError>().expect("the JoinError itself");
    assert!(join_err.is_panic());
    let payload = join_err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

/// Runs the test `name` again in a child process with `CORIO_CHILD` set (the
/// test then runs its scenario there) and fails if the child fails or does
/// not finish within [`PATIENCE`].
fn in_child(name: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("CORIO_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{name} hung in its child process:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} failed in its child process:\n{text}"
    );
    // What the child found, for the test log (libtest prints it after the
    // test's name, on the same line).
    for line in text.lines() {
        if let Some(i) = line.find("child:") {
            println!("{}", &line[i..]);
        }
    }
}

/// Makes every later thread start of this process fail: RLIMIT_NPROC = 0
/// (as root, after dropping to `nobody`, since root is exempt from it).
/// `false` if this environment cannot do that.
fn forbid_new_threads() -> bool {
    // SAFETY: plain libc calls on values we own; this runs in a child
    // process made for it, so changing its identity affects nothing else.
    unsafe {
        if libc::geteuid() == 0 && (libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
            return false;
        }
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::setrlimit(libc::RLIMIT_NPROC, &none) != 0 {
            return false;
        }
    }
    std::thread::Builder::new().spawn(|| ()).is_err()
}

#[test]
fn a_runtime_whose_threads_cannot_start_is_an_error() {
    if std::env::var_os("CORIO_CHILD").is_none() {
        return in_child("a_runtime_whose_threads_cannot_start_is_an_error");
    }
    if !forbid_new_threads() {
        println!("child: skipped, this environment cannot make thread starts fail");
        return;
    }
    let err = corio_rt::Builder::new()
        .worker_threads(2)
        .build()
        .expect_err("no thread can start, so no runtime");
    println!("child: build failed as it should: {err}");
}

#[test]
fn a_blocking_closure_no_thread_can_run_is_cancelled_with_the_reason() {
    if std::env::var_os("CORIO_CHILD").is_none() {
        return in_child("a_blocking_closure_no_thread_can_run_is_cancelled_with_the_reason");
    }
    let rt = rt(1);
    if !forbid_new_threads() {
        println!("child: skipped, this environment cannot make thread starts fail");
        return;
    }
    let err = rt
        .block_on(rt.spawn_blocking(|| 5))
        .expect_err("the closure cannot have run");
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        err.to_string()
            .contains("no blocking thread could be started"),
        "{err}"
    );
    println!("child: {err}");
    // Nothing is left stranded: a second closure gets the same answer.
    assert!(rt.block_on(rt.spawn_blocking(|| 6)).is_err());
}
