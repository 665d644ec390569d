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
//! A panic in `poll` (or in the future's destructor) is caught here: the
//! task completes with [`JoinError`] and the worker that ran it lives on.

use std::any::Any;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::raw::{Header, Notified, RawTask, Vtable};
use super::state::{State, ToIdle, ToRunning, JOIN_INTEREST, JOIN_WAKER};
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
    let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
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

/// # Safety
/// `ptr` points to a live `Cell<F, S>`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: the header is the first field of the repr(C) cell.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// # Safety
/// `ptr` is a live `Cell<F, S>` and the caller hands over a reference it
/// owns together with the NOTIFIED bit (a consumed `Notified`).
unsafe fn run<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the caller (a `Notified`) owned a reference, which `run` consumes.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.to_running() {
        ToRunning::Poll => poll_future(cell, ptr),
        ToRunning::Cancel => cancel(cell, ptr),
        // SAFETY: we own the reference.
        ToRunning::Nothing => unsafe { RawTask::from_raw(ptr) }.drop_ref(),
    }
}

fn poll_future<F, S>(cell: &Cell<F, S>, ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // The waker borrows the running reference, so it needs no count of its
    // own; a clone taken by the future adds one.
    // SAFETY: the task stays alive for the whole poll (we hold a reference);
    // ManuallyDrop keeps the borrowed reference from being released.
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(waker::raw_waker(ptr)) });
    let mut cx = Context::from_waker(&waker);
    let res = {
        let _task = context::enter_task(ptr);
        panic::catch_unwind(AssertUnwindSafe(|| {
            cell.stage.with_mut(|stage| {
                // SAFETY: RUNNING is ours, so we have exclusive access to the
                // stage; the future is never moved out of the cell (pinned).
                match unsafe { &mut *stage } {
                    // SAFETY: as above, pinned in the cell.
                    Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
                    _ => unreachable!("polled a task whose future is gone"),
                }
            })
        }))
    };
    match res {
        Ok(Poll::Ready(out)) => {
            // A panic in the finished future's destructor is not the task's
            // result: the output stands.
            let _ = drop_future(cell);
            complete(cell, ptr, Ok(out));
        }
        Ok(Poll::Pending) => match cell.header.state.to_idle() {
            // SAFETY: we owned the running reference.
            ToIdle::Idle => unsafe { RawTask::from_raw(ptr) }.drop_ref(),
            // SAFETY: NOTIFIED stays set and our reference becomes the queued one.
            ToIdle::Notified => cell
                .scheduler
                .yield_now(unsafe { Notified::from_raw(RawTask::from_raw(ptr)) }),
            ToIdle::Cancel => cancel(cell, ptr),
        },
        Err(payload) => {
            let _ = drop_future(cell);
            complete(cell, ptr, Err(JoinError::panic(cell.header.id, payload)));
        }
    }
}

/// Drops the future in place; `Err` carries a panic from its destructor.
fn drop_future<F: Future, S>(cell: &Cell<F, S>) -> Result<(), Box<dyn Any + Send>> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller owns the stage (RUNNING). Replacing first keeps
        // the stage valid even if the old value's destructor panics.
        let old = cell
            .stage
            .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
        drop(old);
    }))
}

fn cancel<F, S>(cell: &Cell<F, S>, ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let err = match drop_future(cell) {
        Ok(()) => JoinError::cancelled(cell.header.id),
        Err(payload) => JoinError::panic(cell.header.id, payload),
    };
    complete(cell, ptr, Err(err));
}

