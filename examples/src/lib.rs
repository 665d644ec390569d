//! Servers and clients built on corio, and the pieces they share with their tokio
//! twins in `benches/examples/`.
//!
//! - [`resp`]: the Redis protocol (RESP2) parser and encoder.
//! - [`redis_store`]: mini-redis's commands and sharded key space.
//! - [`hyper_rt`]: hyper 1.x on corio (executor, socket adapter, timer).
//!
//! The first two touch no runtime, so the corio servers in `src/bin/` and the
//! tokio servers they are compared with run exactly the same protocol code.
#![warn(missing_docs)]

pub mod hyper_rt;
pub mod redis_store;
pub mod resp;

/// The address a server should listen on: the first command-line argument, else
/// the `ADDR` environment variable, else `default`.
pub fn listen_addr(default: &str) -> String {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ADDR").ok())
        .unwrap_or_else(|| default.to_string())
}
