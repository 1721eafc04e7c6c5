//! The one table of primitive rules.
//!
//! Every primitive has its value and derivative written **once** here, generic over
//! [`Scalar`]. `Dual`, `DualVec`, `Var` and the IR tracer all instantiate the same functions,
//! so a wrong derivative is wrong everywhere and the cross-mode property tests catch it.
//!
//! A rule returns the value together with the partial derivatives at the point, e.g.
//! `Unary::Sin.rule(x) == (x.sin(), x.cos())`. The number types then combine the partials with
//! their tangents (forward) or adjoints (reverse).
//!
//! # Conventions at non-smooth points
//! | primitive | convention |
//! |---|---|
//! | `abs` | `abs'(0) = 0` (and `±0` alike); `abs'(NaN) = NaN` |
//! | `min`, `max` | the first argument wins ties: `max(x, x)` has `∂x = 1, ∂y = 0`; a NaN argument is ignored as by `f64::max`, and the other one gets the derivative |
//! | `sqrt` | `sqrt'(0) = +inf` (and `±0` alike) |
//! | `cbrt` | `cbrt'(0) = +inf` |
//! | `powf(x, y)` | `∂y = 0` where `x^y = 0` or `x ≤ 0` (so `0^y` has a finite `∂y`, and a constant exponent of a negative base adds no NaN in forward mode); `∂x = y·x^(y-1)`, and `0` at `0^0` |
//! | `powi(x, 0)` | derivative `0` everywhere |
//! | `atan2(0, 0)`, `hypot(0, 0)` | both partials `0` |
//! | `floor`, `ceil`, `round`, `trunc`, `signum` | derivative `0` (the result is a constant) |
//! | `rem(x, y)` | `∂x = 1`, `∂y = -trunc(x / y)` |
//! | `copysign(x, y)` | `∂x = ±1` (the sign flip), `∂y = 0` |
//!
//! Invariant: `rule(x).0 == value(x)` bit for bit, so a mode never changes primal results.

use crate::real::Scalar;

/// A one-argument primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `-x`
    Neg,
    /// `1/x`
    Recip,
    /// `√x`
    Sqrt,
    /// `∛x`
    Cbrt,
    /// `eˣ`
    Exp,
    /// `2ˣ`
    Exp2,
    /// `eˣ - 1`
    ExpM1,
    /// `ln x`
    Ln,
    /// `log₂ x`
    Log2,
    /// `log₁₀ x`
    Log10,
    /// `ln(1 + x)`
    Ln1p,
    /// `sin x`
    Sin,
    /// `cos x`
    Cos,
    /// `tan x`
    Tan,
    /// `asin x`
    Asin,
    /// `acos x`
    Acos,
    /// `atan x`
    Atan,
    /// `sinh x`
    Sinh,
    /// `cosh x`
    Cosh,
    /// `tanh x`
    Tanh,
    /// `asinh x`
    Asinh,
    /// `acosh x`
    Acosh,
    /// `atanh x`
    Atanh,
    /// `|x|`
    Abs,
    /// `xⁿ` for an integer `n`
    Powi(i32),
}

/// A two-argument primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `x + y`
    Add,
    /// `x - y`
    Sub,
    /// `x * y`
    Mul,
    /// `x / y`
    Div,
    /// `x % y` (truncated remainder, as Rust's `%`)
    Rem,
    /// `xʸ`
    Powf,
    /// `atan2(x, y)`: the angle of the point `(y, x)`, as `f64::atan2`
    Atan2,
    /// `√(x² + y²)`
    Hypot,
    /// `min(x, y)`
    Min,
    /// `max(x, y)`
    Max,
}

/// A piecewise-constant function: its derivative is zero wherever it exists, so forward and
/// reverse mode treat its result as a constant (instrumented tapes still record it, so that a
/// replay recomputes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `⌊x⌋`
    Floor,
    /// `⌈x⌉`
    Ceil,
    /// Round half away from zero.
    Round,
    /// Round toward zero.
    Trunc,
    /// `±1` (or NaN), as `f64::signum`.
    Signum,
}

impl Step {
    /// Every step function.
    pub const ALL: [Step; 5] = [
        Step::Floor,
        Step::Ceil,
        Step::Round,
        Step::Trunc,
        Step::Signum,
    ];

