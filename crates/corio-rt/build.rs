//! Mutant builds for the loom models (`.ci/run`). In a loom build
//! (`--cfg loom`), `CORIO_MUTANT=<name>` compiles this crate with
//! `--cfg corio_mutant_<name>`, which plants the one bug a loom model exists
//! to catch. An environment variable rather than RUSTFLAGS so that switching
//! from one mutant to the next rebuilds corio's crates only, not every
//! dependency (RUSTFLAGS is part of every crate's fingerprint). Outside loom
//! builds it does nothing; `--cfg corio_mutant_<name>` in RUSTFLAGS works as
//! well.

fn main() {
    println!("cargo::rerun-if-env-changed=CORIO_MUTANT");
    if std::env::var_os("CARGO_CFG_LOOM").is_none() {
        return;
    }
    if let Ok(name) = std::env::var("CORIO_MUTANT") {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "CORIO_MUTANT must be a mutant's name, like lost_wakeup (got {name:?})"
        );
        println!("cargo::rustc-cfg=corio_mutant_{name}");
    }
}
