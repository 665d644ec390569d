//! The typed half of a task: the [`Cell`] layout and the vtable functions
//! that poll, complete, cancel and free it.
//!
//! Who may touch what:
//! - the **stage** (future, then output) belongs to whoever set RUNNING
//!   until COMPLETE; after COMPLETE to the JoinHandle if JOIN_INTEREST was
//!   set at that moment, otherwise to the completing thread, which drops it;
//! - the **join waker slot** follows the JOIN_WAKER protocol in `state.rs`;
//! - the **scheduler** handle is immutable and shared.
//!
//! A panic in `poll`, in the future's or the output's destructor, or in the
//! joiner's waker is caught here: the task completes (with [`JoinError`]
//! when the future itself failed) and the worker that ran it lives on.
//!
//! # Pointers, references, and a task that frees itself
//!
//! A task is freed by whoever drops its last reference, and that can happen
//! in the middle of this file: the runner's own `complete` drops the last
//! reference when the JoinHandle and every waker are gone, and another
//! thread may drop it the moment the runner hands its reference to a queue.
//! Rust's aliasing rules (Stacked and Tree Borrows, which Miri checks) make
//! two things undefined even where the machine code would work: freeing
//! memory while a reference to it is still a live function argument, and
//! reaching one field through a pointer that was derived from a reference to
//! another. So the task core keeps to these rules:
//!
//! 1. A task is named by a raw pointer everywhere: `NonNull<Header>` in
//!    [`RawTask`], [`Notified`], the waker's data pointer and the vtable, and
//!    [`Harness`] (a `NonNull<Cell<F, S>>`) here. All of them descend from
//!    the `Box::into_raw` in [`allocate`], never from a reference, so each
//!    carries the provenance of the whole allocation.
//! 2. No `&Cell` is ever made. References into the cell (`&Header`, `&S`,
//!    the stage's and the join waker's `UnsafeCell`) are projected from the
//!    raw pointer field by field, and only where the calling code owns a
//!    reference count (so the cell is surely alive); none is passed into a
//!    call that may drop the last count. The harness functions take the
//!    `Harness` by value, never a reference into the cell.
//! 3. A count is given away only as the last use of the cell: after `ref_dec`
//!    returned, or once a `Notified` is out of our hands, this thread
//!    touches nothing but the raw pointer (and frees through it if `ref_dec`
//!    said it was the last). The scheduler (`&S`, inside the cell) is only
//!    called while a count is held across the call: a waker's for a wake, the
//!    JoinHandle's for an abort, the running one for `release`. A task that
//!    woke itself while running is not queued from here at all: `run`
//!    returns `true` and the caller, which holds no reference into the cell,
//!    queues it with its own scheduler (`Notified::run`). Queued from here,
//!    another thread could run and free it while `&S` was still a live
//!    argument; keeping it alive for that call cost an atomic per yield.
//! 4. A decrement through `&State` is `Arc`'s pattern: once `fetch_sub`
//!    returned, another thread may free the cell; the `&State` is not used
//!    again, and an atomic is interior-mutable, which both models allow to
//!    be freed under a shared reference that is no longer used.
//!
//! `task/tests.rs` drives every path through here with a mock scheduler,
//! and CI runs it under Miri with both models.

use std::any::Any;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::raw::{Header, Notified, RawTask, Vtable};
use super::state::{State, ToIdle, ToRunning, COMPLETE, JOIN_INTEREST, JOIN_WAKER};
use super::{waker, Id, JoinError, Schedule};
use crate::context;
use crate::loom::UnsafeCell;

/// The whole task, in one allocation. `#[repr(C)]` so a pointer to the cell
/// is a pointer to its header.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
    join_waker: UnsafeCell<Option<Waker>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// Allocates a task holding `refs` references, queued once (NOTIFIED) and
