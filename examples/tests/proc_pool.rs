//! The `proc_pool` example run as a child process: the semaphore bounds how
//! many jobs run at once, output streams line by line with its tag, the exit
//! status says whether every job succeeded, and SIGINT kills running jobs.
//! Every wait is bounded by [`PATIENCE`]; nothing asserts on time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

/// `proc_pool ARGS...` with its stdout lines on a channel; killed on drop.
struct Pool {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Pool {
    fn start(args: &[&str]) -> Pool {
        let mut child = Command::new(env!("CARGO_BIN_EXE_proc_pool"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting proc_pool");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Pool { child, lines }
    }

    /// The next stdout line, if any within [`PATIENCE`].
    fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(PATIENCE).ok()
    }

    /// Every remaining line, until stdout closes.
    fn rest(&self) -> Vec<String> {
        std::iter::from_fn(|| self.next_line()).collect()
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "proc_pool did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Six jobs, two at a time: never more than two between a job's "start"
/// and its "end" line (a job prints its last line before its permit goes
/// back, so the printed order is the real order); every line is tagged;
/// one failing job makes the exit status 123.
#[test]
fn two_at_a_time_streamed_and_summarized() {
    let job = "echo start; sleep 0.1; echo end";
    let mut pool = Pool::start(&[
        "-j",
        "2",
        job,
        job,
        job,
        job,
        job,
        "echo start; echo oops >&2; echo end; exit 3",
    ]);
    assert_eq!(
        pool.next_line().as_deref(),
        Some("proc_pool: 6 job(s), at most 2 at once")
    );
    let lines = pool.rest();
    let mut running = std::collections::HashSet::new();
    let mut started = 0;
    let mut most = 0;
    for line in lines
        .iter()
        .take_while(|l| !l.starts_with("proc_pool: summary"))
    {
        match line.split_once("] ") {
            Some((tag, "start")) => {
                assert!(running.insert(tag.to_string()), "{tag} started twice");
                started += 1;
                most = most.max(running.len());
            }
            Some((tag, "end")) => assert!(running.remove(tag), "{tag} ended before it started"),
            Some(("[6 err", "oops")) => {}
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert_eq!(started, 6, "{lines:#?}");
    assert!(running.is_empty(), "jobs never ended: {running:?}");
    assert!(most <= 2, "{most} jobs ran at once under -j 2");
    let summary: Vec<&String> = lines.iter().filter(|l| l.starts_with("  job ")).collect();
    assert_eq!(summary.len(), 6, "{lines:#?}");
    assert!(summary[0].contains("exit status: 0") && summary[0].contains("2 line(s)"));
    assert!(summary[5].contains("exit status: 3") && summary[5].contains("3 line(s)"));
    assert_eq!(pool.wait_exit().code(), Some(123));
}

/// Ctrl-C (SIGINT from `kill`) while a job runs: the job's child is killed
/// and proc_pool exits 130.
#[test]
fn sigint_kills_running_jobs() {
    let mut pool = Pool::start(&["echo \"pid $$\"; exec sleep 1000"]);
    pool.next_line().expect("header line");
    let line = pool.next_line().expect("the job's pid line");
    let pid: u32 = line
        .strip_prefix("[1] pid ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let status = Command::new("kill")
        .args(["-INT", &pool.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(pool.wait_exit().code(), Some(130));
    // The `sleep 1000` is gone (or a zombie awaiting its new parent), not
    // running on as an orphan.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, rest)| rest.trim().chars().next())
            })
            .flatten();
        match state {
            None | Some('Z') | Some('X') => break,
            Some(state) => {
                if Instant::now() >= deadline {
                    // Do not leave it behind, then fail.
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                    panic!(
                        "the job's child {pid} still runs (state {state}) after proc_pool exited"
                    );
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