    /// The name used in printed tapes, IR and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Step::Floor => "floor",
            Step::Ceil => "ceil",
            Step::Round => "round",
            Step::Trunc => "trunc",
            Step::Signum => "signum",
        }
    }

    /// The value.
    #[inline(always)]
    pub fn value<T: Scalar>(self, x: T) -> T {
        match self {
            Step::Floor => x.floor(),
            Step::Ceil => x.ceil(),
            Step::Round => x.round(),
            Step::Trunc => x.trunc(),
            Step::Signum => x.signum(),
        }
    }
}

/// A three-argument primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ternary {
    /// `a * b + c` with one rounding
    MulAdd,
}

impl Unary {
    /// Every unary primitive, with `Powi` at a few representative exponents (for tests and tools).
    pub const ALL: [Unary; 28] = [
        Unary::Neg,
        Unary::Recip,
        Unary::Sqrt,
        Unary::Cbrt,
        Unary::Exp,
        Unary::Exp2,
        Unary::ExpM1,
        Unary::Ln,
        Unary::Log2,
        Unary::Log10,
        Unary::Ln1p,
        Unary::Sin,
        Unary::Cos,
        Unary::Tan,
        Unary::Asin,
        Unary::Acos,
        Unary::Atan,
        Unary::Sinh,
        Unary::Cosh,
        Unary::Tanh,
        Unary::Asinh,
        Unary::Acosh,
        Unary::Atanh,
        Unary::Abs,
        Unary::Powi(0),
        Unary::Powi(2),
        Unary::Powi(3),
        Unary::Powi(-2),
    ];

