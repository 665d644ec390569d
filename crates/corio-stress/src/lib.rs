//! Shared pieces of the stress binaries in `src/bin/`: the command line,
//! the round loop with its progress line and watchdog, invariant checks, a
//! seeded random number generator, and a few probes of the process
//! (descriptors, threads, memory) and of sockets.
//!
//! | binary           | what it hammers                                           |
//! |------------------|-----------------------------------------------------------|
//! | `spawn_storm`    | flat spawn storms, nested spawn trees, detached tasks, spawns from threads |
//! | `ping_pong`      | pairs of tasks bouncing values through one-slot queues    |
//! | `sync_storm`     | Lock, Semaphore, Queue under contention with random cancellation |
//! | `timer_storm`    | timeouts that fire and don't, aborted sleepers, intervals  |
//! | `group_storm`    | TaskGroups with failures, panics and drops; `wait` and `as_completed` at scale |
//! | `tcp_flood`      | hundreds of loopback clients against an echo server: 1 B–1 MiB messages, half-closes, disconnects and resets mid-message |
//! | `mixed`          | CPU-heavy tasks, `to_thread` calls and request/response I/O at once; request latency bounded |
//! | `shutdown_storm` | runtimes dropped while thousands of tasks wait on locks, queues, sockets and timers |
//!
//! Every binary takes the same flags ([`Common`]):
//!
//! ```text
//! cargo run --release -p corio-stress --bin tcp_flood -- --duration 600 --seed 7
//! ```
//!
//! runs rounds of its workload until `--duration` seconds have passed (at
//! least one round), prints the seed first and a progress line every second
//! (rounds, operations per second, live tasks from `Runtime::metrics()`,
//! memory, descriptors, threads), and ends with `PASS <invariants checked>`
//! (exit 0) or `FAIL <what broke> (seed S, round R)` (exit 1). A round that
//! does not finish within `--hang` seconds is a hang: the watchdog prints
//! `HANG` and exits with status 2. Every random choice of round `R` comes
//! from `(seed, R)`, so `--seed S --first-round R` replays the choices of
//! the round that failed (the interleaving of threads is not replayed).
//!
//! Each invariant can be broken on purpose to show that its check fails:
//! `CORIO_STRESS_FAULT=name[,name...]` turns on the fault injections listed
//! in each binary's header (see [`fault`]); `hang`, in every binary, makes a
//! round that never ends, for the watchdog to catch. `faults.sh` runs them
//! all.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use corio::runtime::{Handle, Runtime};

/// The flags every stress binary takes; flatten it into a binary's own
/// `clap::Args` struct to add more.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Run rounds until this many seconds have passed (at least one round).
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub duration: u64,
    /// Worker threads (default: one per core, or CORIO_WORKER_THREADS).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub workers: Option<u64>,
    /// Seed of every random choice (default: from the clock); printed at start.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Multiplies the size of each round's workload.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub scale: u64,
    /// Number of the first round (to replay the round a failure names).
    #[arg(long, default_value_t = 0, value_name = "R")]
    pub first_round: u64,
    /// A round still running after this many seconds is a hang (exit 2).
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub hang: u64,
}

