//! ferrad-ir: ferrad's AD compiler.
#![allow(missing_docs)]

pub mod builder;
pub mod entities;
pub mod interp;
pub mod ir;
pub mod parse;
pub mod print;
pub mod trace;
pub mod verify;

#[cfg(test)]
mod tests;
