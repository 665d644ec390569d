//! After a short read on a stream, the next read does not try the system
//! call: it waits for the next edge (`stream_reads_skipped` in
//! `driver_metrics()` counts those reads). In a test binary of its own, its
//! tests one at a time, so that nothing else moves the counter.

mod common;

use std::future::poll_fn;
use std::io::Write;
use std::pin::Pin;
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::block_on_within;
use futures_io::AsyncRead;

const LIMIT: Duration = Duration::from_secs(60);

/// Held by each test: the counter is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn skipped() -> u64 {
    corio_io::driver_metrics().stream_reads_skipped
}

/// Reads once into `buf`; when the read is `Pending`, asks the peer (once)
/// to write. The data then arrives while this read is registered, so its
/// edge has been counted before the read that gets it takes its snapshot.
async fn read_after_edge<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
    ask: &Sender<()>,
) -> std::io::Result<usize> {
    let mut asked = false;
    poll_fn(|cx| {
        let res = Pin::new(&mut *r).poll_read(cx, buf);
        if res.is_pending() && !asked {
            asked = true;
            ask.send(()).unwrap();
        }
        res
    })
    .await
}

/// Short read, then one poll: it must be `Pending` without a system call.
fn check<R: AsyncRead + Unpin, W: Write + Send + 'static>(mut r: R, mut w: W) {
    const ROUNDS: usize = 20;
    let (ask_tx, ask_rx) = channel::<()>();
    let peer = std::thread::spawn(move || {
        for _ in 0..ROUNDS {
            if ask_rx.recv().is_err() {
                break;
            }
            w.write_all(b"0123456789").unwrap();
        }
        w
    });
    let mut skips_seen = 0;
    for _ in 0..ROUNDS {
        let mut buf = [0u8; 64];
        let n = block_on_within(LIMIT, read_after_edge(&mut r, &mut buf, &ask_tx)).unwrap();
        // One write of 10 bytes, read in one piece: a short read.
        assert_eq!(&buf[..n], b"0123456789");
        let before = skipped();
        let mut cx = Context::from_waker(Waker::noop());
        // Nothing new was written: this read cannot return data.
        assert!(Pin::new(&mut r).poll_read(&mut cx, &mut buf).is_pending());
        let now = skipped();
        assert!(now <= before + 1, "one poll, at most one skip");
        if now > before {
            skips_seen += 1;
        }
    }
    drop(ask_tx);
    drop(peer.join().unwrap());
    // A stray edge (none is expected) could cost a round its skip, but not
    // most of them.
    assert!(
        skips_seen > ROUNDS / 2,
        "only {skips_seen} of {ROUNDS} reads after a short read skipped the call"
    );
}

#[test]
fn tcp_read_after_a_short_read_skips_the_call() {
    let _serial = serial();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (w, _) = l.accept().unwrap();
    w.set_nodelay(true).unwrap();
    let s = corio_io::net::TcpStream::from_std(c).unwrap();
    check(&s, w);
    // The read half of a split stream follows the same rule.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (w, _) = l.accept().unwrap();
    w.set_nodelay(true).unwrap();
    let (r, _keep) = corio_io::net::TcpStream::from_std(c).unwrap().into_split();
    check(r, w);
}

#[test]
fn unix_read_after_a_short_read_skips_the_call() {
    let _serial = serial();
    let (a, w) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = corio_io::net::UnixStream::from_std(a).unwrap();
    let (r, _w) = s.split();
    check(r, w);
}

#[test]
fn async_t_reads_do_not_skip() {
    let _serial = serial();
    // `Async<T>` may wrap descriptors where a short read is not "empty";
    // its reads keep trying the call.
    let (a, w) = std::os::unix::net::UnixStream::pair().unwrap();
    let a = corio_io::net::Async::new(a).unwrap();
    let (ask_tx, ask_rx) = channel::<()>();
    let peer = std::thread::spawn(move || {
        let mut w = w;
        if ask_rx.recv().is_ok() {
            w.write_all(b"0123456789").unwrap();
        }
        w
    });
    let mut r = &a;
    let mut buf = [0u8; 64];
    let n = block_on_within(LIMIT, read_after_edge(&mut r, &mut buf, &ask_tx)).unwrap();
    assert_eq!(n, 10);
    let before = skipped();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        Pin::new(&mut r).poll_read(&mut cx, &mut buf),
        Poll::Pending
    ));
    assert_eq!(skipped(), before);
    drop(ask_tx);
    drop(peer.join().unwrap());
}

/// The peer's last data and its FIN arrive before one edge: the short read
/// takes the data and leaves the FIN, which raises no further edge. The next
/// read must still try the call and see end-of-file, not wait for an edge
/// that never comes (the edge said the read side closed; `source.rs`).
fn check_eof_after_last_data<R: AsyncRead + Unpin, W: Write + Send + 'static>(
    mut r: R,
    w: W,
    close: impl FnOnce(W) + Send + 'static,
) {
    let (ask_tx, ask_rx) = channel::<()>();
    let peer = std::thread::spawn(move || {
        let mut w = w;
        if ask_rx.recv().is_ok() {
            w.write_all(b"last").unwrap();
            close(w);
        }
    });
    let mut buf = [0u8; 64];
    let n = block_on_within(LIMIT, read_after_edge(&mut r, &mut buf, &ask_tx)).unwrap();
    let mut got = buf[..n].to_vec();
    // Usually one read gets all four bytes; if the write was split, read on.
    let rest = block_on_within(LIMIT, async {
        let mut rest = Vec::new();
        loop {
            let n = poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut buf)).await?;
            if n == 0 {
                return std::io::Result::Ok(rest);
            }
            rest.extend_from_slice(&buf[..n]);
        }
    })
    .unwrap();
    got.extend(rest);
    assert_eq!(got, b"last");
    peer.join().unwrap();
}

#[test]
fn tcp_eof_that_came_with_the_last_data_is_seen() {
    let _serial = serial();
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (w, _) = l.accept().unwrap();
        let s = corio_io::net::TcpStream::from_std(c).unwrap();
        check_eof_after_last_data(s, w, |w| {
            w.shutdown(std::net::Shutdown::Write).unwrap();
        });
    }
}

#[test]
fn unix_eof_that_came_with_the_last_data_is_seen() {
    let _serial = serial();
    for _ in 0..50 {
        let (a, w) = std::os::unix::net::UnixStream::pair().unwrap();
        let s = corio_io::net::UnixStream::from_std(a).unwrap();
        check_eof_after_last_data(s, w, drop);
    }
}
