//! `Dual<T>`: a value and one tangent (forward mode, one direction per pass).

use core::cmp::Ordering;
use core::fmt;

use crate::custom::CustomRule;
use crate::lift::Lift;
use crate::real::{Real, Scalar};
use crate::rules::{Binary, Ternary, Unary};

/// A dual number `re + eps·ε` with `ε² = 0`: the value and the derivative along one direction.
///
/// Nest it for higher order: `Dual<Dual<f64>>` carries second derivatives.
///
/// ```
/// use ferrad_core::prelude::*;
/// let x = Dual::variable(2.0_f64);
/// let y = x * x.sin();
/// assert_eq!(y.re, 2.0 * 2.0_f64.sin());
/// assert!((y.eps - (2.0_f64.sin() + 2.0 * 2.0_f64.cos())).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Default)]
pub struct Dual<T> {
    /// The primal value.
    pub re: T,
    /// The tangent (directional derivative).
    pub eps: T,
}

impl<T: Scalar> Dual<T> {
    /// A dual number with value `re` and tangent `eps`.
    #[inline(always)]
    pub fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }
    /// An independent variable: tangent one.
    #[inline(always)]
    pub fn variable(re: T) -> Self {
        Dual { re, eps: T::one() }
    }
    /// A constant: tangent zero.
    #[inline(always)]
    pub fn constant(re: T) -> Self {
        Dual { re, eps: T::zero() }
    }
}

impl<T: Scalar> Lift for Dual<T> {
    type Inner = T;
    #[inline(always)]
    fn re(&self) -> T {
        self.re
    }
    #[inline(always)]
    fn from_inner(v: T) -> Self {
        Dual::constant(v)
    }
    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        if op == Unary::Neg {
            return Dual::new(-self.re, -self.eps);
        }
        let (v, d) = op.rule(self.re);
        Dual {
            re: v,
            eps: d * self.eps,
        }
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        // Linear primitives skip the unit partials (see `DualVec::binary`).
        match op {
            Binary::Add => Dual::new(self.re + rhs.re, self.eps + rhs.eps),
            Binary::Sub => Dual::new(self.re - rhs.re, self.eps - rhs.eps),
            _ => {
                let (v, dx, dy) = op.rule(self.re, rhs.re);
                Dual {
                    re: v,
                    eps: dx * self.eps + dy * rhs.eps,
                }
            }
        }
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        let (v, da, db, dc) = op.rule(self.re, b.re, c.re);
        Dual {
            re: v,
            eps: da * self.eps + db * b.eps + dc * c.eps,
        }
    }
    #[inline(always)]
    fn add_const(self, c: T) -> Self {
        Dual {
            re: self.re + c,
            eps: self.eps,
        }
    }
    #[inline(always)]
    fn mul_const(self, c: T) -> Self {
        Dual {
            re: self.re * c,
            eps: self.eps * c,
        }
    }
    #[inline(always)]
    fn div_const(self, c: T) -> Self {
        Dual {
            re: self.re / c,
            eps: self.eps / c,
        }
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.math_sin_cos();
        (Dual::new(s, c * self.eps), Dual::new(c, -s * self.eps))
    }
}

crate::impl_scalar_via_lift!([T: Scalar] Dual<T>);

impl<T: Scalar> PartialEq for Dual<T> {
    /// Compares primal values only, as control flow in the primal program would.
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<T: Scalar> PartialOrd for Dual<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: Scalar> fmt::Debug for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε", self.re, self.eps)
    }
}

impl<T: Scalar + fmt::Display> fmt::Display for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {}ε", self.re, self.eps)
    }
}

impl<T: Real<f64>> Real<f64> for Dual<T> {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let (re, eps): (Vec<T>, Vec<T>) = x.iter().map(|d| (d.re, d.eps)).unzip();
        let y = T::apply_custom(rule, &re);
        let dy = crate::custom::jvp_checked(rule, &re, &eps, y.len());
        y.into_iter()
            .zip(dy)
            .map(|(re, eps)| Dual { re, eps })
            .collect()
    }
}

impl<T: Real<f32>> Real<f32> for Dual<T> {
    /// In single precision a custom rule is differentiated to first order: its `jvp` runs in
    /// `f64` on the primal values (custom rules are written against `Real<f64>`).
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|d| d.re).collect();
        let xv: Vec<f64> = x.iter().map(|d| d.re.primal()).collect();
        let dv: Vec<f64> = x.iter().map(|d| d.eps.primal()).collect();
        let y = T::apply_custom(rule, &re);
        let dy = crate::custom::jvp_checked(rule, &xv, &dv, y.len());
        y.into_iter()
            .zip(dy)
            .map(|(re, e)| Dual { re, eps: T::lit(e) })
            .collect()
    }
}