/// Stores the output, publishes COMPLETE, wakes the joiner, and releases the
/// running reference (and the registry's).
fn complete<F, S>(cell: &Cell<F, S>, ptr: NonNull<Header>, out: Result<F::Output, JoinError>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: RUNNING is ours; the stage is `Consumed`, so nothing is dropped here.
    cell.stage
        .with_mut(|s| unsafe { std::ptr::write(s, Stage::Finished(out)) });
    let prev = cell.header.state.to_complete();
    if !prev.has(JOIN_INTEREST) {
        // Nobody will read the output: it is ours to drop.
        if cell.scheduler.debug() {
            // SAFETY: still ours, see above.
            cell.stage.with(|s| {
                // SAFETY: still ours, see above.
                if let Stage::Finished(Err(e)) = unsafe { &*s } {
                    if e.is_panic() {
                        report_unretrieved(&cell.header);
                    }
                }
            });
        }
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: as above.
            drop(
                cell.stage
                    .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) }),
            );
        }));
    } else if prev.has(JOIN_WAKER) {
        // SAFETY: JOIN_WAKER was set when COMPLETE went in, so the handle no
        // longer writes the slot (state.rs); reading it here is exclusive of
        // any write.
        cell.join_waker.with(|w| {
            // SAFETY: see above.
            if let Some(w) = unsafe { &*w } {
                w.wake_by_ref();
            }
        });
    }
    // SAFETY: the registry entry (if any) and the running reference are ours.
    let raw = unsafe { RawTask::from_raw(ptr) };
    let released = cell.scheduler.release(raw);
    if cell.header.state.ref_dec(1 + released as usize) {
        // SAFETY: those were the last references.
        unsafe { dealloc::<F, S>(ptr) }
    }
}

fn report_unretrieved(h: &Header) {
    crate::debug::unretrieved_panic(h.id, h.name.as_deref(), h.location);
}

/// # Safety
/// `ptr` is a live `Cell<F, S>`; the caller owns a reference and set
/// NOTIFIED for it, and both go to the new `Notified`.
unsafe fn schedule<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the caller owns a reference and set NOTIFIED for it.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: that reference and NOTIFIED become the Notified's.
    let notified = unsafe { Notified::from_raw(RawTask::from_raw(ptr)) };
    cell.scheduler.schedule(notified);
}

/// # Safety
/// `ptr` is a `Cell<F, S>` from `allocate` whose last reference is gone.
unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone; the cell came from `Box::leak`.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

/// # Safety
/// `ptr` is a live `Cell<F, S>` whose JoinHandle (the caller) owns a
/// reference; `dst` points to a `Poll<Result<F::Output, JoinError>>`.
unsafe fn read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the JoinHandle owns a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    if can_read_output(&cell.header, &cell.join_waker, waker) {
        // SAFETY: COMPLETE with JOIN_INTEREST: the output belongs to the handle.
        let stage = cell
            .stage
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
    if snap.has(super::state::COMPLETE) {
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
    slot.with_mut(|w| unsafe { *w = Some(waker.clone()) });
    header.state.set_join_waker().is_err()
}

/// # Safety
/// `ptr` is a live `Cell<F, S>`; the JoinHandle's reference is consumed.
unsafe fn drop_join_handle<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the JoinHandle owns a reference, consumed here.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.drop_join_interest().is_err() {
        // Complete: the output is ours to drop.
        let stage = cell
            .stage
            // SAFETY: COMPLETE and no JOIN_INTEREST: nobody else reads the stage.
            .with_mut(|s| unsafe { mem::replace(&mut *s, Stage::Consumed) });
        if cell.scheduler.debug() {
            if let Stage::Finished(Err(e)) = &stage {
                if e.is_panic() {
                    report_unretrieved(&cell.header);
                }
            }
        }
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(stage)));
    }
    // SAFETY: the handle's reference, released here.
    unsafe { RawTask::from_raw(ptr) }.drop_ref();
}

/// # Safety
/// `ptr` is a live `Cell<F, S>`; the caller's reference is consumed.
unsafe fn shutdown<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the caller (registry drain) owns a reference, consumed here.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.to_shutdown() {
        cancel(cell, ptr);
    } else {
        // SAFETY: the caller's reference, released here.
        unsafe { RawTask::from_raw(ptr) }.drop_ref();
    }
}
