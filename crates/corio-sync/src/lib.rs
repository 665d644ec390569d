//! asyncio-style synchronization primitives: fair, cancel-safe,
//! runtime-agnostic, loom-checked. Re-exported by `corio` as `corio::sync`.
//!
//! | asyncio | corio-sync |
//! |---|---|
//! | `Lock` | [`Lock<T>`] (owns the data, like a mutex; the guard releases) |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] (a [`Permit`] releases on drop) |
//! | `Event` | [`Event`] |
//! | `Condition` | [`Condition`] (used with any [`Lock`]'s guard, like `std::sync::Condvar`) |
//! | `Barrier` | [`Barrier`] |
//! | `Queue`, `PriorityQueue`, `LifoQueue` | [`Queue`], [`PriorityQueue`], [`LifoQueue`] |
//! | `Future` as a one-shot result | [`oneshot::channel`] |
//!
//! Three rules hold for every type here:
//!
//! - **FIFO, no barging.** Every waiter list is served in arrival order, and a
//!   newcomer never overtakes a queued waiter: `try_acquire` fails while
//!   someone is queued, even if the lock or permits were just handed on.
//! - **Cancel safety.** Cancelling is dropping the future. One dropped while
//!   still queued leaves no trace; one dropped after it was handed a lock,
//!   permits, an item or a notification passes it to the next waiter.
//! - **No runtime.** Nothing here spawns, sleeps or needs a reactor: the
//!   primitives only store and wake [`Waker`](std::task::Waker)s, so they work
//!   under corio, tokio, smol or a hand-written `block_on`.
//!
//! Every type is `Send + Sync` (for `T: Send` where it holds a `T`). Inside,
//! each primitive keeps its state and a FIFO of waiters under one short mutex
//! section; all atomics, cells and locks go through one facade module so that
//! the `loom` models in `loom-tests/` check them.
#![warn(missing_docs)]

mod loom;
mod waiters;

mod barrier;
mod condition;
mod event;
mod lock;
pub mod oneshot;
mod queue;
mod semaphore;

pub use barrier::{Barrier, BarrierWait, BrokenBarrier};
pub use condition::{Condition, ConditionWait};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockAcquire, LockAcquireOwned, LockGuard, OwnedLockGuard};
pub use queue::{
    BaseQueue, Fifo, Get, Join, Lifo, LifoQueue, Priority, PriorityQueue, Put, Queue, QueueEmpty,
    QueueFull, QueueOrder, QueueShutDown, TaskDoneTooManyTimes,
};
pub use semaphore::{
    Acquire, AcquireOwned, BoundedSemaphore, Closed, OwnedPermit, Permit, ReleasedTooManyTimes,
    Semaphore, TryAcquireError,
};