/// with a live JoinHandle (JOIN_INTEREST).
pub(crate) fn allocate<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    refs: usize,
) -> RawTask
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(refs),
            vtable: vtable::<F, S>(),
            id,
            name,
            location,
            registry_slot: UnsafeCell::new(usize::MAX),
        },
        scheduler,
        stage: UnsafeCell::new(Stage::Running(future)),
        join_waker: UnsafeCell::new(None),
    });
    // `Box::into_raw`: the one pointer every handle to this task descends
    // from, with the provenance of the whole allocation (rule 1).
    // SAFETY: `Box::into_raw` never returns null.
    let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(cell)) }.cast::<Header>();
    // SAFETY: freshly allocated and live; the caller owns all `refs`.
    unsafe { RawTask::from_raw(ptr) }
}

fn vtable<F, S>() -> &'static Vtable
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    &Vtable {
        run: run::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        read_output: read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

/// A raw pointer to a whole `Cell<F, S>` (rule 1 of the header): the typed
/// view of a task that the vtable functions work through. `Copy`, and
/// passed by value, so holding one keeps no reference into the cell alive.
struct Harness<F: Future, S> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S> Clone for Harness<F, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F: Future, S> Copy for Harness<F, S> {}

impl<F, S> Harness<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// # Safety
    /// `ptr` came from [`allocate`]`::<F, S>` (so it points to a live
    /// `Cell<F, S>`, with the provenance of all of it), and the caller owns
    /// a reference count, which keeps the cell alive until the caller gives
    /// it away (rule 3). Every accessor below relies on that count.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn ptr(self) -> NonNull<Header> {
        self.cell.cast()
    }

    fn raw(self) -> RawTask {
        // SAFETY: `ptr` is a live task header (`from_raw`'s contract).
        unsafe { RawTask::from_raw(self.ptr()) }
    }

    fn header(&self) -> &Header {
        // SAFETY: the cell is alive while our count is held (`from_raw`);
        // a place projection through the raw pointer, so no `&Cell` is made
        // (rule 2). The borrow ends before the count is given away.
        unsafe { &(*self.cell.as_ptr()).header }
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn scheduler(&self) -> &S {
        // SAFETY: as in `header`.
        unsafe { &(*self.cell.as_ptr()).scheduler }
    }

    fn stage(&self) -> &UnsafeCell<Stage<F>> {
        // SAFETY: as in `header`; who may use the stage is the state word's
        // business (module header).
        unsafe { &(*self.cell.as_ptr()).stage }
    }

    fn join_waker(&self) -> &UnsafeCell<Option<Waker>> {
        // SAFETY: as in `header`; the slot follows the JOIN_WAKER protocol.
        unsafe { &(*self.cell.as_ptr()).join_waker }
    }

    /// Gives up one reference count, freeing the cell if it was the last.
    /// The last use of `self` (rule 3).
    fn drop_ref(self) {
        if self.state().ref_dec(1) {
            // SAFETY: that was the last count; nobody else can reach the cell.
            unsafe { self.dealloc() }
        }
    }

    /// # Safety
    /// The last reference count is gone.
    unsafe fn dealloc(self) {
        // SAFETY: the cell came from `Box::into_raw` in `allocate`, and with
        // no count left nothing else can reach it.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }

    /// Polls the future once (RUNNING is ours) and acts on the result. The
    /// running reference is consumed, or handed back (`true`) when the task
    /// woke itself during the poll.
    fn poll(self) -> bool {
        // The waker borrows the running reference, so it needs no count of
        // its own; a clone taken by the future adds one.
        // SAFETY: the task stays alive for the whole poll (the running count
        // is held until after it); ManuallyDrop keeps the borrowed count from
        // being released.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(waker::raw_waker(self.ptr())) });
        let mut cx = Context::from_waker(&waker);
        let res = {
            let _task = context::enter_task(self.ptr());
            panic::catch_unwind(AssertUnwindSafe(|| {
                self.stage().with_mut(|stage| {
                    // SAFETY: RUNNING is ours, so we have exclusive access to
                    // the stage; the future is never moved out of the cell.
                    match unsafe { &mut *stage } {
                        // SAFETY: as above, pinned in the cell until dropped
                        // in place.
                        Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
                        _ => unreachable!("polled a task whose future is gone"),
                    }
                })
            }))
        };
        match res {
            Ok(Poll::Ready(out)) => {
                // A panic in the finished future's destructor is not the
                // task's result: the output stands.
                let _ = self.drop_future();
                self.complete(Ok(out));
            }
            Ok(Poll::Pending) => match self.state().to_idle() {
                ToIdle::Idle => self.drop_ref(),
                // NOTIFIED stays set and the running count goes back to the
                // caller, which queues the task (rule 3).
                ToIdle::Notified => return true,
                ToIdle::Cancel => self.cancel(None),
            },
            Err(payload) => {
                let _ = self.drop_future();
                let id = self.header().id;
                self.complete(Err(JoinError::panic(id, payload)));
            }
        }
        false
    }

    /// Drops the future in place; `Err` carries a panic from its destructor.
    fn drop_future(self) -> Result<(), Box<dyn Any + Send>> {
        panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller owns the stage (RUNNING). Replacing first
            // keeps the stage valid even if the old value's destructor panics.
            let old = self
                .stage()
                .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
            drop(old);
        }))
    }

    /// Drops the future (RUNNING is ours) and completes with a cancelled
    /// error (giving `reason`, if any), or a panic one if the destructor
    /// panicked.
    fn cancel(self, reason: Option<String>) {
        let id = self.header().id;
        let err = match (self.drop_future(), reason) {
            (Ok(()), None) => JoinError::cancelled(id),
            (Ok(()), Some(why)) => JoinError::cancelled_because(id, why),
            (Err(payload), _) => JoinError::panic(id, payload),
        };
        self.complete(Err(err));
    }

    /// Stores the output, publishes COMPLETE, wakes the joiner, and releases
    /// the running reference (and the registry's). The last use of `self`.
    fn complete(self, out: Result<F::Output, JoinError>) {
        // SAFETY: RUNNING is ours; the stage is `Consumed`, so nothing is
        // dropped by the write.
        self.stage()
            .with_mut(|s| unsafe { std::ptr::write(s, Stage::Finished(out)) });
        let prev = self.state().to_complete();
        if !prev.has(JOIN_INTEREST) {
            // Nobody will read the output: it is ours to drop.
            // SAFETY: COMPLETE without JOIN_INTEREST: the stage is ours.
            let stage = self
                .stage()
                .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
            self.drop_unread(stage);
        } else if prev.has(JOIN_WAKER) {
            self.wake_joiner();
        }
        // SAFETY: the registry entry (if any) and the running reference are ours.
        let released = self.scheduler().release(self.raw());
        if self.state().ref_dec(1 + released as usize) {
            // SAFETY: those were the last references.
            unsafe { self.dealloc() }
        }
    }

    /// Completion with a join waker stored: wake it, then give the slot
    /// back (state.rs, "join waker"). The waker is user code: a panic in its
    /// `wake_by_ref` or its destructor must not kill the completing thread.
    fn wake_joiner(self) {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            self.join_waker().with(|w| {
                // SAFETY: JOIN_WAKER was set when COMPLETE went in, so the
                // handle no longer writes the slot; it may only read it
                // (`will_wake`).
                if let Some(w) = unsafe { &*w } {
                    w.wake_by_ref();
                }
            });
        }));
        if !self
            .state()
            .unset_join_waker_after_complete()
            .has(JOIN_INTEREST)
        {
            // The handle was dropped meanwhile and left the waker to us.
            // SAFETY: JOIN_WAKER is clear and JOIN_INTEREST gone: nobody
            // else touches the slot again.
            let w = self.join_waker().with_mut(|w| unsafe { (*w).take() });
            let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(w)));
        }
    }

    /// Drops an output nobody will read, reporting an unretrieved panic in
    /// debug mode. A panic in the output's destructor stays here.
    fn drop_unread(self, stage: Stage<F>) {
        if self.scheduler().debug() {
            if let Stage::Finished(Err(e)) = &stage {
                if e.is_panic() {
                    report_unretrieved(self.header());
                }
            }
        }
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(stage)));
    }
}

