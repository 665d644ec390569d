//! Real signals sent to this test process, with `kill(2)` and the `kill`
//! program.
//!
//! Signal handlers are process-wide, and the test harness runs tests on
//! parallel threads, so every test here owns its signal(s): no two tests
//! send or listen to the same number. A signal sent to the process may be
//! handled on any thread; the listeners do not care which.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::block_on_within;
use corio_io::signal::{ctrl_c, Signals, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use futures_lite::StreamExt;

const LIMIT: Duration = Duration::from_secs(60);

/// Sends `signal` to this process.
fn kill_self(signal: i32) {
    // SAFETY: kill(2) with our own pid and a signal the calling test
    // listens to (or, in `dropped_listener_leaves_the_signal_ignored`, one
    // whose handler is known to be installed).
    let rc = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

/// A real-time signal number owned by one test (`SIGRTMIN + k`).
fn rt(k: i32) -> i32 {
    libc::SIGRTMIN() + k
}

/// The handler is installed by `new` itself: a signal sent before the first
/// poll is recorded, and does not kill the process (SIGUSR1's default
/// action would).
#[test]
fn signal_right_after_new_is_seen() {
    let mut signals = Signals::new(&[SIGUSR1]).unwrap();
    kill_self(SIGUSR1);
    let got = block_on_within(LIMIT, signals.next());
    assert_eq!(got, Some(SIGUSR1));
}

/// Three listeners for one signal each see the one delivery.
#[test]
fn several_listeners_all_see_it() {
    let mut a = Signals::new(&[SIGUSR2]).unwrap();
    let mut b = Signals::new(&[SIGUSR2]).unwrap();
    let mut c = Signals::new(&[SIGUSR2]).unwrap();
    kill_self(SIGUSR2);
    block_on_within(LIMIT, async {
        assert_eq!(a.recv().await, Some(SIGUSR2));
        assert_eq!(b.recv().await, Some(SIGUSR2));
        assert_eq!(c.next().await, Some(SIGUSR2));
    });
}

/// A listener waiting in the driver (already polled, `Pending`) is woken by
/// a signal sent later from another thread, and again for a second one.
#[test]
fn a_waiting_listener_is_woken() {
    let sig = rt(1);
    let mut signals = Signals::new(&[sig]).unwrap();
    for _ in 0..2 {
        let sender = std::thread::spawn(move || {
            // Let the main thread reach its wait first, most of the time;
            // correctness does not depend on who is first.
            std::thread::sleep(Duration::from_millis(20));
            kill_self(sig);
        });
        assert_eq!(block_on_within(LIMIT, signals.recv()), Some(sig));
        sender.join().unwrap();
    }
}

/// One stream for two signals yields each of them.
#[test]
fn one_stream_several_signals() {
    let (x, y) = (rt(2), rt(3));
    let mut signals = Signals::new(&[x, y]).unwrap();
    assert_eq!(signals.signals(), &[x, y]);
    kill_self(x);
    kill_self(y);
    let got: HashSet<i32> = block_on_within(LIMIT, async {
        let first = signals.recv().await.unwrap();
        let second = signals.recv().await.unwrap();
        [first, second].into_iter().collect()
    });
    assert_eq!(got, HashSet::from([x, y]));
}

/// SIGTERM from another process, the way a service manager stops a server.
#[test]
fn sigterm_from_the_kill_program() {
    let mut signals = Signals::new(&[SIGTERM]).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(block_on_within(LIMIT, signals.recv()), Some(SIGTERM));
}

/// `ctrl_c()` installs its handler when called and completes on SIGINT.
#[test]
fn ctrl_c_completes_on_sigint() {
    let fut = ctrl_c();
    kill_self(SIGINT);
    block_on_within(LIMIT, fut).unwrap();
}

/// After the last listener is dropped the signal is ignored (the handler
/// stays, as documented), and a new listener hears it again.
#[test]
fn dropped_listener_leaves_the_signal_ignored() {
    let signals = Signals::new(&[SIGHUP]).unwrap();
    drop(signals);
    // SIGHUP's default action would end the process here.
    kill_self(SIGHUP);
    let mut again = Signals::new(&[SIGHUP]).unwrap();
    kill_self(SIGHUP);
    assert_eq!(block_on_within(LIMIT, again.recv()), Some(SIGHUP));
}

/// Bad input is an `InvalidInput` error, not a panic; a list with one bad
/// signal is refused whole.
#[test]
fn bad_signal_lists_are_errors() {
    use std::io::ErrorKind::InvalidInput;
    for bad in [
        vec![libc::SIGKILL],
        vec![libc::SIGSTOP],
        vec![libc::SIGSEGV],
        vec![0],
        vec![-1],
        vec![10_000],
        vec![],
        vec![rt(4), libc::SIGKILL],
    ] {
        let err = Signals::new(&bad).unwrap_err();
        assert_eq!(err.kind(), InvalidInput, "{bad:?}: {err}");
    }
}
