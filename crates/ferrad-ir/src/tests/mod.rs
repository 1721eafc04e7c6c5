//! Crate tests: one binary, data-driven where possible.

mod ad;
mod basics;
mod diff;
mod emit;
mod opt;
mod random;
mod text;
pub(crate) mod progs;
