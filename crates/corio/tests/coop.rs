//! The cooperative budget (`corio_io::coop`): a task
//! whose I/O is always ready still yields, so the other tasks of its worker
//! run, and nothing it reads is lost across the yield.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use corio::net::Async;
use corio::task::coop::{self, BUDGET};

mod common;

use common::{runtime, with_watchdog};

const LEN: usize = 32 * 1024;

/// A pipe holding `LEN` bytes (0, 1, 2, ...) and then end of file.
fn full_pipe() -> std::io::PipeReader {
    let (r, mut w) = std::io::pipe().unwrap();
    let data: Vec<u8> = (0..LEN).map(|i| i as u8).collect();
    w.write_all(&data).unwrap();
    r
}

/// One worker, so the neighbour can run only when the reader gives the
/// worker back. Every one of its reads is ready (the pipe is full), so
/// without the budget it never would before the pipe ran dry.
#[test]
fn always_ready_reads_let_a_neighbour_run() {
    with_watchdog("coop budget", || {
        let rt = runtime(1);
        let pipe = full_pipe();
        let (bytes, seen_at) = rt
            .block_on(rt.spawn(async move {
                let r = Async::new(pipe).unwrap();
                let neighbour_ran = Arc::new(AtomicBool::new(false));
                let flag = neighbour_ran.clone();
                let neighbour = corio::spawn(async move { flag.store(true, Ordering::SeqCst) });
                let mut bytes = Vec::with_capacity(LEN);
                let mut seen_at = None;
                let mut byte = [0u8; 1];
                loop {
                    let n = r.read_with(|mut p| p.read(&mut byte)).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    bytes.push(byte[0]);
                    if seen_at.is_none() && neighbour_ran.load(Ordering::SeqCst) {
                        seen_at = Some(bytes.len());
                    }
                }
                neighbour.await.unwrap();
                (bytes, seen_at)
            }))
            .unwrap();
        assert!(
            bytes.len() == LEN && bytes.iter().enumerate().all(|(i, &b)| b == i as u8),
            "a byte was lost or repeated across a yield"
        );
        let seen_at =
            seen_at.expect("the neighbour ran only after every read: the reader never yielded");
        assert!(
            seen_at <= BUDGET as usize + 1,
            "the neighbour ran after {seen_at} ready reads, not after the first budget of {BUDGET}"
        );
    });
}

/// Outside a runtime's task (here a plain `block_on` thread) nothing is
/// counted: the same reads finish in one poll.
#[test]
fn nothing_is_counted_outside_a_task() {
    let r = Async::new(full_pipe()).unwrap();
    let mut polls = 0;
    let mut read = std::pin::pin!(async {
        let mut total = 0;
        let mut byte = [0u8; 1];
        while r.read_with(|mut p| p.read(&mut byte)).await.unwrap() == 1 {
            total += 1;
        }
        total
    });
    let total = futures_lite::future::block_on(std::future::poll_fn(|cx| {
        polls += 1;
        read.as_mut().poll(cx)
    }));
    assert_eq!((total, polls), (LEN, 1));
}

/// Spends what is left of the current poll's budget.
fn spend_the_budget() {
    while coop::remaining().is_some_and(|n| n > 0) {
        coop::spend();
    }
    assert_eq!(coop::remaining(), Some(0), "not inside a task's poll");
}

/// Dropping a running child hands it to a reaper that polls with a waker of
/// its own; with the dropping task's budget spent, that reaper must not see
/// the budget's `Pending` (whose wake would retry it at once, forever).
#[test]
fn dropping_a_child_with_the_budget_spent_returns() {
    with_watchdog("coop child drop", || {
        let rt = runtime(1);
        rt.block_on(rt.spawn(async {
            let child = corio::process::Command::new("cat")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            spend_the_budget();
            // `cat` is still running: its stdin closes with this drop.
            drop(child);
        }))
        .unwrap();
    });
}

/// A `StreamWriter` dropped with bytes in its buffer makes one attempt to
/// send them, whatever is left of the dropping task's budget.
#[test]
fn a_dropped_stream_writer_sends_its_buffer_with_the_budget_spent() {
    with_watchdog("coop writer drop", || {
        let rt = runtime(1);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        rt.block_on(rt.spawn(async move {
            use corio::io::AsyncWriteExt;
            let (_reader, mut writer) = corio::net::open_connection(addr).await.unwrap();
            // Fits the buffer: no system call yet.
            writer.write_all(b"buffered").await.unwrap();
            assert_eq!(writer.buffer(), b"buffered");
            spend_the_budget();
            drop(writer);
        }))
        .unwrap();
        assert_eq!(peer.join().unwrap(), b"buffered");
    });
}
