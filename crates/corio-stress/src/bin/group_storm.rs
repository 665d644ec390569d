//! TaskGroups and combinators at scale, with failures, panics and drops.
//! Each round draws every child's role and delay from its seed.
//!
//! Invariants (fault injection that breaks each, via `CORIO_STRESS_FAULT`):
//! - every group ends as its children's roles say: a group whose children
//!   all succeed joins to their values in spawn order; a group with a
//!   failing child reports exactly the children that failed (never one that
//!   was meant to succeed), and its endless children are cancelled (else the
//!   watchdog fires) (`ok_as_fail`: the first child of each group, when
//!   meant to succeed, returns `Err`);
//! - dropping a group, joined or not, leaves no child alive: a counter of
//!   live child futures returns to zero (`leak_child`: one child's counter
//!   guard is leaked);
//! - `wait(FirstCompleted)` in a loop sees every task exactly once
//!   (`wait_skip`: the loop forgets one finished task);
//! - `as_completed` yields every task's output exactly once
//!   (`as_completed_skip`: the stream's first output is thrown away).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio_stress::{fault, Common, Stress};

use corio::task::TaskGroup;
use corio::time::{sleep, wait_for};
use corio::ReturnWhen;
use corio_stress::Rng;

const NAME: &str = "group_storm";
const PANIC_MESSAGE: &str = "group_storm: expected panic";

/// Counts live child futures: +1 when created, -1 when dropped.
struct Alive(Arc<AtomicI64>);
impl Alive {
    fn new(count: &Arc<AtomicI64>) -> Alive {
        count.fetch_add(1, Ordering::SeqCst);
        Alive(count.clone())
    }
}
impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    Succeed,
    Fail,
    Panic,
    Forever,
}

/// How a group ended.
enum GroupEnd {
    Joined,
    Failed,
    Dropped,
}

/// What the groups did, as seen by their drivers.
#[derive(Default)]
struct Tally {
    ok_groups: u64,
    failed_groups: u64,
    dropped_groups: u64,
    wrong: Vec<String>,
}

async fn child(role: Role, index: u64, delay_us: u64, alive: Alive) -> Result<u64, u64> {
    let _alive = if index == 0 && fault("leak_child") {
        std::mem::forget(alive);
        None
    } else {
        Some(alive)
    };
    if delay_us > 0 {
        sleep(Duration::from_micros(delay_us)).await;
    } else {
        corio::yield_now().await;
    }
    match role {
        Role::Succeed if index == 0 && fault("ok_as_fail") => Err(index),
        Role::Succeed => Ok(index),
        Role::Fail => Err(index),
        Role::Panic => panic!("{PANIC_MESSAGE}"),
        Role::Forever => std::future::pending().await,
    }
}

async fn run_group(seed: u64, children: u64, alive: Arc<AtomicI64>) -> Result<GroupEnd, String> {
    let mut rng = Rng::new(seed);
    let roles: Vec<Role> = (0..children)
        .map(|_| match rng.below(100) {
            0..=1 => Role::Fail,
            2 => Role::Panic,
            3..=5 => Role::Forever,
            _ => Role::Succeed,
        })
        .collect();
    let group = TaskGroup::new();
    for (i, &role) in roles.iter().enumerate() {
        let delay = if rng.chance(50) { rng.below(2_000) } else { 0 };
        group.spawn(child(role, i as u64, delay, Alive::new(&alive)));
    }
    let fails = roles.iter().any(|r| matches!(r, Role::Fail | Role::Panic));
    let endless = roles.contains(&Role::Forever);
    if !fails && endless {
        // Nothing will end it: give up after a moment and drop it.
        let outcome = wait_for(group.join(), Duration::from_millis(rng.below(5))).await;
        return match outcome {
            Err(_) => Ok(GroupEnd::Dropped),
            Ok(_) => Err(format!("group {seed}: endless group joined")),
        };
    }
    match group.join().await {
        Ok(values) => {
            if fails {
                return Err(format!("group {seed}: joined Ok despite a failing child"));
            }
            let expected: Vec<u64> = (0..children).collect();
            if values != expected {
                return Err(format!("group {seed}: values out of order"));
            }
            Ok(GroupEnd::Joined)
        }
        Err(error) => {
            if !fails {
                return Err(format!(
                    "group {seed}: failed without a failing child: {}",
                    error.len()
                ));
            }
            if error.is_empty() {
                return Err(format!("group {seed}: error without failures"));
            }
            for &i in error.errors() {
                if roles[i as usize] != Role::Fail {
                    return Err(format!(
                        "group {seed}: child {i} reported failing, role {:?}",
                        roles[i as usize]
                    ));
                }
            }
            let panics = roles.iter().filter(|r| **r == Role::Panic).count();
            if error.panics().len() > panics {
                return Err(format!("group {seed}: more panics than panicking children"));
            }
            Ok(GroupEnd::Failed)
        }
    }
}

