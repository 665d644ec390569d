//! Stream reads after a short read: the read that follows waits for the next
//! edge without a system call (see `source.rs`). These tests make the peer
//! write in bursts, each released by a signal from the reader at a chosen
//! moment, and check that every byte arrives and nothing hangs, for TCP and
//! Unix streams, by value, through `&stream`, and through split halves.

mod common;

use std::future::poll_fn;
use std::io::{self, IoSliceMut, Write};
use std::pin::Pin;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{block_on_within, payload};
use corio_io::net::{TcpStream, UnixStream};
use futures_io::AsyncRead;

const LIMIT: Duration = Duration::from_secs(60);

/// The reader's buffer: most bursts end with a read shorter than this.
const CHUNK: usize = 64;

/// Burst sizes: below, at and around multiples of `CHUNK`, and some larger.
fn burst_sizes() -> Vec<usize> {
    let mut sizes = vec![1, 5, 63, 64, 65, 127, 128, 129, 200, 1000, 4099, 70_000];
    let mut x = 0x2545_f491u32;
    for _ in 0..24 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sizes.push(1 + (x % 3000) as usize);
    }
    sizes
}

/// When the reader releases the next burst.
#[derive(Clone, Copy, Debug)]
enum Release {
    /// Before reading it, and waits until it is written: the data is in the
    /// socket before the read that follows the previous short read.
    Written,
    /// Before reading it, without waiting: the write races the reads.
    Racing,
    /// Only once a read has returned `Pending`: the reader is registered (or
    /// about to be) when the data arrives.
    WhenPending,
}

const RELEASES: [Release; 3] = [Release::Written, Release::Racing, Release::WhenPending];

/// The peer: writes burst `i` of `data` after the `i`-th signal, acknowledges
/// each burst once written, and closes after the last one.
fn spawn_writer<W: Write + Send + 'static>(
    mut w: W,
    data: Vec<u8>,
    sizes: Vec<usize>,
    go: Receiver<()>,
    written: Sender<()>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut rest = &data[..];
        for size in sizes {
            go.recv().expect("reader gone");
            let (burst, tail) = rest.split_at(size);
            w.write_all(burst).unwrap();
            w.flush().unwrap();
            rest = tail;
            written.send(()).expect("reader gone");
        }
        assert!(rest.is_empty());
        // Dropping `w` closes it: the reader sees end-of-file.
    })
}

/// Reads once; if the read is `Pending` and `signal` is set, sends it.
async fn read_once<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
    vectored: bool,
    signal: &mut Option<Sender<()>>,
) -> io::Result<usize> {
    poll_fn(|cx| {
        let res = if vectored {
            // Two uneven slices: "short" is measured against their sum.
            let (a, b) = buf.split_at_mut(CHUNK / 3);
            let mut bufs = [IoSliceMut::new(a), IoSliceMut::new(b)];
            Pin::new(&mut *r).poll_read_vectored(cx, &mut bufs)
        } else {
            Pin::new(&mut *r).poll_read(cx, buf)
        };
        if res.is_pending() {
            if let Some(tx) = signal.take() {
                tx.send(()).unwrap();
            }
        }
        res
    })
    .await
}

/// Reads the bursts in `CHUNK`-byte reads, releasing each burst as
/// `RELEASES` cycles, then expects end-of-file; returns what it read.
async fn read_bursts<R: AsyncRead + Unpin>(
    r: &mut R,
    sizes: &[usize],
    vectored: bool,
    go: Sender<()>,
    written: Receiver<()>,
) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; CHUNK];
    for (i, &size) in sizes.iter().enumerate() {
        let release = RELEASES[i % RELEASES.len()];
        let mut signal = None;
        match release {
            Release::Written => {
                go.send(()).unwrap();
                written.recv().unwrap();
            }
            Release::Racing => go.send(()).unwrap(),
            Release::WhenPending => signal = Some(go.clone()),
        }
        let end = got.len() + size;
        while got.len() < end {
            let n = read_once(r, &mut buf, vectored, &mut signal).await.unwrap();
            assert!(n > 0, "end-of-file in burst {i} ({release:?})");
            got.extend_from_slice(&buf[..n]);
            assert!(got.len() <= end, "burst {i} overran: the writer went early");
        }
        assert!(signal.is_none(), "burst {i} arrived before it was released");
        if !matches!(release, Release::Written) {
            written.recv().unwrap();
        }
    }
    let n = read_once(r, &mut buf, vectored, &mut None).await.unwrap();
    assert_eq!(n, 0, "bytes after the last burst");
    got
}

