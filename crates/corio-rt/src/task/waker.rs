//! The hand-written `RawWaker` vtable. One static table serves every task
//! type: the data pointer is the task header, and waking dispatches through
//! the header's own vtable, so `Waker::will_wake` compares equal for two
//! wakers of the same task.
//!
//! The data pointer is the task's raw pointer itself (with the provenance of
//! the whole cell, see `harness.rs`), and it is handed on as such: a pointer
//! rebuilt from a `&Header` would only reach the header, and using it for the
//! rest of the cell is undefined behaviour.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

use super::raw::{Header, RawTask};
use super::state::OnWake;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A raw waker for the task at `ptr`. It does not add a reference: the
/// caller decides whether it borrows one (the running poll) or owns one.
pub(crate) fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)
}

/// The task behind a waker's data pointer.
///
/// # Safety
/// `p` came from `raw_waker` and the waker owns (or, in a poll, borrows) a
/// reference count, so the task is alive.
unsafe fn task(p: *const ()) -> RawTask {
    // SAFETY: `p` is the non-null task pointer given to `raw_waker`.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(p as *mut Header)) }
}

/// # Safety
/// `p` came from `raw_waker` and the waker being cloned owns (or, in a
/// poll, borrows) a reference count.
unsafe fn clone(p: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task alive; the clone owns
    // the count added here.
    unsafe { task(p) }.header().state.ref_inc();
    RawWaker::new(p, &VTABLE)
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns a reference count, which
/// is released here.
unsafe fn wake(p: *const ()) {
    // SAFETY: the waker's count keeps the task alive through the wake (the
    // scheduler call included), and is released after it.
    unsafe {
        wake_by_ref(p);
        drop_waker(p);
    }
}

/// # Safety
/// `p` came from `raw_waker` and the waker owns (or, in a poll, borrows) a
/// reference count, held across this call.
unsafe fn wake_by_ref(p: *const ()) {
    // SAFETY: see the function contract.
    let task = unsafe { task(p) };
    let header = task.header();
    if header.state.wake() == OnWake::Schedule {
        let schedule = header.vtable.schedule;
        // SAFETY: `wake` added the count the new Notified owns, and the
        // waker's own count keeps the task alive through the call. The
        // pointer is the task's own, not one derived from `header`.
        unsafe { schedule(task.as_ptr()) }
    }
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns a reference count,
/// released here.
unsafe fn drop_waker(p: *const ()) {
    // SAFETY: see the function contract.
    unsafe { task(p) }.drop_ref();
}