    /// The name used in printed tapes, IR and error messages (`sin`, `powi`, …).
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Recip => "recip",
            Unary::Sqrt => "sqrt",
            Unary::Cbrt => "cbrt",
            Unary::Exp => "exp",
            Unary::Exp2 => "exp2",
            Unary::ExpM1 => "exp_m1",
            Unary::Ln => "ln",
            Unary::Log2 => "log2",
            Unary::Log10 => "log10",
            Unary::Ln1p => "ln_1p",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tan => "tan",
            Unary::Asin => "asin",
            Unary::Acos => "acos",
            Unary::Atan => "atan",
            Unary::Sinh => "sinh",
            Unary::Cosh => "cosh",
            Unary::Tanh => "tanh",
            Unary::Asinh => "asinh",
            Unary::Acosh => "acosh",
            Unary::Atanh => "atanh",
            Unary::Abs => "abs",
            Unary::Powi(_) => "powi",
        }
    }

    /// The open interval on which the primitive is smooth (used by tests to sample points).
    pub fn smooth_domain(self) -> (f64, f64) {
        match self {
            Unary::Sqrt | Unary::Ln | Unary::Log2 | Unary::Log10 => (0.0, f64::INFINITY),
            Unary::Ln1p => (-1.0, f64::INFINITY),
            Unary::Asin | Unary::Acos | Unary::Atanh => (-1.0, 1.0),
            Unary::Acosh => (1.0, f64::INFINITY),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    /// The primal value only.
    #[inline(always)]
    pub fn value<T: Scalar>(self, x: T) -> T {
        match self {
            Unary::Neg => -x,
            Unary::Recip => x.recip(),
            Unary::Sqrt => x.sqrt(),
            Unary::Cbrt => x.math_cbrt(),
            Unary::Exp => x.math_exp(),
            Unary::Exp2 => x.exp2(),
            Unary::ExpM1 => x.math_exp_m1(),
            Unary::Ln => x.math_ln(),
            Unary::Log2 => x.log2(),
            Unary::Log10 => x.log10(),
            Unary::Ln1p => x.math_ln_1p(),
            Unary::Sin => x.math_sin(),
            Unary::Cos => x.math_cos(),
            Unary::Tan => x.math_tan(),
            Unary::Asin => x.math_asin(),
            Unary::Acos => x.math_acos(),
            Unary::Atan => x.math_atan(),
            Unary::Sinh => x.math_sinh(),
            Unary::Cosh => x.math_cosh(),
            Unary::Tanh => x.math_tanh(),
            Unary::Asinh => x.asinh(),
            Unary::Acosh => x.acosh(),
            Unary::Atanh => x.atanh(),
            Unary::Abs => x.abs(),
            Unary::Powi(n) => x.powi(n),
        }
    }

    /// The value and the derivative at `x`.
    #[inline(always)]
    pub fn rule<T: Scalar>(self, x: T) -> (T, T) {
        let one = T::one();
        match self {
            Unary::Neg => (-x, -one),
            Unary::Recip => {
                let r = x.recip();
                (r, -(r * r))
            }
            Unary::Sqrt => {
                let s = x.sqrt();
                // abs: sqrt(-0) = -0, and the convention is sqrt'(±0) = +inf.
                (s, (s + s).abs().recip())
            }
            Unary::Cbrt => {
                let c = x.math_cbrt();
                (c, (T::lit(3.0) * c * c).recip())
            }
            Unary::Exp => {
                let e = x.math_exp();
                (e, e)
            }
            Unary::Exp2 => {
                let e = x.exp2();
                (e, e * T::LN_2())
            }
            Unary::ExpM1 => {
                let e = x.math_exp_m1();
                (e, e + one)
            }
            Unary::Ln => (x.math_ln(), x.recip()),
            Unary::Log2 => (x.log2(), (x * T::LN_2()).recip()),
            Unary::Log10 => (x.log10(), (x * T::LN_10()).recip()),
            Unary::Ln1p => (x.math_ln_1p(), (x + one).recip()),
            Unary::Sin => x.math_sin_cos(),
            Unary::Cos => {
                let (s, c) = x.math_sin_cos();
                (c, -s)
            }
            Unary::Tan => {
                let t = x.math_tan();
                (t, t * t + one)
            }
            Unary::Asin => (x.math_asin(), (one - x * x).sqrt().recip()),
            Unary::Acos => (x.math_acos(), -(one - x * x).sqrt().recip()),
            Unary::Atan => (x.math_atan(), (x * x + one).recip()),
            Unary::Sinh => (x.math_sinh(), x.math_cosh()),
            Unary::Cosh => (x.math_cosh(), x.math_sinh()),
            Unary::Tanh => {
                let t = x.math_tanh();
                (t, one - t * t)
            }
            // hypot and the split sqrt avoid overflow of x² for |x| > 1e154.
            Unary::Asinh => (x.asinh(), x.hypot(one).recip()),
            Unary::Acosh => (x.acosh(), ((x - one).sqrt() * (x + one).sqrt()).recip()),
            Unary::Atanh => (x.atanh(), (one - x * x).recip()),
            Unary::Abs => {
                let d = if x > T::zero() {
                    one
                } else if x < T::zero() {
                    -one
                } else if x.is_nan() {
                    x
                } else {
                    T::zero()
                };
                (x.abs(), d)
            }
            Unary::Powi(n) => match n {
                0 => (one, T::zero()),
                1 => (x, one),
                2 => (x * x, x + x),
                // (x·x)·x is what `powi(3)` computes by repeated squaring, to the bit, without
                // the libcall (a cube is the common case: it is R's `tanh(x)³`)
                3 => {
                    let x2 = x * x;
                    (x2 * x, x2 * T::lit(3.0))
                }
                _ => (x.powi(n), x.powi(n - 1) * T::lit(n as f64)),
            },
        }
    }
}

impl Binary {
    /// Every binary primitive (for tests and tools).
    pub const ALL: [Binary; 10] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Rem,
        Binary::Powf,
        Binary::Atan2,
        Binary::Hypot,
        Binary::Min,
        Binary::Max,
    ];

    /// The name used in printed tapes, IR and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Rem => "rem",
            Binary::Powf => "powf",
            Binary::Atan2 => "atan2",
            Binary::Hypot => "hypot",
            Binary::Min => "min",
            Binary::Max => "max",
        }
    }

    /// The primal value only.
    #[inline(always)]
    pub fn value<T: Scalar>(self, x: T, y: T) -> T {
        match self {
            Binary::Add => x + y,
            Binary::Sub => x - y,
            Binary::Mul => x * y,
            Binary::Div => x / y,
            Binary::Rem => x % y,
            Binary::Powf => x.math_powf(y),
            Binary::Atan2 => x.math_atan2(y),
            Binary::Hypot => x.hypot(y),
            Binary::Min => x.min(y),
            Binary::Max => x.max(y),
        }
    }

    /// The value and the partial derivatives `(f, ∂f/∂x, ∂f/∂y)` at `(x, y)`.
    #[inline(always)]
    pub fn rule<T: Scalar>(self, x: T, y: T) -> (T, T, T) {
        let (zero, one) = (T::zero(), T::one());
        match self {
            Binary::Add => (x + y, one, one),
            Binary::Sub => (x - y, one, -one),
            Binary::Mul => (x * y, y, x),
            Binary::Div => {
                let r = y.recip();
                let v = x / y;
                (v, r, -(v * r))
            }
            Binary::Rem => (x % y, one, -(x / y).trunc()),
            Binary::Powf => {
                let v = x.math_powf(y);
                let dx = if y == zero && x == zero {
                    zero
                } else {
                    y * x.math_powf(y - one)
                };
                let dy = if v == zero || x <= zero {
                    zero
                } else {
                    v * x.math_ln()
                };
                (v, dx, dy)
            }
            Binary::Atan2 => {
                // Through hypot: x² + y² under- or overflows long before the partials do.
                let h = x.hypot(y);
                if h == zero {
                    (x.math_atan2(y), zero, zero)
                } else {
                    (x.math_atan2(y), y / h / h, -(x / h / h))
                }
            }
            Binary::Hypot => {
                let h = x.hypot(y);
                if h == zero {
                    (h, zero, zero)
                } else {
                    (h, x / h, y / h)
                }
            }
            Binary::Min => {
                if x <= y || y.is_nan() {
                    (x, one, zero)
                } else {
                    (y, zero, one)
                }
            }
            Binary::Max => {
                if x >= y || y.is_nan() {
                    (x, one, zero)
                } else {
                    (y, zero, one)
                }
            }
        }
    }
}

