//! [`Runtime`], its [`Builder`] and [`Handle`]: asyncio's event loop,
//! spread over one worker thread per core.
//!
//! Shutdown (drop or [`Runtime::shutdown_timeout`]): the registry of live
//! tasks is closed, every worker is woken, finishes its current poll, and
//! then cancels every task still registered, so each future is dropped
//! exactly once, on a worker thread, where its destructor may still use the
//! runtime. Two kinds of work are dropped on another thread: a task spawned
//! once shutdown has begun never runs, and `spawn` drops its future at once,
//! on the spawning thread (its handle yields a cancelled `JoinError`); and
//! blocking closures that never started are dropped by the thread that shuts
//! the runtime down (or, later, by `spawn_blocking`'s caller). Running
//! blocking closures are waited for. Every thread is joined, except the
//! calling thread itself when it is one of the runtime's blocking threads
//! (a runtime dropped inside `spawn_blocking`): it exits once its closure
//! returns.

use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::blocking::BlockingPool;
use crate::context;
use crate::loom::io::IoParker;
use crate::loom::queue::Worker;
use crate::scheduler::main_park::MainParker;
pub use crate::scheduler::metrics::WorkerMetrics;
use crate::scheduler::{self, monitor, Config, Shared};
use crate::task::JoinHandle;

/// Default for [`Builder::max_blocking_threads`].
const DEFAULT_MAX_BLOCKING: usize = 512;
/// Default for [`Builder::slow_poll_threshold`] (asyncio's
/// `slow_callback_duration`).
const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

/// Configures and starts a [`Runtime`].
///
/// Defaults: one worker per core (`num_cpus::get()`, or the environment
/// variable `CORIO_WORKER_THREADS`), 512 blocking threads at most, threads
/// named `corio-worker-N`, debug mode off unless `CORIO_DEBUG=1`.
///
/// ```
/// let rt = corio_rt::Builder::new().worker_threads(2).thread_name("app").build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// assert!(corio_rt::Builder::new().worker_threads(0).build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    thread_name: String,
    debug: Option<bool>,
    slow_poll_threshold: Duration,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults above.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            max_blocking_threads: DEFAULT_MAX_BLOCKING,
            thread_name: "corio".to_string(),
            debug: None,
            slow_poll_threshold: DEFAULT_SLOW_POLL,
        }
    }

    /// Number of worker threads. `0` makes [`Builder::build`] fail.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        self.worker_threads = Some(n);
        self
    }

    /// Upper bound on blocking-pool threads. `0` makes `build` fail.
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// Prefix of thread names (`NAME-worker-N`, `NAME-blocking-N`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Debug mode (asyncio's): report slow polls, panics nobody retrieves,
    /// and workers stuck in one poll, through `tracing`.
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = Some(on);
        self
    }

    /// In debug mode, a poll at least this long is reported (default 100 ms).
    pub fn slow_poll_threshold(mut self, d: Duration) -> Builder {
        self.slow_poll_threshold = d;
        self
    }

    /// Starts the worker threads. Fails on a zero thread count (from the
    /// builder or `CORIO_WORKER_THREADS`) or when threads cannot be started.
    pub fn build(self) -> io::Result<Runtime> {
        // corio-io's blocking work (host-name lookups) runs on the blocking
        // pool of the runtime it is called from.
        #[cfg(not(loom))]
        corio_io::blocking::set_spawner(offload_to_blocking_pool);
        let workers = match self.worker_threads {
            Some(n) => n,
            None => match std::env::var("CORIO_WORKER_THREADS") {
                Ok(v) => v.trim().parse::<usize>().map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("CORIO_WORKER_THREADS={v:?} is not a number of threads"),
                    )
                })?,
                Err(_) => num_cpus::get(),
            },
        };
        if workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "worker_threads must be at least 1",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_blocking_threads must be at least 1",
            ));
        }
        let debug = self.debug.unwrap_or_else(|| {
            std::env::var("CORIO_DEBUG").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        });
        let config = Config {
            debug,
            slow_poll_threshold: self.slow_poll_threshold,
        };

        let locals: Vec<Worker<_>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let stealers = locals.iter().map(Worker::stealer).collect();
        let name = self.thread_name.clone();
        let max_blocking = self.max_blocking_threads;
        let shared = Arc::new_cyclic(|weak| {
            Shared::new(
                stealers,
                BlockingPool::new(max_blocking, name, weak.clone()),
                config,
            )
        });

        let exits = Arc::new(Exits::default());
        let mut threads = Vec::with_capacity(workers + 1);
        let start = |threads: &mut Vec<thread::JoinHandle<()>>,
                     tname: String,
                     f: Box<dyn FnOnce() + Send>| {
            let guard = ExitGuard(exits.clone());
            exits.started();
            // If the thread cannot start, the closure (and `guard` in it) is
            // dropped right here, which counts the exit: counting it again
            // would take one more thread off the count than ever started.
            thread::Builder::new()
                .name(tname)
                .spawn(move || {
                    let _done = guard;
                    f()
                })
                .map(|h| threads.push(h))
        };
        let mut result = Ok(());
        for (i, local) in locals.into_iter().enumerate() {
            let shared = shared.clone();
            let tname = format!("{}-worker-{i}", self.thread_name);
            result = start(
                &mut threads,
                tname,
                Box::new(move || scheduler::run_worker(shared, i, local)),
            );
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            let shared = shared.clone();
            result = start(
                &mut threads,
                format!("{}-monitor", self.thread_name),
                Box::new(move || monitor::run(shared)),
            );
        }
        let rt = Runtime {
            handle: Handle { shared },
            threads,
            exits,
            shut_down: false,
        };
        // On failure, dropping `rt` stops whatever did start.
        result.map(|()| rt)
    }
}

