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
        pub(crate) use corio_io::coop::{budget, refill};
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

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Mutex(loom::sync::Mutex::new(v))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap()))
        }
    }

    /// loom's guard, held in an `Option` so that [`condvar_wait`] can lend
    /// it to loom's by-value `Condvar::wait` and put it back. loom reports a
    /// failed model (a deadlock, a failed assertion in another thread) by
    /// panicking, also inside `wait`; the slot is then empty and the unwind
    /// drops nothing twice.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> std::ops::Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0
                .as_deref()
                .expect("guard used after its condvar wait unwound")
        }
    }

    impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0
                .as_deref_mut()
                .expect("guard used after its condvar wait unwound")
        }
    }

    /// Waits on `cv`, re-locking into the same guard slot.
    pub(crate) fn condvar_wait<T>(cv: &Condvar, g: &mut MutexGuard<'_, T>) {
        let guard =
            g.0.take()
                .expect("guard used after its condvar wait unwound");
        g.0 = Some(cv.wait(guard).unwrap());
    }

    /// Parking the thread inside `block_on` (`scheduler/main_park.rs`).
    pub(crate) mod thread {
        pub(crate) use loom::thread::{current, park, Thread};
    }

    /// Model-checkable stand-ins for crossbeam-deque, with the same method
    /// names.
    ///
    /// The items sit in a loom `Mutex<VecDeque>`, but a mutex orders far more
    /// than crossbeam does: a consumer that locked it to look at the queue
    /// would synchronise with the producer's push, and the idle protocol's
    /// SeqCst fences (`scheduler/idle.rs`) could be deleted without any model
    /// noticing. So what the idle protocol reads, "is the queue empty", is a
    /// separate loom atomic `len`, read without the lock and written (under
    /// it) with crossbeam's own orderings: a deque push is a Release store of
    /// `back` and its `is_empty` Acquire loads, the injector's are SeqCst (loom
    /// models SeqCst accesses as AcqRel, only its fences as SeqCst, so it is
    /// if anything stricter here than the hardware). With that, a producer's
    /// push and a parking worker's re-check form the store-buffering pattern
    /// that only the two fences resolve, and the mutant builds that drop one
    /// of them (`corio_mutant_no_fence`, `corio_mutant_no_park_fence`) fail
    /// the park models.
    #[allow(missing_docs, clippy::new_without_default)]
    pub(crate) mod queue {
        use std::collections::VecDeque;

        use loom::sync::atomic::{AtomicUsize, Ordering};
        use loom::sync::{Arc, Mutex};

        #[derive(Debug)]
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

        /// The items under a lock, and their count where a consumer can
        /// read it without the lock (see the module header).
        #[derive(Debug)]
        struct Queue<T> {
            items: Mutex<VecDeque<T>>,
            len: AtomicUsize,
            /// The ordering of `len`'s stores and unlocked loads: crossbeam's
            /// (Release/Acquire for a deque, SeqCst for the injector).
            store: Ordering,
            load: Ordering,
        }

        impl<T> Queue<T> {
            fn new(store: Ordering, load: Ordering) -> Self {
                Queue {
                    items: Mutex::new(VecDeque::new()),
                    len: AtomicUsize::new(0),
                    store,
                    load,
                }
            }

            /// Runs `f` on the items and publishes their new count.
            fn with<R>(&self, f: impl FnOnce(&mut VecDeque<T>) -> R) -> R {
                let mut items = self.items.lock().unwrap();
                let r = f(&mut items);
                self.len.store(items.len(), self.store);
                r
            }

            fn is_empty(&self) -> bool {
                self.len.load(self.load) == 0
            }
        }

        #[derive(Debug)]
        pub struct Injector<T>(Queue<T>);

        impl<T> Injector<T> {
            pub fn new() -> Self {
                Injector(Queue::new(Ordering::SeqCst, Ordering::SeqCst))
            }
            pub fn push(&self, t: T) {
                self.0.with(|q| q.push_back(t));
            }
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
            pub fn len(&self) -> usize {
                self.0.len.load(Ordering::SeqCst)
            }
            pub fn steal(&self) -> Steal<T> {
                match self.0.with(|q| q.pop_front()) {
                    Some(t) => Steal::Success(t),
                    None => Steal::Empty,
                }
            }
            pub fn steal_batch_and_pop(&self, _dest: &Worker<T>) -> Steal<T> {
                self.steal()
            }
        }

        #[derive(Debug)]
        pub struct Worker<T>(Arc<Queue<T>>);
        #[derive(Debug)]
        pub struct Stealer<T>(Arc<Queue<T>>);

        impl<T> Worker<T> {
            pub fn new_fifo() -> Self {
                Worker(Arc::new(Queue::new(Ordering::Release, Ordering::Acquire)))
            }
            pub fn stealer(&self) -> Stealer<T> {
                Stealer(self.0.clone())
            }
            pub fn push(&self, t: T) {
                self.0.with(|q| q.push_back(t));
            }
            pub fn pop(&self) -> Option<T> {
                self.0.with(|q| q.pop_front())
            }
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl<T> Stealer<T> {
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
            pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
                let taken = self.0.with(|src| {
                    let first = src.pop_front()?;
                    // Take half of the rest, like crossbeam's batch steal.
                    let extra = src.len() / 2;
                    Some((first, src.drain(..extra).collect::<Vec<T>>()))
                });
                match taken {
                    Some((first, moved)) => {
                        dest.0.with(|d| d.extend(moved));
                        Steal::Success(first)
                    }
                    None => Steal::Empty,
                }
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

        #[derive(Debug)]
        pub struct IoParker {
            batch: usize,
            id: usize,
            waiting: bool,
        }

        #[derive(Debug)]
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

        /// The model's tasks do no real I/O, so there is no budget to give.
        pub fn budget<R>(f: impl FnOnce() -> R) -> R {
            f()
        }

        /// As `budget`: nothing to refill.
        pub fn refill() {}

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
