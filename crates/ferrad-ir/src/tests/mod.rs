//! Crate tests: one binary, data-driven where possible.

mod ad;
mod basics;
mod diff;
mod emit;
mod opt;
mod par;
pub(crate) mod progs;
mod random;
mod rules;
mod simd;
mod text;
mod transforms;