/// Parses the command line into `A` (usually [`Common`], or a struct that
/// flattens it), for the binary `name` described by `about`. Exits with
/// clap's usage message on a bad flag.
pub fn parse<A: clap::FromArgMatches + clap::Args>(name: &'static str, about: &'static str) -> A {
    let command = A::augment_args(clap::Command::new(name)).about(about);
    let matches = command.get_matches();
    A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Whether the fault injection `name` is switched on through the
/// environment variable `CORIO_STRESS_FAULT` (a comma-separated list).
/// Each binary's header lists its faults and the invariant each breaks.
pub fn fault(name: &str) -> bool {
    std::env::var("CORIO_STRESS_FAULT").is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}

/// A counter of operations, cheap to clone into tasks; the progress line
/// reports its rate.
#[derive(Debug, Clone, Default)]
pub struct Ops(Arc<AtomicU64>);

impl Ops {
    /// Counts `n` operations.
    pub fn add(&self, n: u64) {
        // Relaxed: a statistic read by the progress thread, never used to
        // order other memory.
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Operations counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the progress thread reads.
#[derive(Debug, Default)]
struct Shared {
    ops: Ops,
    rounds: AtomicU64,
    /// Bumped at the start and end of every round: the watchdog's sign of life.
    round_mark: AtomicU64,
    /// The runtime whose live tasks the progress line reports.
    watched: Mutex<Option<Handle>>,
    done: AtomicBool,
}

/// One run of a stress binary: the round loop, the progress line, the
/// watchdog and the tally of invariants.
#[derive(Debug)]
pub struct Stress {
    name: &'static str,
    common: Common,
    seed: u64,
    started: Instant,
    shared: Arc<Shared>,
    /// Invariant name -> times checked.
    invariants: BTreeMap<String, u64>,
    failure: Option<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stress {
    /// Starts a run: prints the settings and the seed, and starts the
    /// thread that prints progress every second and exits with status 2
    /// when a round hangs.
    pub fn start(name: &'static str, common: &Common) -> Stress {
        let seed = common.seed.unwrap_or_else(|| {
            let t = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            splitmix(t.as_nanos() as u64 ^ u64::from(std::process::id()))
        });
        println!(
            "{name}: seed {seed} duration {}s scale {} workers {} hang {}s (pid {})",
            common.duration,
            common.scale,
            common
                .workers
                .map_or_else(|| "default".to_string(), |n| n.to_string()),
            common.hang,
            std::process::id(),
        );
        let probe = Probe::now();
        println!(
            "{name}: start: rss {} KiB, fds {}, threads {}",
            probe.rss_kib, probe.fds, probe.threads
        );
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            let hang = Duration::from_secs(common.hang);
            std::thread::Builder::new()
                .name("stress-progress".into())
                .spawn(move || progress(name, &shared, hang))
                .expect("spawn the progress thread")
        };
        Stress {
            name,
            common: common.clone(),
            seed,
            started: Instant::now(),
            shared,
            invariants: BTreeMap::new(),
            failure: None,
            thread: Some(thread),
        }
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The run's flags.
    pub fn common(&self) -> &Common {
        &self.common
    }

    /// The operation counter the progress line reports.
    pub fn ops(&self) -> Ops {
        self.shared.ops.clone()
    }

    /// A runtime with `--workers` workers (default one per core), named
    /// after the binary; its live tasks go on the progress line.
    pub fn runtime(&self) -> Runtime {
        let rt = self.builder().build().expect("build the corio runtime");
        self.watch(Some(rt.handle()));
        rt
    }

    /// A builder with `--workers` and the binary's thread names.
    pub fn builder(&self) -> corio::runtime::Builder {
        let mut b = corio::runtime::Builder::new().thread_name(self.name);
        if let Some(n) = self.common.workers {
            b = b.worker_threads(n as usize);
        }
        b
    }

    /// Sets the runtime whose live tasks the progress line reports (`None`
    /// before dropping it: the progress thread's handle must not outlive it).
    pub fn watch(&self, handle: Option<Handle>) {
        self.watcher().watch(handle);
    }

    /// A handle on [`Stress::watch`] that a round can own (for binaries
    /// that build a runtime per round).
    pub fn watcher(&self) -> Watcher {
        Watcher(self.shared.clone())
    }

    /// Runs `round` for round numbers `--first-round`, `--first-round + 1`,
    /// ... until `--duration` has passed or a check fails. A panic in a
    /// round is a failure.
    pub fn rounds(&mut self, mut round: impl FnMut(&mut Round<'_>)) {
        let deadline = self.started + Duration::from_secs(self.common.duration);
        let mut index = self.common.first_round;
        loop {
            self.shared.round_mark.fetch_add(1, Ordering::SeqCst);
            let seed = splitmix(self.seed ^ splitmix(index));
            let mut r = Round {
                index,
                seed,
                scale: self.common.scale,
                ops: self.shared.ops.clone(),
                invariants: &mut self.invariants,
                failure: None,
            };
            if fault("hang") {
                // Shows the watchdog's exit 2: a round that never ends.
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            let result = catch_unwind(AssertUnwindSafe(|| round(&mut r)));
            let mut failure = r.failure.take();
            if let Err(panic) = result {
                failure
                    .get_or_insert_with(|| format!("round panicked: {}", panic_message(&*panic)));
            }
            self.shared.round_mark.fetch_add(1, Ordering::SeqCst);
            self.shared.rounds.fetch_add(1, Ordering::SeqCst);
            if let Some(f) = failure {
                self.failure = Some(format!(
                    "{f} (seed {}, round {index}: --seed {} --first-round {index})",
                    self.seed, self.seed
                ));
                return;
            }
            index += 1;
            if Instant::now() >= deadline {
                return;
            }
        }
    }

    /// Records a check made outside the rounds (e.g. after the runtime is
    /// dropped).
    pub fn check(&mut self, holds: bool, invariant: &str, detail: impl Display) {
        *self.invariants.entry(invariant.to_string()).or_default() += 1;
        if !holds && self.failure.is_none() {
            self.failure = Some(format!("{invariant}: {detail} (seed {})", self.seed));
        }
    }

    /// Whether a check has failed so far.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// Marks the end of work outside a round (so the watchdog knows the
    /// binary is alive) before a long step such as dropping the runtime.
    pub fn alive(&self) {
        self.shared.round_mark.fetch_add(2, Ordering::SeqCst);
    }

    /// Prints the closing figures and `PASS ...` or `FAIL ...`, stops the
    /// progress thread, and returns the exit code (0 or 1).
    pub fn finish(mut self) -> ExitCode {
        self.watch(None);
        self.shared.done.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let elapsed = self.started.elapsed();
        let rounds = self.shared.rounds.load(Ordering::SeqCst);
        let ops = self.shared.ops.get();
        let probe = Probe::now();
        println!(
            "{}: end: {rounds} rounds, {ops} ops in {:.1}s ({:.0} ops/s); rss {} KiB, fds {}, threads {}",
            self.name,
            elapsed.as_secs_f64(),
            ops as f64 / elapsed.as_secs_f64().max(1e-9),
            probe.rss_kib,
            probe.fds,
            probe.threads,
        );
        for (invariant, times) in &self.invariants {
            println!("  checked {times:>7}x  {invariant}");
        }
        let checks: u64 = self.invariants.values().sum();
        match self.failure {
            None => {
                println!(
                    "PASS {}: {} invariants checked {checks} times over {rounds} rounds (seed {})",
                    self.name,
                    self.invariants.len(),
                    self.seed
                );
                ExitCode::SUCCESS
            }
            Some(f) => {
                println!("FAIL {}: {f}", self.name);
                ExitCode::from(1)
            }
        }
    }
}

/// Sets which runtime the progress line reports; from [`Stress::watcher`].
#[derive(Debug, Clone)]
pub struct Watcher(Arc<Shared>);

impl Watcher {
    /// As [`Stress::watch`].
    pub fn watch(&self, handle: Option<Handle>) {
        *self.0.watched.lock().unwrap_or_else(|e| e.into_inner()) = handle;
    }
}

/// The progress thread: a line a second, and the watchdog.
fn progress(name: &'static str, shared: &Shared, hang: Duration) {
    let started = Instant::now();
    let mut last_ops = 0;
    let mut last_tick = started;
    let mut mark = shared.round_mark.load(Ordering::SeqCst);
    let mut mark_since = started;
    while !shared.done.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        let now = Instant::now();
        let m = shared.round_mark.load(Ordering::SeqCst);
        if m != mark {
            mark = m;
            mark_since = now;
        } else if now - mark_since >= hang && !shared.done.load(Ordering::SeqCst) {
            println!(
                "HANG {name}: no round ended for {:?} (round {} running); exiting with status 2",
                hang,
                shared.rounds.load(Ordering::SeqCst)
            );
            std::process::exit(2);
        }
        if now - last_tick < Duration::from_secs(1) {
            continue;
        }
        let ops = shared.ops.get();
        let rate = (ops - last_ops) as f64 / (now - last_tick).as_secs_f64();
        let live = shared
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or_else(
                || "-".to_string(),
                |h| h.metrics().num_alive_tasks.to_string(),
            );
        let probe = Probe::now();
        println!(
            "{name} [{:>5.0}s] rounds {:>6}  ops/s {:>10.0}  live tasks {:>7}  rss {:>7} KiB  fds {:>5}  threads {:>4}",
            (now - started).as_secs_f64(),
            shared.rounds.load(Ordering::SeqCst),
            rate,
            live,
            probe.rss_kib,
            probe.fds,
            probe.threads,
        );
        last_ops = ops;
        last_tick = now;
    }
}

/// One round: its number, its seed, and where its checks go.
#[derive(Debug)]
pub struct Round<'a> {
    /// The round's number.
    pub index: u64,
    /// The round's seed, derived from the run's seed and `index`.
    pub seed: u64,
    /// `--scale`.
    pub scale: u64,
    ops: Ops,
    invariants: &'a mut BTreeMap<String, u64>,
    failure: Option<String>,
}

impl Round<'_> {
    /// A generator seeded from the round's seed and `stream` (use distinct
    /// streams for independent choices, e.g. one per task).
    pub fn rng(&self, stream: u64) -> Rng {
        Rng::new(splitmix(self.seed ^ splitmix(stream.wrapping_add(0x5EED))))
    }

    /// The operation counter.
    pub fn ops(&self) -> Ops {
        self.ops.clone()
    }

    /// Records one check of `invariant`; `detail` says what was seen. The
    /// first failing check of a run is the one reported.
    pub fn check(&mut self, holds: bool, invariant: &str, detail: impl Display) {
        *self.invariants.entry(invariant.to_string()).or_default() += 1;
        if !holds {
            println!("  FAIL  [{invariant}] {detail}");
            self.failure
                .get_or_insert_with(|| format!("{invariant}: {detail}"));
        }
    }

    /// Records `actual == expected` as a check of `invariant`.
    pub fn check_eq<T: PartialEq + std::fmt::Debug>(
        &mut self,
        invariant: &str,
        actual: T,
        expected: T,
    ) {
        let holds = actual == expected;
        self.check(
            holds,
            invariant,
            format_args!("{actual:?} (expected {expected:?})"),
        );
    }

    /// Whether a check of this round failed.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// SplitMix64's finalizer: spreads a seed's bits (seeds 1, 2, 3 become
/// unrelated streams).
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: a small, fast, seeded generator for test schedules and
/// payloads. Not for anything else.
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

    /// A size in `1..=max`, log-uniform: as many sizes under 1 KiB as
    /// between 1 KiB and 1 MiB, so small and large messages both occur.
    pub fn log_size(&mut self, max: usize) -> usize {
        let bits = usize::BITS - max.leading_zeros();
        let b = self.below(u64::from(bits)) as u32;
        let lo = 1usize << b;
        let hi = (lo << 1).min(max + 1);
        lo + self.below((hi - lo) as u64) as usize
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// FNV-1a, 64 bits, kept running across calls: the checksum of echoed
/// streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum(pub u64);

impl Default for Checksum {
    fn default() -> Checksum {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
}

impl Checksum {
    /// Feeds `bytes` in.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A snapshot of the process: resident memory, open descriptors, threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Resident set size (`VmRSS`), KiB; 0 where `/proc` is missing.
    pub rss_kib: u64,
    /// Entries in `/proc/self/fd`.
    pub fds: usize,
    /// Entries in `/proc/self/task`.
    pub threads: usize,
}

impl Probe {
    /// Reads `/proc/self` now.
    pub fn now() -> Probe {
        Probe {
            rss_kib: rss_kib(),
            fds: fd_count(),
            threads: thread_count(),
        }
    }
}

/// Open descriptors of this process (`/proc/self/fd`, without the one the
/// listing itself holds); 0 where `/proc` is missing.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count().saturating_sub(1))
}

/// Threads of this process (`/proc/self/task`); 0 where `/proc` is missing.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Resident memory of this process in KiB; 0 where `/proc` is missing.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used so far (`getrusage`).
pub fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain old data for which all-zero bytes are a
    // valid value; `getrusage` only writes into the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Sets `SO_LINGER` to zero on a socket: closing it then sends a reset
/// (RST) instead of a FIN, and unsent data is thrown away.
pub fn set_linger_zero(socket: &impl std::os::fd::AsRawFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is borrowed from a live socket, and we pass a
    // pointer to a `linger` that lives across the call together with its
    // exact size, as setsockopt(2) requires for SO_LINGER.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Waits (sleeping 10 ms at a time, at most `bound`) until `f` returns
/// true; returns its last answer. For counts that settle shortly after the
/// work that changes them (a descriptor closed by a task still finishing).
pub fn settle(bound: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return f();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Latency percentiles of a sample (sorted in place).
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl Percentiles {
    /// Sorts `samples` and reads the percentiles.
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            count: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

impl Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n {} p50 {:.3} ms p99 {:.3} ms max {:.3} ms",
            self.count,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_size_stays_in_range_and_spans_it() {
        let mut rng = Rng::new(1);
        let sizes: Vec<usize> = (0..10_000).map(|_| rng.log_size(1 << 20)).collect();
        assert!(sizes.iter().all(|&s| (1..=1 << 20).contains(&s)));
        assert!(sizes.iter().any(|&s| s < 16));
        assert!(sizes.iter().any(|&s| s > 1 << 19));
    }

    #[test]
    fn same_seed_same_choices() {
        let a: Vec<u64> = {
            let mut r = Rng::new(splitmix(42));
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(splitmix(42));
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(splitmix(1), splitmix(2));
    }

    #[test]
    fn percentiles_of_a_known_sample() {
        let mut s: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let p = Percentiles::of(&mut s);
        assert_eq!(p.count, 100);
        assert_eq!(p.max, Duration::from_millis(100));
        assert_eq!(p.p99, Duration::from_millis(99));
        assert_eq!(p.p50, Duration::from_millis(51));
    }
}
