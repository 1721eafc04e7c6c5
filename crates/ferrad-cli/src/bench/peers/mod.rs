//! Peers side by side (`ferrad bench --peers`): other AD tools timed in the same run on the
//! same problems, checked against the same references, with the same ratios.
//!
//! - [`jax`]: JAX `jit` on one CPU core, run out of process by a Python script embedded in the
//!   binary (`peers/jax_bench.py`); `--install-peers` makes a venv with jax.
//! - [`num_dual`]: the num-dual crate in process (cargo feature `peers-num-dual`, off by default
//!   so the default build does not depend on it or on nalgebra).
//! - [`echidna`]: the echidna crate in process (cargo feature `peers-echidna`, off by default):
//!   `grad` on its Adept-style `Reverse<f64>` tape for F and R, `hvp` on its bytecode tape for H.
//!
//! Invariant: a peer row is checked like any mode (a peer that disagrees fails the run); a
//! peer that is not installed is a skipped row that says how to install it, never a silent gap.

pub mod echidna;
pub mod jax;
pub mod num_dual;

use crate::bench::cases::{Mode, ModeKind, mode};

/// An in-process peer's row in a build without its cargo `feature`: skipped, saying how to
/// get it.
#[allow(dead_code)] // unused when every peer feature is on
pub(crate) fn not_built(name: &'static str, feature: &str) -> Mode {
    let mut m = mode(name, ModeKind::Peer, || (f64::NAN, Vec::new()));
    m.skip = Some(format!(
        "not built: cargo run --release -p ferrad-cli --features {feature} -- bench --peers"
    ));
    m
}
