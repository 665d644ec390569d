//! `#[corio::main]` and `#[corio::test]`.
