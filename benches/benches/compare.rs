//! `compare`: corio, tokio and smol (async-executor) side by side.
//!
//! ```text
//! cargo bench -p corio-benches --bench compare
//! cargo bench -p corio-benches --bench compare -- --filter spawn --runs 31 --workers 2
//! ```
//!
//! Every workload runs on all three runtimes, interleaved run by run, after
//! one warm-up run each. The order changes each run, cycling through all six,
//! so no runtime always goes first or always runs right after another's
//! burst; a 1 ms pause before each run lets the previous runtime's workers
//! park. The session makes several passes over the workloads, each taking a
//! share of every workload's runs, so a burst of load from elsewhere on a
//! shared machine hits part of a workload's runs rather than all of them.
//! The table shows each runtime's median and the ratios corio/tokio and
//! corio/smol (below 1.00: corio is faster). The table goes to stdout,
//! progress to stderr.
//!
//! Options, as arguments after `--` or as environment variables:
//! - `--filter NAME` / `COMPARE_FILTER`: only workloads whose name contains
//!   NAME (repeatable; a bare argument is a filter too).
//! - `--runs N` / `COMPARE_RUNS`: measured runs per runtime, at least
//!   (default 21).
//! - `--min-time SECS` / `COMPARE_MIN_TIME`: keep adding runs (in cycles of
//!   6, up to 20 × N) until a workload has been measured this long in all
//!   (default 3). Short workloads get more runs, which a shared, noisy
//!   machine needs; long ones stop at N.
//! - `--passes N` / `COMPARE_PASSES`: passes over the workloads, each
//!   taking 1/N of every workload's runs and minimum time (default 3).
//! - `--workers N` / `COMPARE_WORKERS`: worker threads of each runtime
//!   (default 2).
//! - `--warmup N` / `COMPARE_WARMUP`: unmeasured runs first (default 1).
//! - `--timeout SECS` / `COMPARE_TIMEOUT`: a workload whose single run
//!   takes longer than this is marked hung in the table (default 120); the
//!   runtimes are abandoned and fresh ones measure the remaining workloads.
//!   A workload that panics is marked likewise. Either makes the exit code 3.
//! - `--runtime NAME` / `COMPARE_RUNTIME`: only this runtime (`corio`,
//!   `tokio` or `smol`; repeatable). With `--min-time 30`, a long loop of one
//!   workload on one runtime to profile:
//!   `perf record -g target/release/deps/compare-* --bench --filter ping_pong --runtime corio --min-time 30`.
//!
//! Two latency sections follow the table when selected (by the filters
//! `mixed` and `main_rtt`, or by no filter), each printed as its own table
//! of p50 / p99 / max round trips pooled over interleaved rounds
//! (`workloads/latency.rs` says what they measure):
//! - `--mixed-load LOAD` / `COMPARE_MIXED_LOAD`: CPU load of a `mixed` row,
//!   `TASKSxCHUNK` such as `8x500us` or `2x2ms`, or `0` (repeatable; default:
//!   8x500us, 8x100us, 2x2ms, 0).
//! - `--mixed-secs SECS` / `COMPARE_MIXED_SECS`: how long the client
//!   measures, per runtime, per round (default 1).
//! - `--rounds N` / `COMPARE_ROUNDS`: interleaved rounds of each latency
//!   row (default 8).
//! - `--rtt-exchanges N` / `COMPARE_RTT_EXCHANGES`: request/reply exchanges
//!   per `main_rtt` measurement (default 5000).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use workloads::latency::{self, percentile, Load, MainSide};
use workloads::{Peers, RunFn, Workload};

/// Fewer runs than this and the median of a noisy machine means little.
const MIN_RUNS: usize = 15;

#[derive(Clone)]
struct Options {
    filters: Vec<String>,
    runs: usize,
    workers: usize,
    warmup: usize,
    min_time: Duration,
    passes: usize,
    timeout: Duration,
    /// Which of [`RUNTIMES`] to run.
    runtimes: [bool; 3],
    mixed_loads: Vec<Load>,
    mixed_secs: f64,
    rounds: usize,
    rtt_exchanges: usize,
}

