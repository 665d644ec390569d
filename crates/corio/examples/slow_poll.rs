//! Debug mode without any setup: a task that blocks its worker is reported
//! on stderr with its name and where it was spawned (asyncio's debug mode,
//! `PYTHONASYNCIODEBUG=1`).
//!
//! `CORIO_DEBUG=1 cargo run -p corio --example slow_poll`
//!
//! Without `CORIO_DEBUG=1` it runs the same and reports nothing. With a
//! `tracing` subscriber installed, the reports go to it instead of stderr.

use std::time::Duration;

#[corio::main]
async fn main() {
    let sluggish = corio::task::Builder::new().name("sluggish").spawn(async {
        // Blocks the worker for 150 ms without yielding: over the
        // 100 ms slow-poll threshold.
        std::thread::sleep(Duration::from_millis(150));
    });
    sluggish.await.expect("the task does not panic");
    println!("done; with CORIO_DEBUG=1 a slow-poll report is on stderr");
}
