//! `corio::io::read_all` against futures-lite's `read_to_end` (which
//! `corio::io::AsyncReadExt` is), on a reader that hands out 64 KiB per
//! wake-up and says `Pending` in between, as a socket fed by a fast peer
//! does. futures-lite's zeroes the whole spare capacity again after every
//! `Pending`, so its cost grows with size × wake-ups; `read_all` zeroes only
//! the window it reads into. This is the measurement behind keeping
//! `read_all` (crates/corio-io/src/io.rs).
//!
//! ```text
//! cargo bench -p corio-benches --bench read_all
//! ```

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use corio::io::{read_all, AsyncRead, AsyncReadExt};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// Gives `chunk` bytes per read, and `Pending` (after waking itself) before
/// each read but the first.
struct Trickle {
    left: usize,
    chunk: usize,
    ready: bool,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = buf.len().min(self.chunk).min(self.left);
        buf[..n].fill(7);
        self.left -= n;
        Poll::Ready(Ok(n))
    }
}

fn trickle(size: usize) -> Trickle {
    Trickle {
        left: size,
        chunk: 64 * 1024,
        ready: true,
    }
}

fn read_to_end_vs_read_all(c: &mut Criterion) {
    let mut group = c.benchmark_group("read_to_end_vs_read_all");
    for size in [256 * 1024, 4 << 20, 16 << 20] {
        group.bench_with_input(BenchmarkId::new("read_all", size), &size, |b, &size| {
            b.iter(|| {
                futures_lite::future::block_on(async {
                    let mut buf = Vec::new();
                    read_all(&mut trickle(size), &mut buf).await.unwrap()
                })
            })
        });
        group.bench_with_input(
            BenchmarkId::new("futures_lite_read_to_end", size),
            &size,
            |b, &size| {
                b.iter(|| {
                    futures_lite::future::block_on(async {
                        let mut buf = Vec::new();
                        trickle(size).read_to_end(&mut buf).await.unwrap()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = read_to_end_vs_read_all
}
criterion_main!(benches);
