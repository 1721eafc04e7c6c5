//! # ferrad-gradbench
//!
//! A [GradBench](https://github.com/gradbench/gradbench) tool built on ferrad. The binary
//! `ferrad-gradbench` speaks the protocol on stdin/stdout: one JSON message per line, one reply
//! per message with the same `id`. [`Tool`] holds the protocol logic so that tests can drive it in
//! process; every eval lives in its own module under [`evals`], written once against ferrad's
//! generic [`ferrad::prelude::Real`] where the eval allows, with the AD mode it uses stated in
//! its module documentation.
//!
//! Invariant: no input, however malformed, makes the tool crash or print a fake result; a
//! failure is answered with `success: false` and an error message.

pub mod evals;
pub mod gd;
pub mod protocol;
pub mod timing;

pub use protocol::Tool;
