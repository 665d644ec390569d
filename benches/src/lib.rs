//! Shared pieces of corio's benchmarks. The workloads themselves live in
//! `benches/workloads/`, compiled into each bench target, because the peers
//! (tokio, smol) are dev-dependencies and only bench and example targets may
//! use them.
