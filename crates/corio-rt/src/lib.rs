//! corio's task core, work-stealing scheduler and blocking pool.
#![warn(missing_docs)]
