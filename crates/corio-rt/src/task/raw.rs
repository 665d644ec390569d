//! The task allocation and the type-erased handles to it.
//!
//! A task is one heap allocation, a `#[repr(C)]` [`Cell`]: the [`Header`]
//! first (state word, vtable, id, name, spawn location, registry slot), then
//! the scheduler handle, the stage (future, then output) and the join waker.
//! Everything that does not know the future's type holds a [`RawTask`] (a
//! pointer to the header) and goes through the header's vtable, which is
//! monomorphised once per future type in `harness.rs`.
//!
//! Reference counting lives in the state word (see `state.rs`): each
//! [`Notified`], [`crate::task::JoinHandle`], `Waker` and the registry entry
//! own one reference; the last one to go frees the cell.
//!
//! [`new_task`], [`Schedule`], [`RawTask`] and [`Notified`] are the
//! scheduler's view of a task. They are crate-private except in loom builds,
//! where `corio_rt::__model` hands them to the models in `loom-tests/`:
//! `RawTask` is `Copy` with a safe `drop_ref`, and `Schedule::release`
//! decides reference counts, so safe code that held them could free a task
//! twice. (They are declared `pub` for that re-export; in other builds
//! nothing outside the crate can name them.)

use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;

use super::state::State;
use super::{harness, Id, JoinHandle};
use crate::loom::UnsafeCell;

/// The part of a task every handle can see without knowing its type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: Id,
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
    /// Index of this task in its registry shard; read and written only with
    /// that shard's lock held (see `registry.rs`).
    pub(crate) registry_slot: UnsafeCell<usize>,
}

/// Type-erased operations on a task, one table per future type.
pub(crate) struct Vtable {
    /// Runs one step: poll, cancel, or drop the reference (a `Notified`'s).
    /// `true`: the task woke itself while running, and the reference is
    /// handed back with NOTIFIED, for the caller to queue (`Notified::run`).
    pub(crate) run: unsafe fn(NonNull<Header>) -> bool,
    /// Queues a `Notified` built from a reference the caller owns.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation (refcount reached zero).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// JoinHandle poll: writes `Poll<Result<T, JoinError>>` to `dst` if done.
    pub(crate) read_output: unsafe fn(NonNull<Header>, dst: *mut (), waker: &Waker),
    /// JoinHandle drop.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel the future if nobody is running it (with a
    /// reason for the JoinError when it is not the shutdown).
    pub(crate) shutdown: unsafe fn(NonNull<Header>, Option<String>),
}

/// An unowned pointer to a task, for the scheduler (and the loom models).
/// Copy; the owner of a reference decides when it may be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub struct RawTask(NonNull<Header>);

// SAFETY: a task's shared state is only reached through atomics and the
// state-word protocol, and its future/output are `Send` (spawn requires it).
unsafe impl Send for RawTask {}
// SAFETY: as above; `&RawTask` only exposes the pointer.
unsafe impl Sync for RawTask {}

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl RawTask {
    /// # Safety
    /// `ptr` must point to a live task header.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask(ptr)
    }

    pub(crate) fn as_ptr(self) -> NonNull<Header> {
        self.0
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only used while its holder owns a reference,
        // which keeps the allocation alive.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn id(&self) -> Id {
        self.header().id
    }

    /// Drops one reference, freeing the task if it was the last.
    pub fn drop_ref(self) {
        if self.header().state.ref_dec(1) {
            // SAFETY: we held the last reference.
            unsafe { (self.header().vtable.dealloc)(self.0) }
        }
    }
}

/// A task in a run queue: owns one reference and the right to run it once.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub struct Notified(RawTask);

#[cfg_attr(not(loom), allow(unreachable_pub))]
impl Notified {
    /// # Safety
    /// The caller transfers one reference it owns, and the task's NOTIFIED
    /// bit stands for this `Notified`.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Notified {
        Notified(raw)
    }

    /// Gives up ownership without dropping the reference.
    pub(crate) fn into_raw(self) -> RawTask {
        let raw = self.0;
        std::mem::forget(self);
        raw
    }

    pub(crate) fn id(&self) -> Id {
        self.0.id()
    }

    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }

    /// Runs the task's next step (poll or cancel) and consumes the
    /// reference. A task that woke itself while running (it yielded) comes
    /// back: the caller queues it behind the others, with its own scheduler.
    ///
    /// Handing it back, rather than the task calling its scheduler (whose
    /// handle lives inside the task), means nothing here touches the task
    /// once it is queued again, where another thread may run and free it at
    /// once; the alternative, a reference of its own held across that call,
    /// cost an atomic per yield (`harness.rs`, rule 3).
    #[must_use = "a yielded task must be queued again"]
    pub fn run(self) -> Option<Notified> {
        let raw = self.into_raw();
        // SAFETY: we owned a reference and NOTIFIED; `run` takes both over.
        let yielded = unsafe { (raw.header().vtable.run)(raw.as_ptr()) };
        // SAFETY: `true` hands the reference and NOTIFIED back to us.
        yielded.then(|| unsafe { Notified::from_raw(raw) })
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // A queued task dropped without running (shutdown draining a queue):
        // only the reference goes; the registry drain cancels the future.
        self.0.drop_ref();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({})", self.id())
    }
}

/// Where a task is sent when it is woken. Implemented by the work-stealing
/// scheduler and the blocking pool (and by the loom models' schedulers).
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub trait Schedule: Send + Sync + 'static {
    /// Queues a task that was woken.
    fn schedule(&self, task: Notified);
    /// Called once when a task completes: removes it from the registry of
    /// live tasks. `true` if the registry held a reference, which the caller
    /// then releases.
    fn release(&self, task: RawTask) -> bool;
    /// Debug mode: report panics nobody retrieves.
    fn debug(&self) -> bool {
        false
    }
}

/// Allocates a task for `scheduler` and returns it with three references:
/// the queued `Notified`, the `JoinHandle`, and one for the registry.
#[cfg_attr(not(loom), allow(unreachable_pub))]
pub fn new_task<F, S>(
    future: F,
    scheduler: S,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
) -> (Notified, JoinHandle<F::Output>, RawTask)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = harness::allocate(future, scheduler, Id::next(), name, location, 3);
    // SAFETY: the three references and NOTIFIED/JOIN_INTEREST are split
    // between the three returned values, each owning one.
    unsafe { (Notified::from_raw(raw), JoinHandle::new(raw), raw) }
}
