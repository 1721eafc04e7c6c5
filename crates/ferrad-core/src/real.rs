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
#[cfg(not(feature = "std-math"))]
use crate::math;

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

    // The elementary functions the rule table evaluates. Wrappers keep these defaults (their
    // `Float` methods go back through the rule table). `f64` and `f32` route them to
    // `crate::math`'s inlinable, vectorizable implementations (≤ 2 ulp; sin/cos/tan fall back
    // to std beyond `math::TRIG_MAX`). With the `std-math` feature they are std's, so every
    // mode's primal value is bit-identical to plain `f64` code.
    #[doc(hidden)]
    #[inline(always)]
    fn math_exp(self) -> Self {
        Float::exp(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_exp_m1(self) -> Self {
        Float::exp_m1(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_ln(self) -> Self {
        Float::ln(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_ln_1p(self) -> Self {
        Float::ln_1p(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_sin(self) -> Self {
        Float::sin(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_cos(self) -> Self {
        Float::cos(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_tan(self) -> Self {
        Float::tan(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_tanh(self) -> Self {
        Float::tanh(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_sinh(self) -> Self {
        Float::sinh(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_cosh(self) -> Self {
        Float::cosh(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_atan(self) -> Self {
        Float::atan(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_asin(self) -> Self {
        Float::asin(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_acos(self) -> Self {
        Float::acos(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_cbrt(self) -> Self {
        Float::cbrt(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_sin_cos(self) -> (Self, Self) {
        Float::sin_cos(self)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_atan2(self, other: Self) -> Self {
        Float::atan2(self, other)
    }
    #[doc(hidden)]
    #[inline(always)]
    fn math_powf(self, other: Self) -> Self {
        Float::powf(self, other)
    }
}

/// The rule table's trigonometric functions: `crate::math`'s within [`math::TRIG_MAX`], where
/// its reduction is exact, and std's (with its full Payne–Hanek reduction) beyond, so the rule
/// table keeps full accuracy at every argument. The branch is scalar and almost never taken.
#[cfg(not(feature = "std-math"))]
mod rule_trig {
    use crate::math::{self, TRIG_MAX};

    macro_rules! with_fallback {
        ($($name:ident: $t:ty => $fast:path, $std:ident;)*) => {$(
            #[inline(always)]
            pub(super) fn $name(x: $t) -> $t {
                if x.abs() <= TRIG_MAX as $t { $fast(x) } else { x.$std() }
            }
        )*};
    }
    with_fallback! {
        sin: f64 => math::sin, sin;
        cos: f64 => math::cos, cos;
        tan: f64 => math::tan, tan;
        sin_f32: f32 => math::sin_f32, sin;
        cos_f32: f32 => math::cos_f32, cos;
        tan_f32: f32 => math::tan_f32, tan;
    }

    #[inline(always)]
    pub(super) fn sin_cos(x: f64) -> (f64, f64) {
        if x.abs() <= TRIG_MAX {
            math::sin_cos(x)
        } else {
            x.sin_cos()
        }
    }

    #[inline(always)]
    pub(super) fn sin_cos_f32(x: f32) -> (f32, f32) {
        if x.abs() <= TRIG_MAX as f32 {
            math::sin_cos_f32(x)
        } else {
            x.sin_cos()
        }
    }
}

/// Routes the rule table's elementary functions of a base float to `crate::math`.
macro_rules! math_hooks {
    ($($h:ident => $f:path),* ; $sin_cos:path, $atan2:path, $powf:path) => {
        $(
            #[cfg(not(feature = "std-math"))]
            #[inline(always)]
            fn $h(self) -> Self {
                $f(self)
            }
        )*
        #[cfg(not(feature = "std-math"))]
        #[inline(always)]
        fn math_sin_cos(self) -> (Self, Self) {
            $sin_cos(self)
        }
        #[cfg(not(feature = "std-math"))]
        #[inline(always)]
        fn math_atan2(self, other: Self) -> Self {
            $atan2(self, other)
        }
        #[cfg(not(feature = "std-math"))]
        #[inline(always)]
        fn math_powf(self, other: Self) -> Self {
            $powf(self, other)
        }
    };
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
    Scalar
    + Add<F, Output = Self>
    + Sub<F, Output = Self>
    + Mul<F, Output = Self>
    + Div<F, Output = Self>
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
    math_hooks!(math_exp => math::exp, math_exp_m1 => math::exp_m1, math_ln => math::ln,
        math_ln_1p => math::ln_1p, math_sin => rule_trig::sin, math_cos => rule_trig::cos,
        math_tan => rule_trig::tan, math_tanh => math::tanh, math_sinh => math::sinh,
        math_cosh => math::cosh, math_atan => math::atan, math_asin => math::asin,
        math_acos => math::acos, math_cbrt => math::cbrt;
        rule_trig::sin_cos, math::atan2, math::powf);
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
    math_hooks!(math_exp => math::exp_f32, math_exp_m1 => math::exp_m1_f32,
        math_ln => math::ln_f32, math_ln_1p => math::ln_1p_f32, math_sin => rule_trig::sin_f32,
        math_cos => rule_trig::cos_f32, math_tan => rule_trig::tan_f32, math_tanh => math::tanh_f32,
        math_sinh => math::sinh_f32, math_cosh => math::cosh_f32, math_atan => math::atan_f32,
        math_asin => math::asin_f32, math_acos => math::acos_f32, math_cbrt => math::cbrt_f32;
        rule_trig::sin_cos_f32, math::atan2_f32, math::powf_f32);
}

impl Real<f64> for f64 {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        rule.eval(x)
    }
}

impl Real<f32> for f32 {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let wide: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        rule.eval(&wide).into_iter().map(|v| v as f32).collect()
    }
}
