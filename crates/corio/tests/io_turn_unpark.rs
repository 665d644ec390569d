//! A worker asleep in the I/O driver's turn is woken by a remote spawn. Its
//! own binary (its own process) on purpose: the driver is process-wide, and
//! another test's idle worker holding the turn would leave this runtime's
//! worker on its condvar, where the path under test is never taken.

use std::time::Duration;

use corio::time::sleep;

mod common;

use common::{runtime, with_watchdog};

/// One worker, so once it has gone idle after using I/O it sleeps in the
/// driver's turn (nobody else holds it) rather than on its condvar. Each
/// task spawned from outside must still wake it: the unpark has to reach the
/// poll. With the unpark sent to the condvar instead
/// (`--cfg corio_mutant_io_unpark`) this hangs and the watchdog fails it.
#[test]
fn remote_spawns_wake_a_worker_sleeping_in_the_turn() {
    with_watchdog("remote spawns", || {
        let rt = runtime(1);
        rt.block_on(sleep(Duration::from_millis(2)));
        for i in 0..200u32 {
            // Let the worker go idle (and into the turn) between spawns.
            if i % 20 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
            let h = rt.spawn(async move { i * 2 });
            assert_eq!(rt.block_on(h).unwrap(), i * 2);
        }
    });
}
