//! Shared pieces of the stress binaries in `src/bin/`: argument parsing, a
//! watchdog that turns a hang into a failure, invariant checks and a tiny
//! random number generator (no dependency beyond corio).
//!
//! | binary        | what it hammers                                           |
//! |---------------|-----------------------------------------------------------|
//! | `spawn_storm` | a million spawns, nested spawn trees, detached tasks, spawns from threads |
//! | `ping_pong`   | pairs of tasks bouncing values through one-slot queues    |
//! | `sync_storm`  | Lock, Semaphore, Queue under contention with random cancellation |
//! | `timer_storm` | timeouts that fire and don't, aborted sleepers, intervals  |
//! | `group_storm` | TaskGroups with failures, panics and drops; `wait` and `as_completed` at scale |
//!
//! Run one with `cargo run --release -p corio-stress --bin sync_storm -- 2 60`
//! (twice the default work, hang after 60 s).
//!
//! Every binary takes two optional positional arguments:
//! `<scale> <bound-seconds>`. `scale` multiplies the default amount of work
//! (1 = defaults sized to finish in a few seconds on 2 cores in release,
//! under about 20 s in a debug build); the bound is
//! how long the run may take before the watchdog declares it hung and exits
//! with status 2. A violated invariant exits with status 1.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Parsed command line: `<scale> <bound-seconds>`.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    /// Multiplies every workload's default size.
    pub scale: u64,
    /// How long the whole run may take before it counts as hung.
    pub bound: Duration,
}

impl Args {
    /// Reads `std::env::args()`; prints usage and exits on a bad argument.
    pub fn parse(name: &str) -> Args {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let parse = |i: usize, default: u64| -> u64 {
            match argv.get(i) {
                None => default,
                Some(s) => s.parse().unwrap_or_else(|_| {
                    eprintln!("usage: {name} [scale (default 1)] [bound-seconds (default 120)]");
                    std::process::exit(64);
                }),
            }
        };
        let args = Args {
            scale: parse(0, 1).max(1),
            bound: Duration::from_secs(parse(1, 120).max(1)),
        };
        println!("{name}: scale {} bound {:?}", args.scale, args.bound);
        args
    }
}

/// Exits the process with status 2 if not disarmed within the bound: a hang
/// (a lost wake-up, a deadlock) becomes a failure instead of a stuck CI job.
#[derive(Debug)]
pub struct Watchdog {
    disarmed: Arc<AtomicBool>,
}

impl Watchdog {
    /// Starts the watchdog thread for a run named `name`.
    pub fn start(name: &'static str, bound: Duration) -> Watchdog {
        let disarmed = Arc::new(AtomicBool::new(false));
        let flag = disarmed.clone();
        std::thread::Builder::new()
            .name("stress-watchdog".into())
            .spawn(move || {
                let start = Instant::now();
                while start.elapsed() < bound {
                    std::thread::sleep(Duration::from_millis(50));
                    if flag.load(Ordering::SeqCst) {
                        return;
                    }
                }
                eprintln!("{name}: FAILED: still running after {bound:?} (hang?)");
                std::process::exit(2);
            })
            .expect("spawn watchdog thread");
        Watchdog { disarmed }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.disarmed.store(true, Ordering::SeqCst);
    }
}

/// Collects the invariants a run checked and whether each held.
#[derive(Debug, Default)]
pub struct Report {
    name: &'static str,
    failed: usize,
    passed: usize,
}

impl Report {
    /// An empty report for the binary `name`.
    pub fn new(name: &'static str) -> Report {
        Report {
            name,
            failed: 0,
            passed: 0,
        }
    }

    /// Records one invariant; prints it either way.
    pub fn check(&mut self, holds: bool, what: impl std::fmt::Display) {
        if holds {
            self.passed += 1;
            println!("  ok    {what}");
        } else {
            self.failed += 1;
            println!("  FAIL  {what}");
        }
    }

    /// Records `actual == expected`.
    pub fn check_eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, actual: T, expected: T) {
        let holds = actual == expected;
        self.check(
            holds,
            format_args!("{what}: {actual:?} (expected {expected:?})"),
        );
    }

    /// The exit code: success only if every invariant held.
    pub fn finish(self, started: Instant) -> ExitCode {
        let elapsed = started.elapsed();
        if self.failed == 0 {
            println!(
                "{}: {} invariants held in {elapsed:.2?}",
                self.name, self.passed
            );
            ExitCode::SUCCESS
        } else {
            println!(
                "{}: FAILED: {} of {} invariants violated ({elapsed:.2?})",
                self.name,
                self.failed,
                self.failed + self.passed
            );
            ExitCode::from(1)
        }
    }
}

/// xorshift64*: a small, fast, seeded generator for choosing what to cancel.
/// Not for anything but test schedules.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A runtime with the default number of workers (one per core, or
/// `CORIO_WORKER_THREADS`), named after the binary.
pub fn runtime(name: &str) -> corio::runtime::Runtime {
    corio::runtime::Builder::new()
        .thread_name(format!("{name}-worker"))
        .build()
        .expect("build the corio runtime")
}
