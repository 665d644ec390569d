//! corio's shared I/O driver thread, timing wheel and network types; runtime-agnostic.
#![warn(missing_docs)]
