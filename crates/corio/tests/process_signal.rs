//! `corio::process` and `corio::signal` under the corio runtime, where the
//! driver is polled by idle workers instead of corio-io's backup thread
//! (corio-io's own tests cover the rest under a bare executor).
//!
//! One binary of its own: the signal test owns SIGUSR1 for this process.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::{runtime, with_watchdog};
use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::process::{Command, Stdio};
use corio::signal::{Signals, SIGUSR1};

/// Children spawned from many tasks, their pipes and exits all through the
/// workers' turns: 1 MB through `cat` next to 100 short children.
#[test]
fn children_under_the_runtime() {
    with_watchdog("children_under_the_runtime", || {
        let rt = runtime(2);
        rt.block_on(async {
            let cat = corio::spawn(async {
                let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
                let mut child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = child.stdout.take().unwrap();
                let writer = corio::spawn(async move {
                    stdin.write_all(&data).await.unwrap();
                    stdin.close().await.unwrap();
                    data
                });
                let mut out = Vec::new();
                stdout.read_to_end(&mut out).await.unwrap();
                let data = writer.await.unwrap();
                assert!(out == data, "cat changed the bytes");
                assert!(child.wait().await.unwrap().success());
            });
            let short: Vec<_> = (0..100)
                .map(|i| {
                    corio::spawn(async move {
                        let status = Command::new("sh")
                            .args(["-c", &format!("exit {}", i % 5)])
                            .status()
                            .await
                            .unwrap();
                        assert_eq!(status.code(), Some(i % 5));
                    })
                })
                .collect();
            for r in corio::gather(short).await {
                r.unwrap();
            }
            cat.await.unwrap();

            let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
            child.kill().unwrap();
            assert_eq!(child.wait().await.unwrap().signal(), Some(9)); // SIGKILL
        });
    });
}

/// A signal sent right after `Signals::new` reaches a task on a worker.
#[test]
fn signal_reaches_a_task() {
    with_watchdog("signal_reaches_a_task", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut signals = Signals::new(&[SIGUSR1]).unwrap();
            let listener = corio::spawn(async move { signals.recv().await });
            // SIGUSR1 is caught from the `Signals::new` above on.
            let kill = Command::new("kill")
                .args(["-USR1", &std::process::id().to_string()])
                .status()
                .await
                .unwrap();
            assert!(kill.success());
            assert_eq!(listener.await.unwrap(), Some(SIGUSR1));
        });
    });
}
