//! Custom derivative rules (ChainRulesCore's `frule`/`rrule`, JAX's `custom_jvp`/`custom_vjp`).
//!
//! A rule gives an opaque primal (`eval`: any code, in `f64`) and its `jvp` and `vjp`, generic
//! over [`Real`]. Because the derivative methods are themselves generic, a rule works in every
//! mode and under nesting: a Hessian through a custom rule differentiates the rule's `jvp`/`vjp`.
//!
//! Invariant: only `eval` ever sees plain `f64`s; derivative information flows exclusively through
//! `jvp`/`vjp`, so an opaque primal (BLAS, C, an iterative solver) is never differentiated.

use crate::real::Real;

/// A function `y = f(x)`, `Rⁿ → Rᵐ`, with hand-written derivatives.
///
/// ```
/// use ferrad_core::prelude::*;
/// /// softplus(x) = ln(1 + eˣ), stable for large |x|.
/// struct Softplus;
/// impl CustomRule for Softplus {
///     fn name(&self) -> &str { "softplus" }
///     fn eval(&self, x: &[f64]) -> Vec<f64> {
///         vec![x[0].max(0.0) + (-x[0].abs()).exp().ln_1p()]
///     }
///     fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
///         let s = T::one() / (T::one() + (-x[0]).exp());
///         vec![s * dx[0]]
///     }
///     fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
///         self.jvp(x, w)
///     }
/// }
/// // Naive ln(1 + e^1000) overflows; the rule gives the exact value and slope.
/// let (y, g) = ferrad_core::reverse::gradient_with(|x| apply_rule(&Softplus, x)[0], &[1000.0]);
/// assert_eq!((y, g[0]), (1000.0, 1.0));
/// let (_, d) = ferrad_core::derivative(|x| apply_rule(&Softplus, &[x])[0], 0.0);
/// assert_eq!(d, 0.5);
/// ```
pub trait CustomRule {
    /// A name for errors and printed IR.
    fn name(&self) -> &str;
    /// The primal: any code.
    fn eval(&self, x: &[f64]) -> Vec<f64>;
    /// `J(x)·dx`.
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T>;
    /// `wᵀ·J(x)`.
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T>;
}

/// Applies a custom rule to numbers of any mode.
pub fn apply_rule<R: CustomRule, T: Real>(rule: &R, x: &[T]) -> Vec<T> {
    T::apply_custom(rule, x)
}

/// `rule.jvp(x, dx)`, checking it returns one tangent per output.
pub(crate) fn jvp_checked<R: CustomRule + ?Sized, T: Real>(
    rule: &R,
    x: &[T],
    dx: &[T],
    m: usize,
) -> Vec<T> {
    let dy = rule.jvp(x, dx);
    assert_eq!(
        dy.len(),
        m,
        "custom rule `{}`: jvp returned {} tangents but eval returned {} outputs",
        rule.name(),
        dy.len(),
        m
    );
    dy
}