impl Options {
    fn parse() -> Options {
        let env_num = |name: &str, default: usize| -> usize {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("{name}={v}: not a number"))),
                Err(_) => default,
            }
        };
        let mut o = Options {
            filters: std::env::var("COMPARE_FILTER").into_iter().collect(),
            runs: env_num("COMPARE_RUNS", 21),
            workers: env_num("COMPARE_WORKERS", 2),
            warmup: env_num("COMPARE_WARMUP", 1),
            min_time: Duration::from_secs(env_num("COMPARE_MIN_TIME", 3) as u64),
            passes: env_num("COMPARE_PASSES", 3),
            timeout: Duration::from_secs(env_num("COMPARE_TIMEOUT", 120) as u64),
            runtimes: [true; 3],
            mixed_loads: std::env::var("COMPARE_MIXED_LOAD")
                .into_iter()
                .map(|v| parse_load(&v))
                .collect(),
            mixed_secs: env_num("COMPARE_MIXED_SECS", 1) as f64,
            rounds: env_num("COMPARE_ROUNDS", 8),
            rtt_exchanges: env_num("COMPARE_RTT_EXCHANGES", 5000),
        };
        let mut only: Vec<String> = std::env::var("COMPARE_RUNTIME").into_iter().collect();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |what: &str| -> String {
                args.next()
                    .unwrap_or_else(|| usage(&format!("{arg} needs {what}")))
            };
            match arg.as_str() {
                // `cargo bench` passes `--bench` to every bench target.
                "--bench" => {}
                "--filter" => o.filters.push(value("a name")),
                "--runs" => o.runs = number(&arg, &value("a number")),
                "--workers" => o.workers = number(&arg, &value("a number")),
                "--warmup" => o.warmup = number(&arg, &value("a number")),
                "--min-time" => {
                    o.min_time = Duration::from_secs(number(&arg, &value("seconds")) as u64)
                }
                "--passes" => o.passes = number(&arg, &value("a number")),
                "--timeout" => {
                    o.timeout = Duration::from_secs(number(&arg, &value("seconds")) as u64)
                }
                "--runtime" => only.push(value("corio, tokio or smol")),
                "--mixed-load" => o.mixed_loads.push(parse_load(&value("a load"))),
                "--mixed-secs" => {
                    o.mixed_secs = value("seconds")
                        .parse()
                        .unwrap_or_else(|_| usage("--mixed-secs: not a number"))
                }
                "--rounds" => o.rounds = number(&arg, &value("a number")),
                "--rtt-exchanges" => o.rtt_exchanges = number(&arg, &value("a number")),
                "-h" | "--help" => usage(""),
                s if s.starts_with('-') => usage(&format!("unknown option {s}")),
                s => o.filters.push(s.to_string()),
            }
        }
        if !only.is_empty() {
            for name in &only {
                if !RUNTIMES.contains(&name.as_str()) {
                    usage(&format!("unknown runtime {name}"));
                }
            }
            o.runtimes = RUNTIMES.map(|r| only.iter().any(|n| n == r));
        }
        if o.runs == 0 || o.workers == 0 || o.passes == 0 || o.rounds == 0 {
            usage("--runs, --workers, --passes and --rounds must be at least 1");
        }
        if o.mixed_loads.is_empty() {
            o.mixed_loads = Load::DEFAULTS.to_vec();
        }
        o
    }

    fn selects(&self, w: &Workload) -> bool {
        self.selects_name(w.name)
    }

    fn selects_name(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

fn parse_load(v: &str) -> Load {
    Load::parse(v).unwrap_or_else(|| usage(&format!("{v}: not a load like 8x500us, 2x2ms or 0")))
}

fn number(option: &str, v: &str) -> usize {
    v.parse()
        .unwrap_or_else(|_| usage(&format!("{option} {v}: not a number")))
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("compare: {problem}");
    }
    eprintln!(
        "usage: cargo bench -p corio-benches --bench compare -- \
         [--filter NAME]... [--runs N] [--min-time SECS] [--workers N] [--warmup N] [--passes N] [--timeout SECS] [--runtime NAME]... \
         [--mixed-load LOAD]... [--mixed-secs SECS] [--rounds N] [--rtt-exchanges N]"
    );
    exit(if problem.is_empty() { 0 } else { 2 })
}

