//! Servers and clients built on corio.
