//! The one door through which corio-rt reaches atomics, cells, locks and the
//! run queues, so that `--cfg loom` can swap every one of them for loom's
//! model-checked versions.
//!
//! Under `cfg(loom)`:
//! - atomics, `UnsafeCell`, `Mutex`, `Condvar` and `Arc` come from loom;
//! - `crossbeam_deque`'s `Injector`, `Worker` and `Stealer` are invisible to
//!   loom, so they are replaced by [`queue`] types with the same method names
//!   built on a loom `Mutex<VecDeque>`. The scheduler's protocol around the
//!   queues (push, then check idle state; decrement idle state, then re-check
//!   the queues) is what the loom models exercise.
//!
//! Nothing outside this module names `std::sync::atomic`, `parking_lot` or
//! `crossbeam_deque` directly.

#[cfg(not(loom))]
mod imp {
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };

    /// `UnsafeCell` with loom's closure-based API, so the same code compiles
    /// in both worlds. Inlines to a plain pointer access here.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(v: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(v))
        }
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// Waits on `cv` with the guard `g`; parking_lot's signature.
    pub(crate) fn condvar_wait<T>(cv: &Condvar, g: &mut MutexGuard<'_, T>) {
        cv.wait(g);
    }

    /// Parking the thread inside `block_on` (`scheduler/main_park.rs`).
    pub(crate) mod thread {
        pub(crate) use std::thread::{current, park, Thread};
    }

    pub(crate) mod queue {
        pub(crate) use crossbeam_deque::{Injector, Steal, Stealer, Worker};
    }

    /// Waiting for I/O in an idle worker: the corio-io driver's turn.
    pub(crate) mod io {
        pub(crate) use corio_io::park::{offer_turn, unpark, IoParker, Turn};

        /// Turns the corio-io backup thread took (process-wide).
        pub(crate) fn backup_turns() -> u64 {
            corio_io::driver_metrics().backup_turns
        }
    }
}