/// One workload's result: its medians (`None` where a runtime has no
/// implementation or was not selected), or why it has none.
struct Row {
    name: &'static str,
    medians: [Option<Duration>; 3],
    runs: usize,
    failed: Option<String>,
}

const RUNTIMES: [&str; 3] = ["corio", "tokio", "smol"];

/// Every order of the three runtimes; run `r` uses `ORDERS[r % 6]`.
const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [1, 2, 0],
    [2, 0, 1],
    [0, 2, 1],
    [2, 1, 0],
    [1, 0, 2],
];

/// Pause before each run: longer than a worker's spin before it parks.
const GAP: Duration = Duration::from_millis(1);

/// The run in progress, for the watchdog: runtime and start.
static CURRENT: Mutex<Option<(&str, Instant)>> = Mutex::new(None);

/// Bumped when a hung workload is abandoned: a measuring thread that comes
/// back from a hung run after all sees the change and stops.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` once, timed by the workload itself, under the watchdog's eye.
fn run_once(f: RunFn, peers: &Peers, runtime: &'static str) -> Duration {
    *CURRENT.lock().unwrap() = Some((runtime, Instant::now()));
    let d = f(peers);
    *CURRENT.lock().unwrap() = None;
    d
}

/// One workload's measurements so far, carried from pass to pass.
struct Acc {
    name: &'static str,
    /// The selected runtimes' implementations.
    fns: [Option<RunFn>; 3],
    samples: [Vec<Duration>; 3],
    /// Runs so far (one run = each selected runtime once).
    run: usize,
    measured: Duration,
    failed: Option<String>,
}

impl Acc {
    /// `None` if `w` has no implementation on any selected runtime.
    fn new(w: &Workload, o: &Options) -> Option<Acc> {
        let mut fns: [Option<RunFn>; 3] = [Some(w.corio), w.tokio, w.smol];
        for (f, on) in fns.iter_mut().zip(o.runtimes) {
            if !on {
                *f = None;
            }
        }
        if fns.iter().all(Option::is_none) {
            return None;
        }
        Some(Acc::empty(w.name, fns))
    }

    fn empty(name: &'static str, fns: [Option<RunFn>; 3]) -> Acc {
        Acc {
            name,
            fns,
            samples: Default::default(),
            run: 0,
            measured: Duration::ZERO,
            failed: None,
        }
    }

    /// The medians, with each runtime's spread printed to stderr.
    fn into_row(mut self) -> Row {
        eprintln!("{}", self.name);
        let mut medians = [None; 3];
        for i in 0..3 {
            let s = &mut self.samples[i];
            if s.is_empty() {
                continue;
            }
            s.sort();
            let m = median(s);
            medians[i] = Some(m);
            eprintln!(
                "  {:<6} {} runs: median {:>10}  min {:>10}  max {:>10}",
                RUNTIMES[i],
                s.len(),
                fmt_duration(m),
                fmt_duration(s[0]),
                fmt_duration(s[s.len() - 1]),
            );
        }
        Row {
            name: self.name,
            medians,
            runs: self.run,
            failed: self.failed,
        }
    }
}

/// Pass `pass` of `o.passes` over one workload: a warm-up, then runs
/// interleaved on the selected runtimes until this pass's share of the run
/// count and of the minimum time is reached. Spreading a workload over
/// passes spreads it over the whole session, so a burst of load from the
/// rest of the machine lands on a part of its runs, not on all of them.
fn measure(mut acc: Acc, peers: &Peers, o: &Options, pass: usize) -> Acc {
    let generation = GENERATION.load(Ordering::SeqCst);
    for _ in 0..o.warmup {
        for (i, f) in acc.fns.iter().enumerate() {
            if let Some(f) = f {
                run_once(*f, peers, RUNTIMES[i]);
            }
        }
    }
    let share = |n: usize| (n * (pass + 1)).div_ceil(o.passes);
    let (runs, max_runs) = (share(o.runs), share(o.runs * 20));
    let min_time = o.min_time * (pass + 1) as u32 / o.passes as u32;
    let last = pass + 1 == o.passes;
    // In the last pass, whole cycles of the 6 orders, so that each runtime
    // goes first, second and third, and after each other one, equally often.
    while acc.run < runs
        || (acc.measured < min_time && acc.run < max_runs)
        || (last && !acc.run.is_multiple_of(ORDERS.len()))
    {
        if GENERATION.load(Ordering::SeqCst) != generation {
            break;
        }
        for i in ORDERS[acc.run % ORDERS.len()] {
            if let Some(f) = acc.fns[i] {
                // Let the previous runtime's workers finish spinning and park,
                // so every run starts from the same idle machine.
                std::thread::sleep(GAP);
                let d = run_once(f, peers, RUNTIMES[i]);
                acc.measured += d;
                acc.samples[i].push(d);
            }
        }
        acc.run += 1;
    }
    acc
}