fn report_unretrieved(h: &Header) {
    crate::debug::unretrieved_panic(h.id, h.name.as_deref(), h.location);
}

/// Runs one step. `true`: the task woke itself while running, and the
/// caller's count comes back with NOTIFIED set, for the caller to queue.
///
/// # Safety
/// `ptr` came from `allocate::<F, S>`, and the caller hands over a reference
/// count it owns together with the NOTIFIED bit (a consumed `Notified`).
unsafe fn run<F, S>(ptr: NonNull<Header>) -> bool
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract; the count is consumed below (or
    // handed back).
    let task = unsafe { Harness::<F, S>::from_raw(ptr) };
    match task.state().to_running() {
        ToRunning::Poll => return task.poll(),
        ToRunning::Cancel => task.cancel(None),
        ToRunning::Nothing => task.drop_ref(),
    }
    false
}

/// # Safety
/// `ptr` came from `allocate::<F, S>`; the caller owns a reference count and
/// set NOTIFIED for it, and both go to the new `Notified`. The caller also
/// holds a second count (a waker's, a JoinHandle's) across this call, so the
/// cell outlives the scheduler's use of `&S` (rule 3).
unsafe fn schedule<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract.
    let task = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: that count and NOTIFIED become the Notified's.
    let notified = unsafe { Notified::from_raw(task.raw()) };
    task.scheduler().schedule(notified);
}

