//! Child-process cases shared by the `process` (pidfd on Linux) and
//! `process_sigchld` (the SIGCHLD listener) test binaries: the same
//! behaviour is required of both reaping paths.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use corio_io::process::{Child, Command, Stdio};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::common::{block_on_within, boxed, join_all, payload, run_all};

/// Generous bound for anything a test waits for.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// What `/proc/PID/stat` says about `pid`: `None` if it does not exist,
/// else (state letter, parent pid).
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so
    // parse from the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is a zombie child of this process (exited, not reaped).
pub(crate) fn is_our_zombie(pid: u32) -> bool {
    matches!(proc_stat(pid), Some(('Z', ppid)) if ppid == std::process::id())
}

/// Whether `pid` is a live (not exited) child of this process.
fn is_our_live_child(pid: u32) -> bool {
    matches!(proc_stat(pid), Some((state, ppid)) if state != 'Z' && ppid == std::process::id())
}

/// Waits (bounded by [`LIMIT`]) until `pid` is no longer a child of ours,
/// live or zombie: it exited and was reaped. Panics otherwise.
pub(crate) fn wait_until_reaped(pid: u32, what: &str) {
    let deadline = Instant::now() + LIMIT;
    loop {
        match proc_stat(pid) {
            None => return,
            Some((_, ppid)) if ppid != std::process::id() => return,
            Some((state, _)) => assert!(
                Instant::now() < deadline,
                "{what}: pid {pid} still our child in state {state} after {LIMIT:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// 1 MB written to `cat`'s stdin comes back unchanged on its stdout, with
/// the writer and the reader running at once (the pipes hold far less than
/// 1 MB, so neither side can finish first on its own).
pub(crate) fn megabyte_through_cat() {
    let data = payload(1 << 20);
    let echoed = block_on_within(LIMIT, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let write = async {
            stdin.write_all(&data).await.unwrap();
            stdin.close().await.unwrap();
        };
        let read = async {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).await.unwrap();
            out
        };
        let ((), out) = futures_lite::future::zip(write, read).await;
        let status = child.wait().await.unwrap();
        assert!(status.success(), "cat: {status}");
        out
    });
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "cat changed the bytes");
}

/// 200 short children at once, each awaited by its own task on four
/// threads: every status is right and no zombie is left behind.
pub(crate) fn two_hundred_children_all_reaped() {
    const N: usize = 200;
    let pids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let futs = (0..N)
        .map(|i| {
            let pids = pids.clone();
            boxed(async move {
                let code = (i % 7) as i32;
                let mut child = if i % 2 == 0 {
                    Command::new("sh")
                        .args(["-c", &format!("exit {code}")])
                        .spawn()
                        .unwrap()
                } else {
                    Command::new(if code == 0 { "true" } else { "false" })
                        .spawn()
                        .unwrap()
                };
                pids.lock().unwrap().push(child.id());
                let status = child.wait().await.unwrap();
                let want = if i % 2 == 0 {
                    code
                } else {
                    i32::from(code != 0)
                };
                assert_eq!(status.code(), Some(want), "child {i}: {status}");
            })
        })
        .collect();
    run_all(4, futs, LIMIT);
    let pids = pids.lock().unwrap();
    assert_eq!(pids.len(), N);
    for &pid in pids.iter() {
        assert!(!is_our_zombie(pid), "pid {pid} left as a zombie");
    }
}

/// Children awaited concurrently inside one task (one waker for all).
pub(crate) fn children_awaited_in_one_task() {
    block_on_within(LIMIT, async {
        let mut children: Vec<Child> = (0..20)
            .map(|i| {
                Command::new("sh")
                    .args(["-c", &format!("exit {i}")])
                    .spawn()
                    .unwrap()
            })
            .collect();
        let waits = children.iter_mut().map(|c| Box::pin(c.wait())).collect();
        let statuses = join_all(waits).await;
        for (i, s) in statuses.into_iter().enumerate() {
            assert_eq!(s.unwrap().code(), Some(i as i32));
        }
    });
}

/// `Child::kill` and a `kill -9` from another process: the status says
/// signal 9, no exit code.
pub(crate) fn killed_child_status() {
    block_on_within(LIMIT, async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
        assert_eq!(status.code(), None);
        // Killing a reaped child is a no-op, and wait repeats the status.
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));

        // The same, signalled from outside with the `kill` program.
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        let killer = Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status()
            .await
            .unwrap();
        assert!(killer.success());
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));

        // And SIGTERM through send_signal (asyncio's terminate()).
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.send_signal(libc::SIGTERM).unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));
    });
}

/// A child dropped with `kill_on_drop` is killed, and reaped by the driver
/// with nothing awaiting it.
pub(crate) fn kill_on_drop_kills_and_reaps() {
    let pid = block_on_within(LIMIT, async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        child.id()
    });
    wait_until_reaped(pid, "kill_on_drop child");
}

/// A child dropped without `kill_on_drop` runs on, and is reaped when it
/// exits later: here `cat`, which exits when its stdin (kept by the test)
/// is closed.
pub(crate) fn dropped_child_runs_on_and_is_reaped() {
    let (pid, stdin) = block_on_within(LIMIT, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        (child.id(), stdin)
    });
    // Dropped, not killed: still running (its stdin is open).
    assert!(is_our_live_child(pid), "a dropped child must not be killed");
    drop(stdin);
    wait_until_reaped(pid, "dropped child after its exit");
}

/// `output` collects stdout and stderr (more than a pipe holds, to show
/// both are drained at once) with std's defaults; `status` and
/// `wait_with_output` agree.
pub(crate) fn output_and_status() {
    block_on_within(LIMIT, async {
        // 200 KB on each stream: more than a pipe's 64 KB buffer.
        let script = "head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2; exit 5";
        let out = Command::new("sh")
            .args(["-c", script])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(5));
        assert_eq!(out.stdout.len(), 200_000);
        assert_eq!(out.stderr.len(), 200_000);

        // output's empty stdin: `cat` reads end-of-file at once.
        let out = Command::new("cat").output().await.unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty());

        // A stdout the caller set wins over output's default.
        let out = Command::new("echo")
            .arg("x")
            .stdout(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(out.stdout.is_empty());

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 2"]);
        assert_eq!(cmd.status().await.unwrap().code(), Some(2));
        assert!(Command::new("true").status().await.unwrap().success());
    });
}

/// A program that does not exist is an error from `spawn`.
pub(crate) fn spawn_error() {
    let err = Command::new("/nonexistent/corio-test-program")
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

/// Dropping a `wait` future leaves the child to a later `wait`.
pub(crate) fn wait_is_cancel_safe() {
    block_on_within(LIMIT, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        {
            let wait = child.wait();
            let timed = corio_io::time::wait_for(wait, Duration::from_millis(20)).await;
            assert!(timed.is_err(), "cat exited with its stdin open");
        }
        drop(stdin);
        assert!(child.wait().await.unwrap().success());
    });
}