/// Runs [`measure`] on a thread of its own and waits for it, watching for a
/// run that exceeds the timeout. A hung or panicked workload comes back
/// failed, with `true`: its runtimes are in an unknown state, so the caller
/// replaces them (the stuck thread and the old runtimes are leaked, not
/// joined).
fn measure_watched(acc: Acc, peers: &'static Peers, o: &Options, pass: usize) -> (Acc, bool) {
    let (name, fns, opts) = (acc.name, acc.fns, o.clone());
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("compare-{name}"))
        .spawn(move || {
            let _ = tx.send(measure(acc, peers, &opts, pass));
        })
        .expect("spawn the measuring thread");
    let failed = |why: String| {
        eprintln!("compare: {name}: {why}");
        let mut acc = Acc::empty(name, fns);
        acc.failed = Some(why);
        (acc, true)
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(acc) => return (acc, false),
            // The measuring thread died without its result: the workload panicked.
            Err(RecvTimeoutError::Disconnected) => {
                let runtime = CURRENT.lock().unwrap().take().map_or("?", |(r, _)| r);
                return failed(format!("panicked on {runtime}"));
            }
            Err(RecvTimeoutError::Timeout) => {
                let current = *CURRENT.lock().unwrap();
                if let Some((runtime, start)) = current {
                    if start.elapsed() > o.timeout {
                        GENERATION.fetch_add(1, Ordering::SeqCst);
                        *CURRENT.lock().unwrap() = None;
                        let secs = o.timeout.as_secs();
                        return failed(format!("hung on {runtime} (one run > {secs} s)"));
                    }
                }
            }
        }
    }
}

/// Median of a sorted, non-empty slice.
fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// `812.3 µs`, `12.34 ms`, `1.234 s`.
fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.3} s", us / 1e6)
    }
}

fn fmt_ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "—".to_string(),
    }
}

/// `YYYY-MM-DD HH:MM UTC` without a date crate (days-from-civil, inverted).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

/// The CPU model from /proc/cpuinfo, if there is one.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
}

fn print_table(rows: &[Row], o: &Options) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let counts = rows.iter().filter(|r| r.failed.is_none()).map(|r| r.runs);
    let (fewest, most) = (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0));
    let runs = if fewest == most {
        fewest.to_string()
    } else {
        format!("{fewest}–{most}")
    };
    println!(
        "{} — nproc {nproc} — {} workers each — median of {runs} interleaved runs each{}",
        utc_now(),
        o.workers,
        cpu_model().map_or(String::new(), |m| format!(" — {m}")),
    );
    println!();
    println!("| workload | corio | tokio | smol | corio/tokio | corio/smol |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        if let Some(why) = &r.failed {
            println!("| {} | {why} | — | — | — | — |", r.name);
            continue;
        }
        let cell = |d: Option<Duration>| d.map_or("—".to_string(), fmt_duration);
        let [corio, tokio, smol] = r.medians;
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.name,
            cell(corio),
            cell(tokio),
            cell(smol),
            fmt_ratio(corio, tokio),
            fmt_ratio(corio, smol),
        );
    }
}