#[cfg(loom)]
pub(crate) mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use loom::sync::Condvar;

    /// loom's `Mutex` with parking_lot's infallible `lock()`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Mutex(loom::sync::Mutex::new(v))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }

    /// Waits on `cv`, re-locking into the same guard slot.
    pub(crate) fn condvar_wait<T>(cv: &Condvar, g: &mut MutexGuard<'_, T>) {
        // loom's Condvar takes the guard by value; move it out and back in.
        // SAFETY: `g` is read exactly once and overwritten before anyone can
        // observe it again; `wait` does not unwind in loom's model except by
        // aborting the whole execution.
        unsafe {
            let guard = std::ptr::read(g);
            let guard = cv.wait(guard).unwrap();
            std::ptr::write(g, guard);
        }
    }

    /// Model-checkable stand-ins for crossbeam-deque: same method names, a
    /// loom `Mutex<VecDeque>` inside, and a capacity small enough that loom
    /// explores the interesting interleavings quickly.
    #[allow(missing_docs, clippy::new_without_default)]
    /// Parking the thread inside `block_on` (`scheduler/main_park.rs`).
    pub(crate) mod thread {
        pub(crate) use loom::thread::{current, park, Thread};
    }

    pub mod queue {
        use std::collections::VecDeque;

        pub enum Steal<T> {
            Empty,
            Success(T),
            Retry,
        }

        impl<T> Steal<T> {
            pub fn success(self) -> Option<T> {
                match self {
                    Steal::Success(t) => Some(t),
                    _ => None,
                }
            }
            pub fn is_retry(&self) -> bool {
                matches!(self, Steal::Retry)
            }
        }

        type Shared<T> = loom::sync::Arc<loom::sync::Mutex<VecDeque<T>>>;

        pub struct Injector<T>(loom::sync::Mutex<VecDeque<T>>);

        impl<T> Injector<T> {
            pub fn new() -> Self {
                Injector(loom::sync::Mutex::new(VecDeque::new()))
            }
            pub fn push(&self, t: T) {
                self.0.lock().unwrap().push_back(t);
            }
            pub fn is_empty(&self) -> bool {
                self.0.lock().unwrap().is_empty()
            }
            pub fn len(&self) -> usize {
                self.0.lock().unwrap().len()
            }
            pub fn steal(&self) -> Steal<T> {
                match self.0.lock().unwrap().pop_front() {
                    Some(t) => Steal::Success(t),
                    None => Steal::Empty,
                }
            }
            pub fn steal_batch_and_pop(&self, _dest: &Worker<T>) -> Steal<T> {
                self.steal()
            }
        }

        pub struct Worker<T>(Shared<T>);
        pub struct Stealer<T>(Shared<T>);

        impl<T> Worker<T> {
            pub fn new_fifo() -> Self {
                Worker(loom::sync::Arc::new(
                    loom::sync::Mutex::new(VecDeque::new()),
                ))
            }
            pub fn stealer(&self) -> Stealer<T> {
                Stealer(self.0.clone())
            }
            pub fn push(&self, t: T) {
                self.0.lock().unwrap().push_back(t);
            }
            pub fn pop(&self) -> Option<T> {
                self.0.lock().unwrap().pop_front()
            }
            pub fn is_empty(&self) -> bool {
                self.0.lock().unwrap().is_empty()
            }
        }

        impl<T> Stealer<T> {
            pub fn is_empty(&self) -> bool {
                self.0.lock().unwrap().is_empty()
            }
            pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
                let mut src = self.0.lock().unwrap();
                let n = src.len();
                if n == 0 {
                    return Steal::Empty;
                }
                let first = src.pop_front().unwrap();
                // Take half of the rest, like crossbeam's batch steal.
                let extra = (n - 1) / 2;
                let moved: Vec<T> = src.drain(..extra).collect();
                drop(src);
                let mut d = dest.0.lock().unwrap();
                d.extend(moved);
                Steal::Success(first)
            }
        }
    }

    /// A model of the corio-io driver's turn (see `corio_io::park`), with
    /// the same method names: one turn per execution, a blocking poll that
    /// returns on a model I/O event ([`fire`]) or an [`unpark`], a count of
    /// the events each parker took, and the waiting list of threads that
    /// found the turn held (offered the turn when a holder leaves without
    /// having blocked, as `corio_io::turn` does). What the models check is
    /// the routing around it: a worker that blocks in the turn must still be
    /// woken by a producer's `unpark`, an event must reach a worker, and a
    /// worker that waits for the turn must get it when it is offered.
    #[allow(missing_docs, clippy::new_without_default)]
    pub mod io {
        use std::task::Waker;

        use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use loom::sync::{Condvar, Mutex};

        struct ModelDriver {
            turn: AtomicBool,
            /// (a wake is pending, I/O events not yet taken)
            state: Mutex<(bool, usize)>,
            cv: Condvar,
            delivered: AtomicUsize,
            /// Parkers waiting to be offered the turn: (id, waker).
            waiters: Mutex<Vec<(usize, Waker)>>,
            next_id: AtomicUsize,
        }

        loom::lazy_static! {
            static ref DRIVER: ModelDriver = ModelDriver {
                turn: AtomicBool::new(false),
                state: Mutex::new((false, 0)),
                cv: Condvar::new(),
                delivered: AtomicUsize::new(0),
                waiters: Mutex::new(Vec::new()),
                next_id: AtomicUsize::new(0),
            };
        }

        pub struct IoParker {
            batch: usize,
            id: usize,
            waiting: bool,
        }

        pub struct Turn<'a> {
            parker: &'a mut IoParker,
            blocked: bool,
            offer: Option<bool>,
        }

        fn take_turn() -> bool {
            DRIVER
                .turn
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        }

        /// As `corio_io::park::offer_turn`.
        pub fn offer_turn() -> bool {
            offer()
        }

        /// Pops the oldest waiter and wakes it; `true` if there was one.
        pub fn offer() -> bool {
            let mut w = DRIVER.waiters.lock().unwrap();
            if w.is_empty() {
                return false;
            }
            let (_, waker) = w.remove(0);
            drop(w);
            waker.wake();
            true
        }

        impl IoParker {
            pub fn new() -> IoParker {
                IoParker {
                    batch: 0,
                    id: DRIVER.next_id.fetch_add(1, Ordering::SeqCst),
                    waiting: false,
                }
            }
            pub fn try_turn(&mut self) -> Option<Turn<'_>> {
                take_turn().then(|| Turn {
                    parker: self,
                    blocked: false,
                    offer: None,
                })
            }
            pub fn turn_or_wait(&mut self, offer_to: &Waker) -> Option<Turn<'_>> {
                if !take_turn() {
                    {
                        let mut w = DRIVER.waiters.lock().unwrap();
                        if !w.iter().any(|(i, _)| *i == self.id) {
                            w.push((self.id, offer_to.clone()));
                        }
                    }
                    self.waiting = true;
                    if !take_turn() {
                        return None;
                    }
                }
                self.withdraw();
                Some(Turn {
                    parker: self,
                    blocked: false,
                    offer: None,
                })
            }
            pub fn withdraw(&mut self) {
                if !std::mem::take(&mut self.waiting) {
                    return;
                }
                let mut w = DRIVER.waiters.lock().unwrap();
                match w.iter().position(|(i, _)| *i == self.id) {
                    Some(pos) => {
                        w.remove(pos);
                    }
                    None => {
                        drop(w);
                        offer();
                    }
                }
            }
            pub fn wake_batch(&mut self) {
                DRIVER
                    .delivered
                    .fetch_add(std::mem::take(&mut self.batch), Ordering::SeqCst);
            }
            pub fn has_batch(&self) -> bool {
                self.batch > 0
            }
            pub fn turns(&self) -> u64 {
                0
            }
            pub fn unpromised() -> IoParker {
                IoParker::new()
            }
            pub fn wait_for_offer(&mut self, offer_to: &Waker) {
                let mut w = DRIVER.waiters.lock().unwrap();
                if !w.iter().any(|(i, _)| *i == self.id) {
                    w.push((self.id, offer_to.clone()));
                }
                self.waiting = true;
            }
        }

        /// The model has no backup thread.
        pub fn backup_turns() -> u64 {
            0
        }

        impl Turn<'_> {
            pub fn poll(&mut self, block: bool) {
                let mut st = DRIVER.state.lock().unwrap();
                while block && !st.0 && st.1 == 0 {
                    st = DRIVER.cv.wait(st).unwrap();
                }
                st.0 = false;
                self.parker.batch += std::mem::take(&mut st.1);
                self.blocked = block;
            }
            pub fn has_batch(&self) -> bool {
                self.parker.batch > 0
            }
            /// In the model every event is the polling thread's own.
            pub fn batch_only_wakes(&self, _w: &Waker) -> bool {
                self.parker.batch > 0
            }
            pub fn finish(mut self, offer: bool) {
                self.offer = Some(offer);
            }
        }

        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                DRIVER.turn.store(false, Ordering::SeqCst);
                if self.offer.unwrap_or(!self.blocked) {
                    offer();
                }
            }
        }

        /// Model only: the turn is taken by a thread outside the runtime
        /// (the backup thread); `release_external` gives it back and offers
        /// it, as the backup does.
        pub fn hold_external() -> bool {
            take_turn()
        }

        /// Model only: see [`hold_external`].
        pub fn release_external() {
            DRIVER.turn.store(false, Ordering::SeqCst);
            offer();
        }

        pub fn unpark() {
            DRIVER.state.lock().unwrap().0 = true;
            DRIVER.cv.notify_all();
        }

        /// Model only: one I/O event becomes ready.
        pub fn fire() {
            DRIVER.state.lock().unwrap().1 += 1;
            DRIVER.cv.notify_all();
        }

        /// Model only: whether some parker holds the turn.
        pub fn turn_held() -> bool {
            DRIVER.turn.load(Ordering::SeqCst)
        }

        /// Model only: events woken through some parker's `wake_batch`.
        pub fn delivered() -> usize {
            DRIVER.delivered.load(Ordering::SeqCst)
        }
    }
}

pub(crate) use imp::*;

/// A process-wide counter that no protocol depends on (task ids): std's
/// atomic in both worlds, because loom atomics cannot live in a `static`.
pub(crate) use std::sync::atomic::AtomicU64 as StaticAtomicU64;

/// A statistic no protocol depends on (the per-worker metrics): std's atomic
/// in both worlds, so that loom does not explore its interleavings.
pub(crate) use std::sync::atomic::AtomicU64 as CounterU64;
