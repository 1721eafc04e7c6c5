//! The one interception point: how a number type applies a primitive of the rule table.
//!
//! A number type implements [`Lift`] (a handful of methods: apply a unary, binary or ternary
//! primitive, and build a constant). [`impl_scalar_via_lift!`](crate::impl_scalar_via_lift)
//! then derives everything else — the operators, `num_traits::Float` with its sixty methods,
//! `FloatConst`, mixed arithmetic with `f64`/`f32` — from those few methods. Recording, printing,
//! NaN checks and custom rules therefore hook in exactly one place per type.

use crate::real::Scalar;
use crate::rules::{Binary, Step, Ternary, Unary};

/// How a number type applies the primitives of [`crate::rules`].
///
/// `Inner` is the type of the primal value (`f64` for `Dual<f64>`, `Dual<f64>` for
/// `Var<Dual<f64>>`): rules are evaluated on it, and the type combines the partials with its
/// own derivative part.
pub trait Lift: Copy {
    /// The type the primal value is stored in.
    type Inner: Scalar;
    /// The primal value.
    fn re(&self) -> Self::Inner;
    /// A constant with value `v` and no derivative.
    fn from_inner(v: Self::Inner) -> Self;
    /// `op(self)`.
    fn unary(self, op: Unary) -> Self;
    /// `op(self, rhs)`.
    fn binary(self, op: Binary, rhs: Self) -> Self;
    /// `op(self, b, c)`.
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self;
    /// A piecewise-constant function of `self`: a constant by default.
    #[inline(always)]
    fn step(self, op: Step) -> Self {
        Self::from_inner(op.value(self.re()))
    }
    /// `self + c` for a constant `c` (types may skip the rule's unit partial).
    #[inline(always)]
    fn add_const(self, c: Self::Inner) -> Self {
        self.binary(Binary::Add, Self::from_inner(c))
    }
    /// `self * c` for a constant `c`.
    #[inline(always)]
    fn mul_const(self, c: Self::Inner) -> Self {
        self.binary(Binary::Mul, Self::from_inner(c))
    }
    /// `self / c` for a constant `c`.
    #[inline(always)]
    fn div_const(self, c: Self::Inner) -> Self {
        self.binary(Binary::Div, Self::from_inner(c))
    }
    /// `(sin self, cos self)`: two primitives by default; forward types share one
    /// `sin_cos` of their primal (the rule table computes both from it anyway).
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        (self.unary(Unary::Sin), self.unary(Unary::Cos))
    }
}