/// # Safety
/// `ptr` came from `allocate::<F, S>` and its last reference count is gone.
unsafe fn dealloc<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract.
    unsafe { Harness::<F, S>::from_raw(ptr).dealloc() }
}

/// # Safety
/// `ptr` came from `allocate::<F, S>`, the JoinHandle (the caller) owns a
/// reference count, and `dst` points to a `Poll<Result<F::Output, JoinError>>`.
unsafe fn read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract; the handle keeps its count.
    let task = unsafe { Harness::<F, S>::from_raw(ptr) };
    if can_read_output(task.header(), task.join_waker(), waker) {
        // SAFETY: COMPLETE with JOIN_INTEREST: the output belongs to the handle.
        let stage = task
            .stage()
            .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
        let out = match stage {
            Stage::Finished(out) => out,
            _ => panic!("JoinHandle polled after it returned Ready"),
        };
        // SAFETY: `dst` is the handle's `Poll<Result<F::Output, JoinError>>`.
        unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(out) };
    }
}

/// The JoinHandle side of the join waker protocol: `true` when the output
/// may be read now, otherwise `waker` is stored to be woken on completion.
fn can_read_output(header: &Header, slot: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
    let snap = header.state.load();
    if snap.has(COMPLETE) {
        return true;
    }
    if snap.has(JOIN_WAKER) {
        // The slot is set and only read by the task side: reading it too is fine.
        // SAFETY: shared reads only while JOIN_WAKER is set.
        let same = slot.with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        if header.state.unset_join_waker().is_err() {
            return true;
        }
    }
    // SAFETY: JOIN_WAKER is clear, so the handle has the slot to itself.
    let old = slot.with_mut(|w| unsafe { (*w).replace(waker.clone()) });
    // The old waker is the handle's to drop; outside the slot access.
    drop(old);
    header.state.set_join_waker().is_err()
}

/// # Safety
/// `ptr` came from `allocate::<F, S>`; the JoinHandle's reference count is
/// consumed here.
unsafe fn drop_join_handle<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract.
    let task = unsafe { Harness::<F, S>::from_raw(ptr) };
    let dropped = task.state().drop_join_interest();
    if dropped.owns_waker {
        // The joiner's waker goes now, not when the task is freed.
        // SAFETY: JOIN_WAKER is clear (or was cleared by this transition),
        // so the slot is the handle's (state.rs, "join waker").
        let w = task.join_waker().with_mut(|w| unsafe { (*w).take() });
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(w)));
    }
    if dropped.owns_output {
        // SAFETY: COMPLETE with JOIN_INTEREST: the output is the handle's.
        let stage = task
            .stage()
            .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
        task.drop_unread(stage);
    }
    task.drop_ref();
}

/// # Safety
/// `ptr` came from `allocate::<F, S>`; the caller's reference count is
/// consumed here.
unsafe fn shutdown<F, S>(ptr: NonNull<Header>, reason: Option<String>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: see the function contract.
    let task = unsafe { Harness::<F, S>::from_raw(ptr) };
    if task.state().to_shutdown() {
        // RUNNING is ours now; our count plays the running reference.
        task.cancel(reason);
    } else {
        task.drop_ref();
    }
}
