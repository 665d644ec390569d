//! The blocking pool behind `spawn_blocking` / `to_thread`.
//!
//! A closure becomes an ordinary task (one allocation, the same JoinHandle)
//! whose future calls it once, scheduled on this pool instead of the
//! workers. Threads start on demand up to `max_blocking_threads`; an idle
//! thread exits after [`KEEP_ALIVE`]. Everything sits under one mutex:
//! blocking work costs a thread switch anyway, so a plain queue is plenty.
//!
//! Hand-off: a spawner that finds an idle thread counts a pending
//! notification and signals the condvar; the thread that wakes consumes one
//! notification, so two quick spawns never both rely on the same sleeper.
//!
//! Shutdown: queued closures that have not started are cancelled (their
//! handles yield a cancelled `JoinError`); running ones finish, and their
//! threads are joined (bounded by `shutdown_timeout`).

use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context;
use crate::loom::{Condvar, Mutex};
use crate::scheduler::Shared;
use crate::task::{self, JoinHandle, Notified, RawTask, Schedule};

/// How long an idle blocking thread waits for work before exiting.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    cv: Condvar,
    /// Signalled when a thread exits, for `shutdown`.
    exited: Condvar,
    max_threads: usize,
    thread_name: String,
    runtime: Weak<Shared>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Notified>,
    threads: usize,
    idle: usize,
    notified: usize,
    shutdown: bool,
    next_id: usize,
    handles: Vec<std::thread::JoinHandle<()>>,
}

/// The `Schedule` of blocking tasks: their only queue is the pool's.
struct BlockingSchedule(Arc<Inner>);

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified) {
        self.0.push(task);
    }

    fn release(&self, _task: RawTask) -> bool {
        false
    }
}

/// A closure as a future that completes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("blocking task polled twice");
        Poll::Ready(f())
    }
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        thread_name: String,
        runtime: Weak<Shared>,
    ) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                cv: Condvar::new(),
                exited: Condvar::new(),
                max_threads,
                thread_name,
                runtime,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(&self, f: F, location: &'static Location<'static>) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let sched = BlockingSchedule(self.inner.clone());
        let (notified, join, raw) = task::new_task(BlockingTask(Some(f)), sched, None, location);
        // Blocking tasks are not registered: the pool's queue owns them until
        // they run, and shutdown cancels what is still queued.
        raw.drop_ref();
        self.inner.push(notified);
        join
    }

    /// `(threads, idle threads, queued)`.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let s = self.inner.state.lock();
        (s.threads, s.idle, s.queue.len())
    }

    /// Cancels queued work and waits (until `deadline`) for the threads.
    /// Called on one of the pool's own threads (a runtime dropped inside
    /// `spawn_blocking`), it waits for the others, not for itself.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        let me = std::thread::current().id();
        let (queued, handles) = {
            let mut s = self.inner.state.lock();
            s.shutdown = true;
            self.inner.cv.notify_all();
            let queued: Vec<Notified> = s.queue.drain(..).collect();
            // This thread, if it is one of ours, exits once its closure
            // returns; the pool cannot wait for that.
            let own = s.handles.iter().any(|h| h.thread().id() == me) as usize;
            // Wait for the threads to exit, up to the deadline.
            while s.threads > own {
                match deadline {
                    #[cfg(not(loom))]
                    Some(d) => {
                        if Instant::now() >= d
                            || self.inner.exited.wait_until(&mut s, d).timed_out()
                        {
                            break;
                        }
                    }
                    // loom does not model time: wait as if without a deadline.
                    #[cfg(loom)]
                    Some(_) => crate::loom::condvar_wait(&self.inner.exited, &mut s),
                    None => crate::loom::condvar_wait(&self.inner.exited, &mut s),
                }
            }
            let handles = if s.threads == own {
                std::mem::take(&mut s.handles)
            } else {
                Vec::new()
            };
            (queued, handles)
        };
        for t in queued {
            task::shutdown(t.into_raw());
        }
        for h in handles {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

impl Inner {
    fn push(self: &Arc<Self>, task: Notified) {
        let mut s = self.state.lock();
        if s.shutdown {
            drop(s);
            task::shutdown(task.into_raw());
            return;
        }
        s.queue.push_back(task);
        if s.idle > s.notified {
            s.notified += 1;
            self.cv.notify_one();
        } else if s.threads < self.max_threads {
            s.threads += 1;
            s.handles.retain(|h| !h.is_finished());
            let id = s.next_id;
            s.next_id += 1;
            let inner = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-blocking-{id}", self.thread_name))
                .spawn(move || inner.run());
            match spawned {
                Ok(h) => s.handles.push(h),
                Err(e) => {
                    s.threads -= 1;
                    if s.threads == 0 {
                        // No thread runs, and none could be started: nothing
                        // would ever take the queue. Its closures are
                        // cancelled, and their handles say why.
                        let stranded: Vec<Notified> = s.queue.drain(..).collect();
                        drop(s);
                        for task in stranded {
                            task::cancel_queued(
                                task,
                                format!("no blocking thread could be started: {e}"),
                            );
                        }
                    }
                    // Otherwise a running thread takes it when it is free.
                }
            }
        }
    }

    fn run(self: Arc<Self>) {
        let _rt = self.runtime.upgrade().map(context::enter_runtime);
        let mut s = self.state.lock();
        loop {
            if let Some(task) = s.queue.pop_front() {
                drop(s);
                // A closure finishes in its one poll; a task that yielded
                // anyway goes back in line.
                if let Some(task) = task.run() {
                    self.push(task);
                }
                s = self.state.lock();
                continue;
            }
            if s.shutdown {
                break;
            }
            s.idle += 1;
            #[cfg(not(loom))]
            let timed_out = self.cv.wait_for(&mut s, KEEP_ALIVE).timed_out();
            #[cfg(loom)]
            let timed_out = {
                crate::loom::condvar_wait(&self.cv, &mut s);
                false
            };
            s.idle -= 1;
            if s.notified > 0 {
                s.notified -= 1;
                continue;
            }
            if timed_out && s.queue.is_empty() {
                break;
            }
        }
        s.threads -= 1;
        self.exited.notify_all();
    }
}
