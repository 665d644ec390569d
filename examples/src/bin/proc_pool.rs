//! proc_pool: runs shell commands concurrently, at most N at a time, and
//! streams their output as it comes.
//!
//! `cargo run --release -p corio-examples --bin proc_pool [-j N] [COMMAND]...`
//!
//! Each COMMAND runs under `sh -c`; with none, a demo set runs. Every line a
//! job writes is printed as it arrives, tagged `[N]` (stdout) or `[N err]`
//! (stderr); a summary follows once all are done. The exit status is 0 when
//! every job succeeded and 123 otherwise (as `xargs`). Ctrl-C or SIGTERM
//! kills the running jobs and exits 130.
//!
//! The asyncio program it mirrors:
//!
//! ```text
//! async def job(n, cmd, pool):
//!     async with pool:                                   # Semaphore(N)
//!         proc = await asyncio.create_subprocess_shell(cmd, stdout=PIPE, stderr=PIPE)
//!         await asyncio.gather(pump(n, proc.stdout), pump(n, proc.stderr))
//!         return await proc.wait()
//!
//! async with asyncio.TaskGroup() as tg:
//!     for n, cmd in enumerate(cmds, 1):
//!         tg.create_task(job(n, cmd, pool))
//! ```
//!
//! - `corio::sync::Semaphore` bounds how many children run at once; a job's
//!   permit is held from spawn to reaping.
//! - `corio::process::Command` spawns each child with piped stdout and
//!   stderr (`Async` pipes on the driver) and `kill_on_drop`, so a cancelled
//!   job kills its child.
//! - `corio::io::BufReader::read_line` streams each pipe; the two pipes of a
//!   job are pumped together with `gather!`.
//! - `corio::task::TaskGroup` holds the jobs; `corio::signal::Signals`
//!   races it, and dropping the group on a signal cancels (and so kills)
//!   whatever still runs.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use corio::process::{Command, ExitStatus, Stdio};
use corio::signal::{Signals, SIGINT, SIGTERM};
use corio::sync::Semaphore;
use corio::task::TaskGroup;

/// Jobs at once when `-j` is not given.
const DEFAULT_JOBS: usize = 3;

/// The commands run when none are given.
const DEMO: &[&str] = &[
    "for i in 1 2 3; do echo \"tick $i\"; sleep 0.2; done",
    "echo 'to stdout'; echo 'to stderr' >&2",
    "sleep 0.3; echo 'slept 0.3 s'",
    "seq 1 5 | sort -rn | paste -sd ' '",
    "head -c 1000000 /dev/zero | wc -c",
    "uname -s",
    "for i in 1 2; do echo \"tock $i\"; sleep 0.1; done",
    "echo \"sh pid $$\"",
];

/// What one job did.
struct Report {
    status: ExitStatus,
    lines: usize,
    elapsed: Duration,
}

#[corio::main]
async fn main() -> io::Result<ExitCode> {
    let (jobs, commands) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            eprintln!("usage: proc_pool [-j N] [COMMAND]...");
            return Ok(ExitCode::from(2));
        }
    };
    // Caught before any child starts: a Ctrl-C from here on cancels cleanly.
    let mut stop = Signals::new(&[SIGINT, SIGTERM])?;
    println!(
        "proc_pool: {} job(s), at most {jobs} at once",
        commands.len()
    );
    let pool = Arc::new(Semaphore::new(jobs));
    let group: TaskGroup<Report, io::Error> = TaskGroup::new();
    for (n, cmd) in commands.iter().enumerate() {
        group.spawn(run_job(n + 1, cmd.clone(), pool.clone()));
    }
    let reports = corio::select! {
        // Listed first: a signal wins over jobs finishing at the same poll.
        signal = stop.recv() => {
            // The join future, and with it the group, is dropped before
            // this branch runs: every job is cancelled, its child killed.
            let name = if signal == Some(SIGINT) { "SIGINT" } else { "SIGTERM" };
            println!("proc_pool: {name}: running jobs killed");
            return Ok(ExitCode::from(130));
        }
        reports = group.join() => reports,
    };
    let reports = match reports {
        Ok(reports) => reports,
        Err(e) => {
            // An I/O error (spawn failed, say) cancelled the rest.
            for err in e.errors() {
                eprintln!("proc_pool: {err}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    println!("proc_pool: summary");
    let mut failed = 0;
    for (n, (report, cmd)) in reports.iter().zip(&commands).enumerate() {
        if !report.status.success() {
            failed += 1;
        }
        println!(
            "  job {}: {}, {} line(s), {:.2} s: {cmd}",
            n + 1,
            report.status,
            report.lines,
            report.elapsed.as_secs_f64()
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(123)
    })
}

/// Runs `cmd` once a permit is free, printing its output as it comes.
async fn run_job(n: usize, cmd: String, pool: Arc<Semaphore>) -> io::Result<Report> {
    // Held until the child is reaped; the semaphore is never closed.
    let _permit = pool.acquire().await.expect("the pool is never closed");
    let started = Instant::now();
    let mut child = Command::new("sh")
        .args(["-c", &cmd])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let stderr = child.stderr.take().expect("stderr was piped");
    let tag = n.to_string();
    let err_tag = format!("{n} err");
    let (out_lines, err_lines) = corio::gather!(pump(&tag, stdout), pump(&err_tag, stderr));
    let status = child.wait().await?;
    Ok(Report {
        status,
        lines: out_lines? + err_lines?,
        elapsed: started.elapsed(),
    })
}

/// Prints every line of `pipe` tagged `[tag]`; returns how many.
async fn pump(tag: &str, pipe: impl AsyncRead + Unpin) -> io::Result<usize> {
    let mut reader = BufReader::new(pipe);
    let mut line = String::new();
    let mut count = 0;
    while reader.read_line(&mut line).await? > 0 {
        println!("[{tag}] {}", line.trim_end_matches('\n'));
        line.clear();
        count += 1;
    }
    Ok(count)
}

/// `[-j N] [COMMAND]...`; no command means the demo set.
fn parse_args(args: impl Iterator<Item = String>) -> Result<(usize, Vec<String>), String> {
    let mut jobs = DEFAULT_JOBS;
    let mut commands = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-j" | "--jobs" => {
                let value = args.next().ok_or("-j needs a number")?;
                jobs = value
                    .parse()
                    .ok()
                    .filter(|&j| j > 0)
                    .ok_or_else(|| format!("-j {value}: not a positive number"))?;
            }
            "-h" | "--help" => return Err("proc_pool: runs shell commands, N at a time".into()),
            _ => commands.push(arg),
        }
    }
    if commands.is_empty() {
        commands = DEMO.iter().map(|c| c.to_string()).collect();
    }
    Ok((jobs, commands))
}
