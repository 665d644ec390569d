//! `Async<T>` on descriptors corio did not create: a pipe.

mod common;

use std::future::Future;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use common::block_on_within;
use corio_io::io::read_all;
use corio_io::net::Async;
use corio_io::time::wait_for;

const LIMIT: Duration = Duration::from_secs(60);

/// A waker that reports its wake on a channel, so the test can block until
/// the driver has delivered an edge.
struct ChannelWaker(Mutex<mpsc::Sender<()>>);

impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

/// Whether `ready()` stays pending for 20 ms, allowing one stale edge.
///
/// Readiness may be spurious: when an edge was reported by `poll(2)` before
/// the driver harvested it, the harvest can land after the test drained (or
/// filled) the descriptor and complete one wait. There is only one such
/// edge per change, so a second completion would be `ready()` spinning on
/// old readiness, which is what the callers rule out.
async fn stays_pending<F: Future<Output = std::io::Result<()>>>(
    mut ready: impl FnMut() -> F,
) -> bool {
    for _ in 0..2 {
        if wait_for(ready(), Duration::from_millis(20)).await.is_err() {
            return true;
        }
    }
    false
}

#[test]
fn async_pipe_read_and_write() {
    let (r, w) = std::io::pipe().unwrap();
    let r = Async::new(r).unwrap();
    let w = Async::new(w).unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
    block_on_within(LIMIT, async {
        let writer = async {
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = w.write_with(|mut p| p.write(rest)).await.unwrap();
                rest = &rest[n..];
            }
            drop(w);
        };
        let reader = async {
            let mut r = r;
            let mut back = Vec::new();
            read_all(&mut r, &mut back).await.unwrap();
            back
        };
        let ((), back) = futures_lite::future::zip(writer, reader).await;
        assert!(back == data);
    });
}

#[test]
fn readable_waits_for_new_data_and_does_not_spin() {
    let (r, mut w) = std::io::pipe().unwrap();
    let r = Async::new(r).unwrap();
    block_on_within(LIMIT, async {
        // Nothing written: readable() stays pending.
        assert!(wait_for(r.readable(), Duration::from_millis(20))
            .await
            .is_err());
        // A waiter registered before the write is woken only once the
        // driver has harvested the write's edge, so no stale edge is left
        // to land after the drain below.
        let (tx, rx) = mpsc::channel();
        let waker = Waker::from(Arc::new(ChannelWaker(Mutex::new(tx))));
        assert!(r
            .poll_readable(&mut Context::from_waker(&waker))
            .is_pending());
        w.write_all(b"abc").unwrap();
        rx.recv_timeout(LIMIT)
            .expect("the write's edge wakes the registered waiter");
        r.readable().await.unwrap();
        // Drain by hand (not through read_with), then readable() must wait
        // again rather than report the old edge.
        let mut buf = [0u8; 16];
        assert_eq!(r.get_ref().read(&mut buf).unwrap(), 3);
        assert!(wait_for(r.readable(), Duration::from_millis(20))
            .await
            .is_err());
        // A writer on another thread wakes the waiting reader.
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            w.write_all(b"d").unwrap();
            w
        });
        r.readable().await.unwrap();
        assert_eq!(r.read_with(|mut p| p.read(&mut buf)).await.unwrap(), 1);
        let w = t.join().unwrap();
        drop(w);
        // Hang-up counts as readable; the read then sees end of file.
        r.readable().await.unwrap();
        assert_eq!(r.get_ref().read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn writable_and_into_inner() {
    let (r, w) = std::io::pipe().unwrap();
    let w = Async::new(w).unwrap();
    block_on_within(LIMIT, async {
        w.writable().await.unwrap();
        // Fill the pipe; writable() then waits until the reader drains it.
        let chunk = [7u8; 4096];
        let mut filled = 0usize;
        loop {
            match w.get_ref().write(&chunk) {
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(filled > 0);
        // The registration's own edge (the pipe was writable when added)
        // may be harvested only now, after the fill: allow that one.
        assert!(stays_pending(|| w.writable()).await);
        let drain = std::thread::spawn(move || {
            let mut r = r;
            let mut buf = vec![0u8; filled];
            r.read_exact(&mut buf).unwrap();
            r
        });
        w.writable().await.unwrap();
        let _r = drain.join().unwrap();
    });
    let w = w.into_inner().unwrap();
    drop(w);
}