fn main() {
    let o = Options::parse();
    let selected: Vec<Workload> = workloads::all()
        .into_iter()
        .filter(|w| o.selects(w))
        .collect();
    let (want_mixed, want_rtt) = (o.selects_name("mixed"), o.selects_name("main_rtt"));
    if selected.is_empty() && !want_mixed && !want_rtt {
        usage("no workload matches the filter");
    }
    if o.runs < MIN_RUNS {
        eprintln!(
            "compare: only {} runs (fewer than {MIN_RUNS}): a quick look, not a result",
            o.runs
        );
    }

    // 'static so a measuring thread stuck in a hung run can be abandoned.
    let new_peers = || -> &'static Peers { Box::leak(Box::new(Peers::new(o.workers))) };
    let mut peers = new_peers();
    let started = Instant::now();
    let mut accs: Vec<Acc> = selected.iter().filter_map(|w| Acc::new(w, &o)).collect();
    for pass in 0..o.passes {
        for acc in accs.iter_mut().filter(|a| a.failed.is_none()) {
            let t = Instant::now();
            let taken = std::mem::replace(acc, Acc::empty(acc.name, acc.fns));
            let (back, broken) = measure_watched(taken, peers, &o, pass);
            *acc = back;
            eprintln!(
                "{} (pass {}/{}): {} runs so far, {:.1} s",
                acc.name,
                pass + 1,
                o.passes,
                acc.run,
                t.elapsed().as_secs_f64()
            );
            if broken {
                peers = new_peers();
            }
        }
    }
    let rows: Vec<Row> = accs.into_iter().map(Acc::into_row).collect();

    if !rows.is_empty() {
        print_table(&rows, &o);
    }
    if want_mixed {
        mixed_table(peers, &o);
    }
    if want_rtt {
        main_rtt_table(peers, &o);
    }
    eprintln!("compare: done in {:.1} s", started.elapsed().as_secs_f64());
    // Exit here: a hung workload's thread and runtimes are still around.
    exit(if rows.iter().any(|r| r.failed.is_some()) {
        3
    } else {
        0
    });
}

/// Exits with status 3 if one latency measurement takes far longer than it
/// should (a lost wakeup would otherwise hang the whole session).
struct LatencyWatch {
    since: std::sync::Arc<Mutex<Option<(String, Instant)>>>,
}

impl LatencyWatch {
    fn new(timeout: Duration) -> LatencyWatch {
        let since: std::sync::Arc<Mutex<Option<(String, Instant)>>> = Default::default();
        let watched = since.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            if let Some((what, t)) = &*watched.lock().unwrap() {
                if t.elapsed() > timeout {
                    eprintln!("compare: {what} hung (> {} s)", timeout.as_secs());
                    exit(3);
                }
            }
        });
        LatencyWatch { since }
    }

    fn run<T>(&self, what: String, f: impl FnOnce() -> T) -> T {
        *self.since.lock().unwrap() = Some((what, Instant::now()));
        let v = f();
        *self.since.lock().unwrap() = None;
        v
    }
}

/// `p50 / p99 / max` of unsorted samples.
fn spread(samples: &mut [Duration]) -> Option<[Duration; 3]> {
    if samples.is_empty() {
        return None;
    }
    samples.sort();
    Some([
        percentile(samples, 50.0),
        percentile(samples, 99.0),
        samples[samples.len() - 1],
    ])
}

fn fmt_spread(s: Option<[Duration; 3]>) -> String {
    s.map_or("—".to_string(), |[a, b, c]| {
        format!(
            "{} / {} / {}",
            fmt_duration(a),
            fmt_duration(b),
            fmt_duration(c)
        )
    })
}