/// Derives the arithmetic operators, `Sum`, `Product`, `num_traits::{Zero, One, Num, NumCast,
/// ToPrimitive, Float, FloatConst}`, `Scalar` and mixed arithmetic with `f64` and `f32` for a
/// type that implements [`Lift`], `PartialEq`, `PartialOrd`, `Debug` and `Default`.
///
/// Usage: `impl_scalar_via_lift!([T: Scalar] Dual<T>);` — generics in brackets, then the type.
/// A concrete type names the base floats it mixes with: `impl_scalar_via_lift!([] Checked; f64);`.
#[macro_export]
macro_rules! impl_scalar_via_lift {
    ([$($gen:tt)*] $ty:ty) => {
        $crate::impl_scalar_via_lift!([$($gen)*] $ty; f64, f32);
    };
    ([$($gen:tt)*] $ty:ty; $($base:ty),+) => {
        $crate::impl_scalar_via_lift!(@ops [$($gen)*] $ty, Add add AddAssign add_assign Binary::Add);
        $crate::impl_scalar_via_lift!(@ops [$($gen)*] $ty, Sub sub SubAssign sub_assign Binary::Sub);
        $crate::impl_scalar_via_lift!(@ops [$($gen)*] $ty, Mul mul MulAssign mul_assign Binary::Mul);
        $crate::impl_scalar_via_lift!(@ops [$($gen)*] $ty, Div div DivAssign div_assign Binary::Div);
        $crate::impl_scalar_via_lift!(@ops [$($gen)*] $ty, Rem rem RemAssign rem_assign Binary::Rem);
        $crate::impl_scalar_via_lift!(@bases [$($gen)*] $ty; $($base),+);

        impl<$($gen)*> ::core::ops::Neg for $ty {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                $crate::lift::Lift::unary(self, $crate::rules::Unary::Neg)
            }
        }

        impl<$($gen)*> ::core::iter::Sum for $ty {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as ::num_traits::Zero>::zero(), |a, b| a + b)
            }
        }

        impl<'a, $($gen)*> ::core::iter::Sum<&'a $ty> for $ty {
            fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.fold(<Self as ::num_traits::Zero>::zero(), |a, b| a + *b)
            }
        }

        impl<$($gen)*> ::core::iter::Product for $ty {
            fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as ::num_traits::One>::one(), |a, b| a * b)
            }
        }

        impl<$($gen)*> ::num_traits::Zero for $ty {
            #[inline(always)]
            fn zero() -> Self {
                <Self as $crate::lift::Lift>::from_inner(::num_traits::Zero::zero())
            }
            #[inline(always)]
            fn is_zero(&self) -> bool {
                ::num_traits::Zero::is_zero(&$crate::lift::Lift::re(self))
            }
        }

        impl<$($gen)*> ::num_traits::One for $ty {
            #[inline(always)]
            fn one() -> Self {
                <Self as $crate::lift::Lift>::from_inner(::num_traits::One::one())
            }
        }

        impl<$($gen)*> ::num_traits::Num for $ty {
            type FromStrRadixErr = <f64 as ::num_traits::Num>::FromStrRadixErr;
            fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <f64 as ::num_traits::Num>::from_str_radix(s, radix)
                    .map(<Self as $crate::real::Scalar>::lit)
            }
        }

        impl<$($gen)*> ::num_traits::ToPrimitive for $ty {
            fn to_i64(&self) -> Option<i64> {
                ::num_traits::ToPrimitive::to_i64(&$crate::real::Scalar::primal(self))
            }
            fn to_u64(&self) -> Option<u64> {
                ::num_traits::ToPrimitive::to_u64(&$crate::real::Scalar::primal(self))
            }
            fn to_f64(&self) -> Option<f64> {
                Some($crate::real::Scalar::primal(self))
            }
        }

        impl<$($gen)*> ::num_traits::NumCast for $ty {
            fn from<P: ::num_traits::ToPrimitive>(n: P) -> Option<Self> {
                n.to_f64().map(<Self as $crate::real::Scalar>::lit)
            }
        }

        impl<$($gen)*> $crate::real::Scalar for $ty {
            #[inline(always)]
            fn lit(v: f64) -> Self {
                <Self as $crate::lift::Lift>::from_inner($crate::real::Scalar::lit(v))
            }
            #[inline(always)]
            fn primal(&self) -> f64 {
                $crate::real::Scalar::primal(&$crate::lift::Lift::re(self))
            }
        }

        impl<$($gen)*> ::num_traits::FloatConst for $ty {
            $crate::impl_scalar_via_lift!(@consts E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI
                FRAC_PI_2 FRAC_PI_3 FRAC_PI_4 FRAC_PI_6 FRAC_PI_8 LN_10 LN_2 LOG10_E LOG2_E PI
                SQRT_2 TAU LOG10_2 LOG2_10);
        }

        impl<$($gen)*> ::num_traits::Float for $ty {
            $crate::impl_scalar_via_lift!(@constants nan infinity neg_infinity neg_zero min_value
                min_positive_value max_value epsilon);
            $crate::impl_scalar_via_lift!(@predicates is_nan is_infinite is_finite is_normal
                is_subnormal is_sign_positive is_sign_negative);
            $crate::impl_scalar_via_lift!(@step floor Floor, ceil Ceil, round Round, trunc Trunc,
                signum Signum);
            $crate::impl_scalar_via_lift!(@unary abs Abs, recip Recip, sqrt Sqrt, cbrt Cbrt,
                exp Exp, exp2 Exp2, exp_m1 ExpM1, ln Ln, log2 Log2, log10 Log10, ln_1p Ln1p,
                sin Sin, cos Cos, tan Tan, asin Asin, acos Acos, atan Atan, sinh Sinh, cosh Cosh,
                tanh Tanh, asinh Asinh, acosh Acosh, atanh Atanh);
            $crate::impl_scalar_via_lift!(@binary powf Powf, atan2 Atan2, hypot Hypot,
                max Max, min Min);

            fn classify(self) -> ::core::num::FpCategory {
                ::num_traits::Float::classify($crate::lift::Lift::re(&self))
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                ::num_traits::Float::integer_decode($crate::lift::Lift::re(&self))
            }
            #[inline(always)]
            fn fract(self) -> Self {
                // x - trunc(x): derivative 1 where smooth.
                self - ::num_traits::Float::trunc(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                $crate::lift::Lift::ternary(self, $crate::rules::Ternary::MulAdd, a, b)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                $crate::lift::Lift::unary(self, $crate::rules::Unary::Powi(n))
            }
            fn log(self, base: Self) -> Self {
                ::num_traits::Float::ln(self) / ::num_traits::Float::ln(base)
            }
            fn abs_sub(self, other: Self) -> Self {
                ::num_traits::Float::max(self - other, <Self as ::num_traits::Zero>::zero())
            }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) {
                $crate::lift::Lift::sin_cos(self)
            }
            fn to_degrees(self) -> Self {
                $crate::lift::Lift::mul_const(self, $crate::real::Scalar::lit(180.0 / ::core::f64::consts::PI))
            }
            fn to_radians(self) -> Self {
                $crate::lift::Lift::mul_const(self, $crate::real::Scalar::lit(::core::f64::consts::PI / 180.0))
            }
            fn copysign(self, sign: Self) -> Self {
                let a = $crate::lift::Lift::re(&self);
                let b = $crate::lift::Lift::re(&sign);
                if ::num_traits::Float::is_sign_negative(a) != ::num_traits::Float::is_sign_negative(b) {
                    -self
                } else {
                    self
                }
            }
        }
    };

    (@ops [$($gen:tt)*] $ty:ty, $tr:ident $m:ident $tra:ident $ma:ident $op:expr) => {
        impl<$($gen)*> ::core::ops::$tr for $ty {
            type Output = Self;
            #[inline(always)]
            fn $m(self, rhs: Self) -> Self {
                use $crate::rules::Binary;
                $crate::lift::Lift::binary(self, $op, rhs)
            }
        }
        impl<$($gen)*> ::core::ops::$tra for $ty {
            #[inline(always)]
            fn $ma(&mut self, rhs: Self) {
                *self = ::core::ops::$tr::$m(*self, rhs);
            }
        }
    };

    (@bases $g:tt $ty:ty; $($base:ty),+) => {
        $($crate::impl_scalar_via_lift!(@base $g $ty, $base);)+
    };

    // Arithmetic with the base float, both sides: `x * 2.0`, `2.0 * x`.
    (@base [$($gen:tt)*] $ty:ty, $f:ty) => {
        impl<$($gen)*> ::core::ops::Add<$f> for $ty
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Add<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = Self;
            #[inline(always)]
            fn add(self, rhs: $f) -> Self {
                $crate::lift::Lift::add_const(self, $crate::real::Scalar::lit(rhs as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Sub<$f> for $ty
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Sub<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = Self;
            #[inline(always)]
            fn sub(self, rhs: $f) -> Self {
                $crate::lift::Lift::add_const(self, $crate::real::Scalar::lit(-(rhs as f64)))
            }
        }
        impl<$($gen)*> ::core::ops::Mul<$f> for $ty
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Mul<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = Self;
            #[inline(always)]
            fn mul(self, rhs: $f) -> Self {
                $crate::lift::Lift::mul_const(self, $crate::real::Scalar::lit(rhs as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Div<$f> for $ty
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Div<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = Self;
            #[inline(always)]
            fn div(self, rhs: $f) -> Self {
                $crate::lift::Lift::div_const(self, $crate::real::Scalar::lit(rhs as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Add<$ty> for $f
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Add<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = $ty;
            #[inline(always)]
            fn add(self, rhs: $ty) -> $ty {
                $crate::lift::Lift::add_const(rhs, $crate::real::Scalar::lit(self as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Sub<$ty> for $f
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Sub<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = $ty;
            #[inline(always)]
            fn sub(self, rhs: $ty) -> $ty {
                $crate::lift::Lift::add_const(-rhs, $crate::real::Scalar::lit(self as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Mul<$ty> for $f
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Mul<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = $ty;
            #[inline(always)]
            fn mul(self, rhs: $ty) -> $ty {
                $crate::lift::Lift::mul_const(rhs, $crate::real::Scalar::lit(self as f64))
            }
        }
        impl<$($gen)*> ::core::ops::Div<$ty> for $f
        where <$ty as $crate::lift::Lift>::Inner: ::core::ops::Div<$f, Output = <$ty as $crate::lift::Lift>::Inner>
        {
            type Output = $ty;
            #[inline(always)]
            fn div(self, rhs: $ty) -> $ty {
                $crate::lift::Lift::binary(
                    <$ty as $crate::lift::Lift>::from_inner($crate::real::Scalar::lit(self as f64)),
                    $crate::rules::Binary::Div,
                    rhs,
                )
            }
        }
    };

    (@consts $($c:ident)*) => {
        $(
            #[inline(always)]
            fn $c() -> Self {
                <Self as $crate::lift::Lift>::from_inner(::num_traits::FloatConst::$c())
            }
        )*
    };

    (@constants $($c:ident)*) => {
        $(
            #[inline(always)]
            fn $c() -> Self {
                <Self as $crate::lift::Lift>::from_inner(::num_traits::Float::$c())
            }
        )*
    };

    (@predicates $($p:ident)*) => {
        $(
            #[inline(always)]
            fn $p(self) -> bool {
                ::num_traits::Float::$p($crate::lift::Lift::re(&self))
            }
        )*
    };

    (@step $($m:ident $op:ident),*) => {
        $(
            #[inline(always)]
            fn $m(self) -> Self {
                $crate::lift::Lift::step(self, $crate::rules::Step::$op)
            }
        )*
    };

    (@unary $($m:ident $op:ident),*) => {
        $(
            #[inline(always)]
            fn $m(self) -> Self {
                $crate::lift::Lift::unary(self, $crate::rules::Unary::$op)
            }
        )*
    };

    (@binary $($m:ident $op:ident),*) => {
        $(
            #[inline(always)]
            fn $m(self, other: Self) -> Self {
                $crate::lift::Lift::binary(self, $crate::rules::Binary::$op, other)
            }
        )*
    };
}
