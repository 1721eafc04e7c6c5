//! # ferrad
//!
//! Automatic differentiation for stable Rust. Write a function once, generic over [`Real`], and
//! get forward mode ([`Dual`], [`DualVec`]), reverse mode ([`Var`] on a [`Tape`]), Hessian-vector
//! products (forward over reverse), Hessians and Jacobians with the mode chosen by shape.
//!
//! ```
//! use ferrad::prelude::*;
//!
//! fn loss<T: Real>(x: &[T]) -> T {
//!     x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
//! }
//!
//! let f = ferrad::scalar_fn!(loss);
//! let x = [1.0, 2.0, 3.0];
//! let (value, grad) = ferrad::gradient(&f, &x);
//! let (_, grad_fwd) = ferrad::gradient_forward(&f, &x);
//! let (_, _, hv) = ferrad::hvp(&f, &x, &[1.0, 0.0, 0.0]);
//! let check = ferrad::check_gradient(&f, &x);
//! assert!(check.ok);
//! for i in 0..3 {
//!     assert!((grad[i] - grad_fwd[i]).abs() < 1e-12);
//! }
//! assert!(value > 0.0 && hv[1] == 0.0);
//! ```

pub use ferrad_core::{
    CustomRule, Dual, Dual2Vec, DualVec, Error, GradCheck, Real, Scalar, ScalarFn, Tape, Var,
    VectorFn, apply_rule, central_differences, check_gradient, derivative, gradient,
    gradient_forward, hessian, hvp, jacobian, jvp, scalar_fn, vector_fn, vjp,
};
/// Enzyme-style annotations with the grammar of nightly `std::autodiff`, on stable Rust.
pub use ferrad_macros::{autodiff_forward, autodiff_reverse};

pub use ferrad_core::{
    checkpoint, custom, debug, forward, lift, math, mixed, par, reverse, rules, scratch, simd,
    stdrules,
};

/// Everything a user of the generic API needs in scope: [`Real`], the number types, the
/// function traits, custom rules, and `num_traits::{Float, FloatConst}` so that closures can call
/// `x.sin()` on any of them.
pub mod prelude {
    pub use ferrad_core::prelude::*;
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