/// The `mixed` rows: every load on every selected runtime, interleaved
/// round by round; pooled p50 / p99 / max and the ratios.
fn mixed_table(peers: &Peers, o: &Options) {
    let dur = Duration::from_secs_f64(o.mixed_secs);
    let watch = LatencyWatch::new(o.timeout);
    let loads = &o.mixed_loads;
    let mut samples: Vec<[Vec<Duration>; 3]> = loads.iter().map(|_| Default::default()).collect();
    let started = Instant::now();
    for round in 0..o.rounds {
        for (li, load) in loads.iter().enumerate() {
            for i in ORDERS[(round + li) % ORDERS.len()] {
                if !o.runtimes[i] {
                    continue;
                }
                std::thread::sleep(GAP);
                let what = format!("mixed {} on {}", load.label(), RUNTIMES[i]);
                let mut s = watch.run(what, || {
                    latency::mixed(peers, i, *load, latency::Span::Time(dur))
                });
                let mut sorted = s.clone();
                sorted.sort();
                eprintln!(
                    "mixed {:<12} round {:>2} {:<5} n {:>5}  p50 {:>9}  p99 {:>9}  max {:>9}",
                    load.label(),
                    round + 1,
                    RUNTIMES[i],
                    sorted.len(),
                    fmt_duration(percentile(&sorted, 50.0)),
                    fmt_duration(percentile(&sorted, 99.0)),
                    fmt_duration(sorted[sorted.len() - 1]),
                );
                samples[li][i].append(&mut s);
            }
        }
    }
    println!();
    println!(
        "{} — mixed: 1-byte round trips from a plain thread, {} µs apart, to an echo task while CPU tasks \
         (spin a chunk, then yield) keep the {} workers busy — {} interleaved rounds × {} s per runtime — p50 / p99 / max",
        utc_now(),
        latency::GAP.as_micros(),
        o.workers,
        o.rounds,
        o.mixed_secs
    );
    println!();
    println!(
        "| load | corio | tokio | smol | corio/tokio p50 | corio/tokio p99 | corio/smol p99 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (li, load) in loads.iter().enumerate() {
        let [c, t, s] = &mut samples[li];
        let (c, t, s) = (spread(c), spread(t), spread(s));
        let ratio = |a: Option<[Duration; 3]>, b: Option<[Duration; 3]>, k: usize| {
            fmt_ratio(a.map(|x| x[k]), b.map(|x| x[k]))
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            load.label(),
            fmt_spread(c),
            fmt_spread(t),
            fmt_spread(s),
            ratio(c, t, 0),
            ratio(c, t, 1),
            ratio(c, s, 1),
        );
    }
    eprintln!("mixed: {:.1} s", started.elapsed().as_secs_f64());
}

/// The `main_rtt` rows: back-to-back exchanges from a spawned task, from
/// `block_on`'s main future and from `corio::run`, interleaved.
fn main_rtt_table(peers: &Peers, o: &Options) {
    let watch = LatencyWatch::new(o.timeout);
    let sides = MainSide::ALL;
    let mut samples: Vec<Vec<Duration>> = sides.iter().map(|_| Vec::new()).collect();
    let mut per_round: Vec<Vec<Duration>> = sides.iter().map(|_| Vec::new()).collect();
    for round in 0..o.rounds {
        // Rotate the order so no side always runs first.
        for k in 0..sides.len() {
            let si = (round + k) % sides.len();
            let what = format!("main_rtt {}", sides[si].label());
            let mut s = watch.run(what, || {
                latency::main_rtt(peers, sides[si], o.rtt_exchanges)
            });
            s.sort();
            per_round[si].push(percentile(&s, 50.0));
            samples[si].append(&mut s);
        }
    }
    println!();
    println!(
        "{} — main_rtt: {} back-to-back 1-byte exchanges with a plain-thread echo server, per client and round — {} rounds — {} workers",
        utc_now(),
        o.rtt_exchanges,
        o.rounds,
        o.workers
    );
    println!();
    println!("| client | p50 | p99 | max | median of round p50s | p50 / spawned task's |");
    println!("|---|---:|---:|---:|---:|---:|");
    let base = {
        let mut s = samples[0].clone();
        spread(&mut s).map(|x| x[0])
    };
    let tokio_base = {
        let mut s = samples[3].clone();
        spread(&mut s).map(|x| x[0])
    };
    for (si, side) in sides.iter().enumerate() {
        let sp = spread(&mut samples[si]);
        per_round[si].sort();
        let b = if si >= 3 { tokio_base } else { base };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            side.label(),
            sp.map_or("—".into(), |x| fmt_duration(x[0])),
            sp.map_or("—".into(), |x| fmt_duration(x[1])),
            sp.map_or("—".into(), |x| fmt_duration(x[2])),
            fmt_duration(median(&per_round[si])),
            fmt_ratio(sp.map(|x| x[0]), b),
        );
    }
}