/// Counts live runtime threads so shutdown can wait with a deadline.
#[derive(Default)]
struct Exits {
    live: Mutex<usize>,
    cv: Condvar,
}

impl Exits {
    fn started(&self) {
        *self.live.lock().unwrap() += 1;
    }

    fn exited(&self) {
        *self.live.lock().unwrap() -= 1;
        self.cv.notify_all();
    }

    /// `true` when every thread exited before `deadline`.
    fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut live = self.live.lock().unwrap();
        while *live > 0 {
            match deadline {
                None => live = self.cv.wait(live).unwrap(),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    live = self.cv.wait_timeout(live, d - now).unwrap().0;
                }
            }
        }
        true
    }
}

struct ExitGuard(Arc<Exits>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.exited();
    }
}

/// A multi-threaded corio runtime: worker threads, a monitor thread and a
/// blocking pool. Dropping it cancels every task and joins every thread
/// (see the module docs for which thread drops which future). It may be
/// dropped on any thread but its own workers, where that panics: a worker
/// would wait for itself.
///
/// ```
/// let rt = corio_rt::Runtime::new().unwrap();
/// let h = rt.spawn(async { 40 + 2 });
/// assert_eq!(rt.block_on(h).unwrap(), 42);
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Vec<thread::JoinHandle<()>>,
    exits: Arc<Exits>,
    shut_down: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.shared.num_workers())
            .finish()
    }
}

impl Runtime {
    /// A runtime with the default [`Builder`] settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` on the current thread until it completes, with this
    /// runtime as the current one (asyncio's `run_until_complete`). Tasks it
    /// spawns run on the workers.
    ///
    /// # Panics
    /// On a worker thread (blocking there would stall its queue) or inside
    /// another `block_on`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime, to spawn or block on it from elsewhere.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Counters describing the runtime right now.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `timeout` for workers to cancel their
    /// tasks and for running blocking closures to return; threads still
    /// running after that are detached.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(Instant::now() + timeout));
    }

    fn shutdown(&mut self, deadline: Option<Instant>) {
        if self.shut_down {
            return;
        }
        if context::worker().is_some_and(|w| Arc::ptr_eq(&w.shared, &self.handle.shared)) {
            panic!(
                "a corio Runtime was dropped (or shut down) on one of its own worker threads, \
                 which would wait forever for itself; drop it from the thread that built it"
            );
        }
        self.shut_down = true;
        let shared = &self.handle.shared;
        shared.begin_shutdown();
        let current = thread::current().id();
        let all_exited = self.exits.wait(deadline);
        for t in self.threads.drain(..) {
            // Never join the calling thread (a runtime dropped on one of its
            // own threads), nor a thread still running past the deadline.
            if all_exited && t.thread().id() != current {
                let _ = t.join();
            }
        }
        shared.blocking.shutdown(deadline);
        shared.drain_injector();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

/// A handle to a runtime: spawn onto it or block on it from any thread.
/// Cheap to clone; `Send + Sync`.
///
/// ```
/// let rt = corio_rt::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let out = std::thread::spawn(move || handle.block_on(async { 7 })).join().unwrap();
/// assert_eq!(out, 7);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.num_workers())
            .finish()
    }
}

/// corio-io's [`Spawner`](corio_io::blocking::Spawner): runs the job on the
/// blocking pool of the runtime the calling thread belongs to (a worker, a
/// blocking thread, or inside `block_on`), detached; declines it on any
/// other thread, where corio-io starts a thread for it.
#[cfg(not(loom))]
fn offload_to_blocking_pool(job: corio_io::blocking::Job) -> Result<(), corio_io::blocking::Job> {
    match Handle::try_current() {
        Some(handle) => {
            drop(handle.spawn_blocking(job));
            Ok(())
        }
        None => Err(job),
    }
}

