//! asyncio-style synchronization primitives: fair, cancel-safe, runtime-agnostic, loom-checked.
#![warn(missing_docs)]
