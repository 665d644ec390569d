//! Servers and clients built on corio, and the pieces they share with their tokio
//! twins in `benches/examples/`.
//!
//! The programs, each `cargo run --release -p corio-examples --bin NAME [ADDR]`:
//!
//! | bin | what | default address | tokio twin |
//! |---|---|---|---|
//! | `tour` | a guided tour that prints each step; needs no peer | - | - |
//! | `echo` | TCP echo server | 127.0.0.1:7700 | `echo_tokio` |
//! | `http` | HTTP/1.1 hello world on hyper 1.x (`corio-hyper`) | 127.0.0.1:7780 | `http_tokio` |
//! | `mini_redis` | RESP server for redis-benchmark / redis-cli | 127.0.0.1:6380 | `mini_redis_tokio` |
//! | `fanout` | many connections under a Semaphore, latency percentiles | its own echo server | - |
//! | `chat` | line-based chat room on `start_server`, broadcast through `Queue`s, Ctrl-C shutdown | 127.0.0.1:7760 | - |
//! | `cpu_io` | hashing service: CPU work inline or via `to_thread` | 127.0.0.1:7790 | - |
//! | `proc_pool` | shell commands as subprocesses, N at a time under a Semaphore, output streamed | - | - |
//!
//! A server's address may also come from the `ADDR` environment variable
//! ([`listen_addr`]); each prints the address it listens on. The twins run with
//! `cargo run --release -p corio-benches --example NAME`, and
//! `benches/real_clients.sh` loads both sides with redis-benchmark and wrk.
//!
//! Library modules:
//! - [`resp`]: the Redis protocol (RESP2) parser and encoder.
//! - [`redis_store`]: mini-redis's commands and sharded key space.
//! - [`shutdown`]: stop on SIGTERM/Ctrl-C, drain connections for a grace
//!   period (`GRACE_MS`), exit 0; used by `echo`, `mini_redis` and `http`.
//!
//! The first two touch no runtime, so the corio servers in `src/bin/` and the
//! tokio servers they are compared with run exactly the same protocol code.
#![warn(missing_docs)]

pub mod redis_store;
pub mod resp;
pub mod shutdown;

/// The address a server should listen on: the first command-line argument, else
/// the `ADDR` environment variable, else `default`.
pub fn listen_addr(default: &str) -> String {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ADDR").ok())
        .unwrap_or_else(|| default.to_string())
}
