//! A TaskGroup holds memory for its live children only: a server-style group
//! running 1,000,000 short `()` children, at most 100 at a time, does not
//! grow. Its own binary, so no other test's allocations move the numbers.

use std::sync::Arc;
use std::time::Duration;

use corio::sync::Semaphore;
use corio::task::TaskGroup;

/// Resident set size of this process, from /proc/self/statm (in pages).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field");
    // Linux on the machines we run on uses 4 KiB pages.
    pages * 4096
}

/// Spawns `count` children into `group`, each holding one of `permits`'s
/// permits (so at most that many live at once) across a yield.
async fn run_children(group: &TaskGroup<(), ()>, permits: &Arc<Semaphore>, count: usize) {
    for _ in 0..count {
        let permit = permits.clone().acquire_owned().await.unwrap();
        group.spawn(async move {
            let _permit = permit;
            corio::yield_now().await;
            Ok(())
        });
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_million_short_children_do_not_grow_the_group() {
    const LIVE: usize = 100;
    const WORKERS: usize = 2;
    const WARM_UP: usize = 20_000;
    const TOTAL: usize = 1_000_000;
    /// "A few MiB": generous against allocator noise, far below the ~60 MiB
    /// that a handle, a waker slot or even 8 bytes kept per child would add.
    const BOUND: usize = 6 << 20;

    let rt = corio::runtime::Builder::new()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    let (before, after, values) = rt.block_on(async {
        let group = TaskGroup::<(), ()>::new();
        let permits = Arc::new(Semaphore::new(LIVE));
        // Warm up: every worker's allocator arena and the group's live
        // slab reach their working size.
        run_children(&group, &permits, WARM_UP).await;
        let before = rss_bytes();
        run_children(&group, &permits, TOTAL - WARM_UP).await;
        // A child gives its permit back as its future ends, a moment before
        // the group forgets it; in that moment the spawner may already start
        // the next child. So each worker can add one to the count.
        let live = group.live();
        assert!(live <= LIVE + WORKERS, "{live} children live at once");
        let after = rss_bytes();
        let values = corio::time::wait_for(group.join(), Duration::from_secs(60))
            .await
            .expect("join hung")
            .unwrap();
        (before, after, values)
    });
    assert_eq!(values.len(), TOTAL, "every child's () came back");
    let grown = after.saturating_sub(before);
    eprintln!(
        "RSS before {} KiB, after {} KiB, grown {} KiB over {} children",
        before >> 10,
        after >> 10,
        grown >> 10,
        TOTAL - WARM_UP
    );
    assert!(
        grown <= BOUND,
        "the group grew by {} KiB running {} short children",
        grown >> 10,
        TOTAL - WARM_UP
    );
}