impl Handle {
    /// The runtime this thread runs in (a worker, a blocking thread, or
    /// inside `block_on`).
    ///
    /// # Panics
    /// Outside any corio runtime; see [`Handle::try_current`].
    pub fn current() -> Handle {
        Handle::try_current().expect("Handle::current called outside of a corio runtime")
    }

    /// The runtime this thread runs in, if any.
    pub fn try_current() -> Option<Handle> {
        context::try_current().map(|shared| Handle { shared })
    }

    /// Spawns a task on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }

    /// Runs `f` on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.blocking.spawn(f, Location::caller())
    }

    /// Like [`Runtime::block_on`]; usable from any non-worker thread,
    /// blocking-pool threads included.
    ///
    /// # Panics
    /// On a worker thread or inside another `block_on`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _block = context::enter_block_on();
        let _rt = context::enter_runtime(self.shared.clone());
        let mut future = pin!(future);
        let signal = Arc::new(MainSignal {
            park: MainParker::new(),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(signal.clone());
        let mut cx = Context::from_waker(&waker);
        // Taken lazily: only a future woken by I/O gets the turn reserved.
        let mut io: Option<IoParker> = None;
        let reservation = &self.shared.turn_reservation;
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                // Workers may have deferred to us (main_park.rs).
                reservation.release();
                return v;
            }
            let io = if reservation.is_reserved() {
                Some(io.get_or_insert_with(IoParker::unpromised))
            } else {
                None
            };
            signal.park.park(io, &waker, reservation);
        }
    }

    /// Counters describing the runtime right now.
    pub fn metrics(&self) -> RuntimeMetrics {
        let s = &self.shared;
        let (blocking_threads, idle_blocking_threads, blocking_queue_depth) = s.blocking.counts();
        let (unparked, searching) = s.idle.counts();
        let workers: Vec<WorkerMetrics> = s.remotes.iter().map(|r| r.counters.read()).collect();
        RuntimeMetrics {
            driver_turns_by_workers: workers.iter().map(|w| w.driver_turns).sum(),
            driver_turns_by_backup: crate::loom::io::backup_turns(),
            workers,
            num_workers: s.num_workers(),
            num_alive_tasks: s.registry.len(),
            injector_depth: s.injector.len(),
            num_unparked_workers: unparked,
            num_searching_workers: searching,
            num_blocking_threads: blocking_threads,
            num_idle_blocking_threads: idle_blocking_threads,
            blocking_queue_depth,
        }
    }
}

/// A snapshot of runtime counters, from [`Runtime::metrics`].
///
/// ```
/// let rt = corio_rt::Builder::new().worker_threads(2).build().unwrap();
/// rt.block_on(rt.spawn(async { corio_rt::yield_now().await })).unwrap();
/// let m = rt.metrics();
/// assert_eq!(m.workers.len(), 2);
/// assert!(m.workers.iter().map(|w| w.polls).sum::<u64>() >= 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads.
    pub num_workers: usize,
    /// Tasks spawned on the workers and not yet finished.
    pub num_alive_tasks: usize,
    /// Tasks waiting in the global injector.
    pub injector_depth: usize,
    /// Workers not parked.
    pub num_unparked_workers: usize,
    /// Workers looking for work to steal.
    pub num_searching_workers: usize,
    /// Threads in the blocking pool.
    pub num_blocking_threads: usize,
    /// Blocking-pool threads waiting for work.
    pub num_idle_blocking_threads: usize,
    /// Closures queued for the blocking pool.
    pub blocking_queue_depth: usize,
    /// Each worker's counters, by worker index.
    pub workers: Vec<WorkerMetrics>,
    /// I/O driver turns taken by this runtime's workers (the sum of
    /// theirs): polls done by the thread that runs what they wake.
    pub driver_turns_by_workers: u64,
    /// I/O driver turns taken by the "corio-io" backup thread, which polls
    /// only when every worker is busy; process-wide (the driver is shared
    /// by every runtime), counted since the process started.
    pub driver_turns_by_backup: u64,
}

/// `block_on`'s waker: wakes the blocked thread, and reserves the driver's
/// turn for it when a worker wakes it from its turn (`main_park.rs`).
struct MainSignal {
    park: MainParker,
    shared: Arc<Shared>,
}

impl Wake for MainSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if context::waking_io() {
            // An I/O event for this future reached a worker: the next one
            // should reach this thread directly.
            self.shared.turn_reservation.reserve();
        }
        self.park.wake();
    }
}

/// Starts a default runtime, runs `future` to completion on it, and shuts
/// it down (asyncio's `run`).
///
/// # Panics
/// If the runtime cannot start, or on a runtime thread (see
/// [`Runtime::block_on`]).
///
/// ```
/// let v = corio_rt::run(async { corio_rt::spawn(async { 5 }).await.unwrap() });
/// assert_eq!(v, 5);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    let rt = Runtime::new().unwrap_or_else(|e| panic!("corio::run: cannot start the runtime: {e}"));
    rt.block_on(future)
}