impl Ternary {
    /// The name used in printed tapes, IR and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Ternary::MulAdd => "mul_add",
        }
    }

    /// The primal value only.
    #[inline(always)]
    pub fn value<T: Scalar>(self, a: T, b: T, c: T) -> T {
        match self {
            Ternary::MulAdd => a.mul_add(b, c),
        }
    }

    /// The value and the partials `(f, ∂f/∂a, ∂f/∂b, ∂f/∂c)`.
    #[inline(always)]
    pub fn rule<T: Scalar>(self, a: T, b: T, c: T) -> (T, T, T, T) {
        match self {
            Ternary::MulAdd => (a.mul_add(b, c), b, a, T::one()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_value_matches_value_bit_for_bit() {
        for op in Unary::ALL {
            for x in [-3.7f64, -1.0, -0.5, 0.0, 0.25, 0.9, 1.0, 2.5, 40.0] {
                let a = op.value(x);
                let (b, _) = op.rule(x);
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{op:?} at {x}"
                );
            }
        }
        for op in Binary::ALL {
            for (x, y) in [(1.5f64, -2.0f64), (0.0, 0.0), (3.0, 3.0), (-0.5, 0.25)] {
                let a = op.value(x, y);
                let (b, _, _) = op.rule(x, y);
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{op:?}"
                );
            }
        }
    }

    #[test]
    fn non_smooth_conventions() {
        assert_eq!(Unary::Abs.rule(0.0).1, 0.0);
        assert_eq!(Unary::Abs.rule(-0.0).1, 0.0);
        assert!(Unary::Abs.rule(f64::NAN).1.is_nan());
        assert_eq!(Unary::Sqrt.rule(0.0).1, f64::INFINITY);
        assert_eq!(Binary::Max.rule(2.0, 2.0), (2.0, 1.0, 0.0));
        assert_eq!(Binary::Min.rule(2.0, 2.0), (2.0, 1.0, 0.0));
        assert_eq!(Binary::Max.rule(f64::NAN, 1.0), (1.0, 0.0, 1.0));
        assert_eq!(Binary::Max.rule(1.0, f64::NAN), (1.0, 1.0, 0.0));
        assert_eq!(Binary::Atan2.rule(0.0, 0.0).1, 0.0);
        assert_eq!(Binary::Hypot.rule(0.0, 0.0), (0.0, 0.0, 0.0));
        assert_eq!(Binary::Powf.rule(0.0, 2.0), (0.0, 0.0, 0.0));
        assert_eq!(Unary::Powi(0).rule(0.0), (1.0, 0.0));
    }
}