/// Runs the bursts from a writer thread into `reader`, checks every byte.
async fn check_bursts<R: AsyncRead + Unpin, W: Write + Send + 'static>(
    reader: &mut R,
    writer: W,
    vectored: bool,
) {
    let sizes = burst_sizes();
    let data = payload(sizes.iter().sum());
    let (go_tx, go_rx) = channel();
    let (written_tx, written_rx) = channel();
    let peer = spawn_writer(writer, data.clone(), sizes.clone(), go_rx, written_tx);
    let got = read_bursts(reader, &sizes, vectored, go_tx, written_rx).await;
    peer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "bytes differ");
}

/// A corio TCP stream connected to a std one (the writer's side).
fn tcp_pair() -> (TcpStream, std::net::TcpStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    s.set_nodelay(true).unwrap();
    (TcpStream::from_std(c).unwrap(), s)
}

/// A corio Unix stream connected to a std one (the writer's side).
fn unix_pair() -> (UnixStream, std::os::unix::net::UnixStream) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    (UnixStream::from_std(a).unwrap(), b)
}

#[test]
fn tcp_stream_in_bursts() {
    let (mut r, w) = tcp_pair();
    block_on_within(LIMIT, check_bursts(&mut r, w, false));
}

#[test]
fn tcp_shared_ref_vectored_in_bursts() {
    let (r, w) = tcp_pair();
    block_on_within(LIMIT, check_bursts(&mut &r, w, true));
}

#[test]
fn tcp_read_half_in_bursts() {
    let (s, w) = tcp_pair();
    let (mut r, _w) = s.split();
    block_on_within(LIMIT, check_bursts(&mut r, w, false));
}

#[test]
fn tcp_owned_read_half_on_another_thread_in_bursts() {
    let (s, w) = tcp_pair();
    let (mut r, keep) = s.into_split();
    std::thread::spawn(move || block_on_within(LIMIT, check_bursts(&mut r, w, false)))
        .join()
        .unwrap();
    drop(keep);
}

#[test]
fn unix_stream_vectored_in_bursts() {
    let (mut r, w) = unix_pair();
    block_on_within(LIMIT, check_bursts(&mut r, w, true));
}

#[test]
fn unix_read_half_in_bursts() {
    let (s, w) = unix_pair();
    let (mut r, _w) = s.split();
    block_on_within(LIMIT, check_bursts(&mut r, w, false));
}

#[test]
fn unix_owned_read_half_on_another_thread_in_bursts() {
    let (s, w) = unix_pair();
    let (mut r, keep) = s.into_split();
    std::thread::spawn(move || block_on_within(LIMIT, check_bursts(&mut r, w, true)))
        .join()
        .unwrap();
    drop(keep);
}

/// Two tasks on two threads read one `&TcpStream` at once, each burst
/// released when the two together have read all the previous ones: the
/// drained tick one of them records must not make the other wait for data
/// that is already there, and end-of-file must reach both.
#[test]
fn two_readers_of_one_tcp_stream() {
    let (s, w) = tcp_pair();
    let s = Arc::new(s);
    let sizes = burst_sizes();
    let total: usize = sizes.iter().sum();
    let ends: Vec<usize> = sizes
        .iter()
        .scan(0, |end, size| {
            *end += size;
            Some(*end)
        })
        .collect();
    let (go_tx, go_rx) = channel();
    let (written_tx, _written_rx) = channel();
    let peer = spawn_writer(w, payload(total), sizes, go_rx, written_tx);
    // (bytes read by both, bursts released)
    let state = Arc::new(Mutex::new((0usize, 1usize)));
    go_tx.send(()).unwrap();
    let go_tx = Arc::new(Mutex::new(go_tx));
    let reader = || {
        let (s, state, go, ends) = (s.clone(), state.clone(), go_tx.clone(), ends.clone());
        common::boxed(async move {
            let mut buf = [0u8; CHUNK];
            loop {
                let n = read_once(&mut &*s, &mut buf, false, &mut None)
                    .await
                    .unwrap();
                if n == 0 {
                    return;
                }
                let mut st = state.lock().unwrap();
                st.0 += n;
                assert!(st.0 <= ends[st.1 - 1], "read past the released bursts");
                if st.0 == ends[st.1 - 1] && st.1 < ends.len() {
                    st.1 += 1;
                    go.lock().unwrap().send(()).unwrap();
                }
            }
        })
    };
    common::run_all(2, vec![reader(), reader()], LIMIT);
    peer.join().unwrap();
    assert_eq!(*state.lock().unwrap(), (total, ends.len()));
}
