//! Crate tests: one binary, data-driven where possible.

mod basics;
