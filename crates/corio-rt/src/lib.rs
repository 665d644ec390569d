//! corio's task core, work-stealing scheduler and blocking pool.
//!
//! Users reach this crate through `corio`; the names below are re-exported
//! there. A reader following a task goes: `task/mod.rs` (spawn) →
//! `scheduler/mod.rs` (queues) → `scheduler/worker.rs` (the loop) →
//! `task/harness.rs` (poll, complete) → `task/waker.rs` (wake, back to the
//! scheduler). Protocols live in the headers of `task/state.rs`,
//! `scheduler/idle.rs` and `blocking.rs`.
#![warn(missing_docs)]

mod blocking;
mod context;
mod debug;
mod loom;
pub mod runtime;
mod scheduler;
pub mod task;

pub use runtime::{run, Builder, Handle, Runtime, RuntimeMetrics, WorkerMetrics};
pub use task::{spawn, spawn_blocking, yield_now, JoinError, JoinHandle};

/// Pieces of the scheduler exposed for the loom models in `loom-tests/`.
/// Only in loom builds (`--cfg loom`): the task handles here can free a task
/// twice from safe code, so no other build lets code outside the crate
/// name them. Not a stable API.
#[cfg(loom)]
#[doc(hidden)]
pub mod __model {
    pub use crate::loom::imp::io;
    pub use crate::loom::queue::{Injector, Steal, Stealer, Worker};
    pub use crate::scheduler::idle::Idle;
    pub use crate::scheduler::main_park::{MainParker, TurnReservation};
    pub use crate::scheduler::park::{Parker, Woken};
    pub use crate::task::raw::{new_task, Notified, RawTask, Schedule};
}