fn main() -> std::process::ExitCode {
    let common: Common = corio_stress::parse(
        NAME,
        "TaskGroups with failures, panics and drops; wait and as_completed at scale",
    );
    let mut stress = Stress::start(NAME, &common);
    // The expected panics are part of the workload: keep them off stderr.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|s| s == PANIC_MESSAGE);
        if !expected {
            default_hook(info);
        }
    }));
    let rt = stress.runtime();
    let ops = stress.ops();

    stress.rounds(|round| {
        let seed = round.seed;
        // 1. Many groups at once, each on its own task.
        let groups = 2_000 * round.scale;
        let alive = Arc::new(AtomicI64::new(0));
        let tally = rt.block_on({
            let (alive, ops) = (alive.clone(), ops.clone());
            async move {
                let drivers = (0..groups).map(|g| {
                    let ops = ops.clone();
                    let run = run_group(corio_stress::splitmix(seed ^ g), 20, alive.clone());
                    corio::spawn(async move {
                        let end = run.await;
                        ops.add(20);
                        end
                    })
                });
                let mut tally = Tally::default();
                for result in corio::gather(drivers).await {
                    match result {
                        Ok(Ok(GroupEnd::Joined)) => tally.ok_groups += 1,
                        Ok(Ok(GroupEnd::Failed)) => tally.failed_groups += 1,
                        Ok(Ok(GroupEnd::Dropped)) => tally.dropped_groups += 1,
                        Ok(Err(wrong)) => tally.wrong.push(wrong),
                        Err(e) => tally.wrong.push(format!("group driver failed: {e:?}")),
                    }
                }
                // Cancelled children are dropped by their own tasks, which may
                // still be finishing: wait (bounded) for the count to settle.
                let deadline = Instant::now() + Duration::from_secs(10);
                while alive.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
                    sleep(Duration::from_millis(1)).await;
                }
                tally
            }
        });
        let _ = (tally.ok_groups, tally.failed_groups, tally.dropped_groups);
        round.check(
            tally.wrong.is_empty(),
            "every group ends as its children's roles say",
            format_args!(
                "{} of {groups} groups wrong, first: {:?}",
                tally.wrong.len(),
                tally.wrong.first()
            ),
        );
        round.check_eq(
            "no child future outlives its group",
            alive.load(Ordering::SeqCst),
            0,
        );

        // 2. asyncio's "while pending: done, pending = await wait(pending,
        // FIRST_COMPLETED)" loop over many tasks.
        let n = 1_000 * round.scale;
        let (seen, sum) = rt.block_on(async move {
            let mut pending: Vec<_> = (0..n)
                .map(|i| {
                    corio::spawn(async move {
                        sleep(Duration::from_micros(Rng::new(seed ^ i).below(20_000))).await;
                        i
                    })
                })
                .collect();
            let (mut seen, mut sum) = (0u64, 0u64);
            let mut skip = fault("wait_skip");
            while !pending.is_empty() {
                let (done, rest) = corio::wait(pending, ReturnWhen::FirstCompleted).await;
                for value in done {
                    if std::mem::take(&mut skip) {
                        continue;
                    }
                    seen += 1;
                    sum += value.expect("task failed");
                }
                pending = rest;
            }
            (seen, sum)
        });
        ops.add(n);
        round.check_eq(
            "wait(FirstCompleted) loop sees every task once",
            (seen, sum),
            (n, n * (n - 1) / 2),
        );

        // 3. as_completed over many tasks.
        let n = 10_000 * round.scale;
        let (seen, sum) = rt.block_on(async move {
            let handles = (0..n).map(|i| {
                corio::spawn(async move {
                    if i % 3 == 0 {
                        sleep(Duration::from_micros(i % 5_000)).await;
                    } else {
                        corio::yield_now().await;
                    }
                    i
                })
            });
            let mut stream = corio::as_completed(handles);
            let (mut seen, mut sum) = (0u64, 0u64);
            if fault("as_completed_skip") {
                let _ = stream.next().await;
            }
            while let Some(value) = stream.next().await {
                seen += 1;
                sum += value.expect("task failed");
            }
            (seen, sum)
        });
        ops.add(n);
        round.check_eq(
            "as_completed yields every output once",
            (seen, sum),
            (n, n * (n - 1) / 2),
        );
    });

    stress.alive();
    drop(rt);
    stress.finish()
}
