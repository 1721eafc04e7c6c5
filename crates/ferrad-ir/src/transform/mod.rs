//! Program transformations: automatic differentiation and call inlining.
//!
//! - [`jvp`]: forward mode with `W` tangents per value (batched), Enzyme's `Dual`/`Dualv`.
//! - [`vjp`]: reverse mode with shadows for buffers, Enzyme's `Duplicated`/`Active`.
//! - [`inline`]: replaces calls by the callee's body, which the AD transforms require.
//! - [`cost`]: what a value costs to recompute, which decides what reverse-mode loops store.
//! - [`scratch`]: moves the VJP's per-loop buffers out of enclosing loops (allocated once).
//!
//! Forward-over-reverse (Hessian-vector products) is `jvp(vjp(f))`.
//!
//! Invariant: a transform's output is verified (in debug builds) and agrees with the
//! interpreter's finite differences of the input function (property-tested).

use std::fmt;

pub mod cost;
pub mod inline;
pub mod jvp;
pub mod scratch;
pub mod vjp;

/// Why a transform cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransformError {
    /// The function calls another one: inline first ([`inline::inline_calls`]).
    CallNotInlined(String),
    /// Something the transform does not support, with an explanation.
    Unsupported(String),
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransformError::CallNotInlined(n) => write!(
                f,
                "@{n} contains a call; differentiate the module with calls inlined (transform::inline::inline_calls)"
            ),
            TransformError::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for TransformError {}

/// `rem`'s rule (`∂y = -trunc(x / y)`) needs `trunc`, which the IR does not have.
pub(crate) fn rem_unsupported() -> TransformError {
    TransformError::Unsupported(
        "the derivative of `rem` needs `trunc`, which the IR has no operation for; \
         differentiate `x - y * q` with an explicit quotient instead"
            .into(),
    )
}
