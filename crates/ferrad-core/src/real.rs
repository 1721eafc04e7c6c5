//! The number traits every mode is generic over.
//!
//! [`Scalar`] is what a number type can do regardless of its base precision: it is a
//! `num_traits::Float` that can be built from an `f64` literal and read back as an `f64`.
//! [`Real<F>`] adds arithmetic with the base float `F` (`x * 2.0`), and the hook through
//! which custom rules ([`crate::CustomRule`]) enter every mode.
//!
//! Invariant: `Real<F>` for a wrapper type (`Dual<T>`, `DualVec<T, N>`, `Var<T>`) holds exactly
//! when the wrapped `T: Real<F>`, so precision is fixed by the innermost type and nesting is free.

use core::fmt::Debug;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Sub, SubAssign};

use num_traits::{Float, FloatConst};

use crate::custom::CustomRule;

/// The precision-free part of [`Real`]: what the rule table ([`crate::rules`]) needs.
///
/// It is split from `Real<F>` because Rust's coherence rules let a wrapper implement
/// `num_traits::Float` only once, whatever its base precision.
pub trait Scalar:
    Float
    + FloatConst
    + Copy
    + Debug
    + Default
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + 'static
{
    /// A constant (no derivative) from an `f64` literal, rounded to the base precision.
    fn lit(v: f64) -> Self;
    /// The primal value through any nesting, as an `f64`.
    fn primal(&self) -> f64;
}

/// A real number in any AD mode: `f64`, `f32`, `Dual<T>`, `DualVec<T, N>`, `Var<T>`, nested freely.
///
/// `F` is the base float. `T: Real` means `Real<f64>`, so generic code may write `x * 2.0`;
/// single precision is `T: Real<f32>`.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T {
///     x[0].sin() * x[1] * 2.0 + T::cst(1.0)
/// }
/// assert_eq!(f(&[0.0, 3.0]), 1.0);
/// let y = f(&[Dual::variable(0.0), Dual::constant(3.0)]);
/// assert_eq!((y.re, y.eps), (1.0, 6.0));
/// ```
pub trait Real<F: Float = f64>:
    Scalar + Add<F, Output = Self> + Sub<F, Output = Self> + Mul<F, Output = Self> + Div<F, Output = Self>
{
    /// A constant: no derivative.
    fn cst(v: f64) -> Self {
        Self::lit(v)
    }
    /// The primal value through any nesting.
    fn value(&self) -> f64 {
        self.primal()
    }
    /// Applies a custom rule (see [`crate::apply_rule`]): the hook through which a rule's
    /// opaque primal and its `jvp`/`vjp` enter each mode.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self>;
}

impl Scalar for f64 {
    #[inline(always)]
    fn lit(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn primal(&self) -> f64 {
        *self
    }
}

impl Scalar for f32 {
    #[inline(always)]
    fn lit(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn primal(&self) -> f64 {
        *self as f64
    }
}

impl Real<f64> for f64 {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        crate::custom::eval_checked(rule, x)
    }
}

impl Real<f32> for f32 {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let wide: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        crate::custom::eval_checked(rule, &wide).into_iter().map(|v| v as f32).collect()
    }
}
