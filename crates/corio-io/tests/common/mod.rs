//! A tiny multi-threaded executor for the integration tests: corio-io has no
//! runtime of its own and may not depend on corio's.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

pub(crate) use futures_lite::future::block_on;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Task {
    fut: Mutex<Option<BoxFuture>>,
    scheduled: AtomicBool,
    queue: Arc<Queue>,
}

struct Queue {
    state: Mutex<QueueState>,
    cond: Condvar,
}

struct QueueState {
    ready: VecDeque<Arc<Task>>,
    remaining: usize,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: pairs with the Release below, so a wake that finds the
        // flag clear happens after the poller cleared it and is not lost.
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let mut st = self.queue.state.lock().unwrap();
            st.ready.push_back(self.clone());
            self.queue.cond.notify_one();
        }
    }
}

/// Runs every future to completion on `threads` threads; panics if they are
/// not all done within `limit` (a generous bound against hangs, not a timing
/// assertion).
pub(crate) fn run_all(threads: usize, futs: Vec<BoxFuture>, limit: Duration) {
    let queue = Arc::new(Queue {
        state: Mutex::new(QueueState {
            ready: VecDeque::new(),
            remaining: futs.len(),
        }),
        cond: Condvar::new(),
    });
    for f in futs {
        let task = Arc::new(Task {
            fut: Mutex::new(Some(f)),
            scheduled: AtomicBool::new(false),
            queue: queue.clone(),
        });
        task.wake_by_ref();
    }
    let deadline = Instant::now() + limit;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let task = {
                    let mut st = queue.state.lock().unwrap();
                    loop {
                        if st.remaining == 0 {
                            queue.cond.notify_all();
                            return;
                        }
                        if let Some(t) = st.ready.pop_front() {
                            break t;
                        }
                        let now = Instant::now();
                        assert!(
                            now < deadline,
                            "run_all: futures did not finish within {limit:?}"
                        );
                        st = queue.cond.wait_timeout(st, deadline - now).unwrap().0;
                    }
                };
                // Release: before polling, so a wake during the poll queues
                // the task again (see `wake_by_ref`).
                task.scheduled.store(false, Ordering::Release);
                let waker = Waker::from(task.clone());
                let mut slot = task.fut.lock().unwrap();
                if let Some(f) = slot.as_mut() {
                    if f.as_mut().poll(&mut Context::from_waker(&waker)).is_ready() {
                        *slot = None;
                        let mut st = queue.state.lock().unwrap();
                        st.remaining -= 1;
                        if st.remaining == 0 {
                            queue.cond.notify_all();
                        }
                    }
                }
            });
        }
    });
}

/// Boxes a future for [`run_all`].
pub(crate) fn boxed(f: impl Future<Output = ()> + Send + 'static) -> BoxFuture {
    Box::pin(f)
}

/// Polls all futures concurrently in one task; outputs in input order.
pub(crate) async fn join_all<F: Future + Unpin>(mut futs: Vec<F>) -> Vec<F::Output> {
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match Pin::new(f).poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("all done")).collect()
}

/// `block_on` that panics if `fut` is not done within `limit`.
pub(crate) fn block_on_within<T>(limit: Duration, fut: impl Future<Output = T>) -> T {
    match block_on(corio_io::time::wait_for(fut, limit)) {
        Ok(v) => v,
        Err(_) => panic!("test future did not finish within {limit:?}"),
    }
}

/// A pseudo-random payload of `len` bytes, so misordered or duplicated
/// chunks are caught.
pub(crate) fn payload(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
