//! What this thread is doing for corio: which runtime it serves (for
//! `spawn` and `Handle::current`), whether it is a worker (so spawns and
//! wakes go to its LIFO slot), and which task it is polling (for
//! `task::id` and `task::name`).

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::scheduler::{Shared, WorkerCtx};
use crate::task::Header;

thread_local! {
    static WORKER: Cell<*const WorkerCtx> = const { Cell::new(std::ptr::null()) };
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
    static TASK: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
    static BLOCK_ON: Cell<bool> = const { Cell::new(false) };
    static WAKING_IO: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a worker waking what its turn of the I/O driver collected)
/// with [`waking_io`] true.
pub(crate) fn waking_io_batch(f: impl FnOnce()) {
    WAKING_IO.with(|w| w.set(true));
    let _reset = Reset(|| WAKING_IO.with(|w| w.set(false)));
    f();
}

/// Whether this thread is a worker waking what its turn of the I/O driver
/// collected (a `block_on` future woken here reserves the turn for its
/// thread: `scheduler/main_park.rs`).
pub(crate) fn waking_io() -> bool {
    WAKING_IO.with(Cell::get)
}

/// Runs `f` with the runtime this thread serves, or panics with `msg`.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Shared>) -> R, msg: &str) -> R {
    let w = WORKER.with(Cell::get);
    if !w.is_null() {
        // SAFETY: WORKER points at the WorkerCtx on this thread's worker
        // stack frame, set for exactly as long as that frame lives.
        return f(unsafe { &(*w).shared });
    }
    let shared = CURRENT.with(|c| c.borrow().clone());
    match shared {
        Some(s) => f(&s),
        None => panic!("{msg}"),
    }
}

/// The runtime this thread serves, if any.
pub(crate) fn try_current() -> Option<Arc<Shared>> {
    let w = WORKER.with(Cell::get);
    if !w.is_null() {
        // SAFETY: see `with_current`.
        return Some(unsafe { (*w).shared.clone() });
    }
    CURRENT.with(|c| c.borrow().clone())
}

/// This thread's worker, if it is one.
#[inline]
pub(crate) fn worker() -> Option<&'static WorkerCtx> {
    let w = WORKER.with(Cell::get);
    // SAFETY: see `with_current`; the 'static is a lie bounded by the worker
    // frame, which outlives every call made on this thread while it is set.
    unsafe { w.as_ref() }
}

/// Marks this thread as `ctx`'s worker until the guard drops.
pub(crate) fn enter_worker(ctx: &WorkerCtx) -> impl Drop {
    WORKER.with(|w| w.set(ctx));
    Reset(|| WORKER.with(|w| w.set(std::ptr::null())))
}

/// Makes `shared` the current runtime until the guard drops.
pub(crate) fn enter_runtime(shared: Arc<Shared>) -> impl Drop {
    let mut prev = CURRENT.with(|c| c.borrow_mut().replace(shared));
    Reset(move || CURRENT.with(|c| *c.borrow_mut() = prev.take()))
}

/// Records the task being polled until the guard drops.
#[inline]
pub(crate) fn enter_task(task: NonNull<Header>) -> impl Drop {
    let prev = TASK.with(|t| t.replace(Some(task)));
    Reset(move || TASK.with(|t| t.set(prev)))
}

pub(crate) fn current_task() -> Option<NonNull<Header>> {
    TASK.with(Cell::get)
}

/// Enters `block_on`, panicking if this thread may not block: a worker
/// (it would stall every task queued behind it) or one already inside
/// `block_on`.
pub(crate) fn enter_block_on() -> impl Drop {
    if !WORKER.with(Cell::get).is_null() {
        panic!(
            "Runtime::block_on called from a corio worker thread: blocking a worker stalls \
             its queue; await the future instead, or use spawn_blocking"
        );
    }
    if BLOCK_ON.with(|b| b.replace(true)) {
        panic!("Runtime::block_on called inside another block_on on the same thread; await the future instead");
    }
    Reset(|| BLOCK_ON.with(|b| b.set(false)))
}

struct Reset<F: FnMut()>(F);

impl<F: FnMut()> Drop for Reset<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}
