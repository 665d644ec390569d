//! The hand-written `RawWaker` vtable. One static table serves every task
//! type: the data pointer is the task header, and waking dispatches through
//! the header's own vtable, so `Waker::will_wake` compares equal for two
//! wakers of the same task.

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

/// # Safety
/// `p` came from `raw_waker` and its task is alive.
unsafe fn header<'a>(p: *const ()) -> &'a Header {
    // SAFETY: see the function contract.
    unsafe { &*(p as *const Header) }
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns (or, in a poll, borrows) a
/// reference to its task.
unsafe fn clone(p: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task alive.
    unsafe { header(p) }.state.ref_inc();
    RawWaker::new(p, &VTABLE)
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns (or, in a poll, borrows) a
/// reference to its task.
unsafe fn wake(p: *const ()) {
    // SAFETY: this waker owns a reference, released after waking.
    unsafe {
        wake_by_ref(p);
        drop_waker(p);
    }
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns (or, in a poll, borrows) a
/// reference to its task.
unsafe fn wake_by_ref(p: *const ()) {
    // SAFETY: the waker keeps the task alive.
    let h = unsafe { header(p) };
    if h.state.wake() == OnWake::Schedule {
        // SAFETY: `wake` added the reference the new Notified owns.
        unsafe { (h.vtable.schedule)(NonNull::from(h)) }
    }
}

/// # Safety
/// `p` came from `raw_waker` and this waker owns a reference, released here.
unsafe fn drop_waker(p: *const ()) {
    // SAFETY: the waker owned a reference.
    let raw = unsafe { RawTask::from_raw(NonNull::new_unchecked(p as *mut Header)) };
    raw.drop_ref();
}
