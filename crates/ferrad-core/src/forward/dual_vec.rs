//! `DualVec<T, N>`: a value and `N` tangents (ForwardDiff's chunk mode).

use core::cmp::Ordering;
use core::fmt;

use crate::custom::CustomRule;
use crate::lift::Lift;
use crate::real::{Real, Scalar};
use crate::rules::{Binary, Ternary, Unary};

/// A value with `N` tangents: one forward pass gives `N` directional derivatives.
///
/// The tangents are a plain `[T; N]`, so for `T = f64` each primitive is one rule evaluation
/// followed by a loop over the array that LLVM turns into SIMD.
///
/// ```
/// use ferrad_core::prelude::*;
/// let x = DualVec::<f64, 2>::variable(3.0, 0);
/// let y = DualVec::<f64, 2>::variable(4.0, 1);
/// let r = (x * x + y * y).sqrt();
/// assert_eq!(r.re, 5.0);
/// assert!((r.eps[0] - 0.6).abs() < 1e-15 && (r.eps[1] - 0.8).abs() < 1e-15);
/// ```
#[derive(Clone, Copy)]
pub struct DualVec<T, const N: usize> {
    /// The primal value.
    pub re: T,
    /// The `N` tangents.
    pub eps: [T; N],
}

impl<T: Scalar, const N: usize> DualVec<T, N> {
    /// A value with the given tangents.
    #[inline(always)]
    pub fn new(re: T, eps: [T; N]) -> Self {
        DualVec { re, eps }
    }
    /// The `i`-th independent variable: tangent `eᵢ`.
    ///
    /// # Panics
    /// If `i >= N`.
    #[inline(always)]
    pub fn variable(re: T, i: usize) -> Self {
        assert!(
            i < N,
            "tangent index {i} out of range for DualVec with N = {N}"
        );
        let mut eps = [T::zero(); N];
        eps[i] = T::one();
        DualVec { re, eps }
    }
    /// A constant: all tangents zero.
    #[inline(always)]
    pub fn constant(re: T) -> Self {
        DualVec {
            re,
            eps: [T::zero(); N],
        }
    }
}

impl<T: Scalar, const N: usize> Default for DualVec<T, N> {
    fn default() -> Self {
        DualVec::constant(T::default())
    }
}

impl<T: Scalar, const N: usize> Lift for DualVec<T, N> {
    type Inner = T;
    #[inline(always)]
    fn re(&self) -> T {
        self.re
    }
    #[inline(always)]
    fn from_inner(v: T) -> Self {
        DualVec::constant(v)
    }
    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        if op == Unary::Neg {
            return DualVec {
                re: -self.re,
                eps: scaled(self.eps, |e| -e),
            };
        }
        let (v, d) = op.rule(self.re);
        DualVec {
            re: v,
            eps: scaled(self.eps, |e| d * e),
        }
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        let mut eps = self.eps;
        // The linear primitives move tangents without the unit partials: for nested `T` a
        // product by `one` is a whole `T` multiplication per tangent (and `inf·0` in it could
        // turn a tangent into NaN); for `f64` it is the same bits either way.
        let v = match op {
            Binary::Add => {
                for (e, r) in eps.iter_mut().zip(&rhs.eps) {
                    *e += *r;
                }
                self.re + rhs.re
            }
            Binary::Sub => {
                for (e, r) in eps.iter_mut().zip(&rhs.eps) {
                    *e -= *r;
                }
                self.re - rhs.re
            }
            _ => {
                let (v, dx, dy) = op.rule(self.re, rhs.re);
                for (e, r) in eps.iter_mut().zip(&rhs.eps) {
                    *e = dx * *e + dy * *r;
                }
                v
            }
        };
        DualVec { re: v, eps }
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        let (v, da, db, dc) = op.rule(self.re, b.re, c.re);
        let mut eps = self.eps;
        for ((e, bi), ci) in eps.iter_mut().zip(b.eps).zip(c.eps) {
            *e = da * *e + db * bi + dc * ci;
        }
        DualVec { re: v, eps }
    }
    #[inline(always)]
    fn add_const(self, c: T) -> Self {
        DualVec {
            re: self.re + c,
            eps: self.eps,
        }
    }
    #[inline(always)]
    fn mul_const(self, c: T) -> Self {
        DualVec {
            re: self.re * c,
            eps: scaled(self.eps, |e| e * c),
        }
    }
    #[inline(always)]
    fn div_const(self, c: T) -> Self {
        DualVec {
            re: self.re / c,
            eps: scaled(self.eps, |e| e / c),
        }
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.math_sin_cos();
        let sin = DualVec {
            re: s,
            eps: scaled(self.eps, |e| c * e),
        };
        let cos = DualVec {
            re: c,
            eps: scaled(self.eps, |e| -s * e),
        };
        (sin, cos)
    }
}

/// `f` applied to every tangent, in place: `[T; N]::map` goes through closures LLVM does not
/// always inline for a large nested `T` (then every call copies the array).
#[inline(always)]
fn scaled<T: Copy, const N: usize>(mut eps: [T; N], f: impl Fn(T) -> T) -> [T; N] {
    for e in &mut eps {
        *e = f(*e);
    }
    eps
}

crate::impl_scalar_via_lift!([T: Scalar, const N: usize] DualVec<T, N>);

impl<T: Scalar, const N: usize> PartialEq for DualVec<T, N> {
    /// Compares primal values only, as control flow in the primal program would.
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<T: Scalar, const N: usize> PartialOrd for DualVec<T, N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<T: Scalar, const N: usize> fmt::Debug for DualVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε", self.re, self.eps)
    }
}

impl<T: Real<f64>, const N: usize> Real<f64> for DualVec<T, N> {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|d| d.re).collect();
        let y = T::apply_custom(rule, &re);
        let mut out: Vec<Self> = y.iter().map(|&v| DualVec::constant(v)).collect();
        for k in 0..N {
            let dk: Vec<T> = x.iter().map(|d| d.eps[k]).collect();
            let jk = crate::custom::jvp_checked(rule, &re, &dk, y.len());
            for (o, j) in out.iter_mut().zip(jk) {
                o.eps[k] = j;
            }
        }
        out
    }
}

impl<T: Real<f32>, const N: usize> Real<f32> for DualVec<T, N> {
    /// First order in single precision, as for [`crate::Dual`].
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|d| d.re).collect();
        let xv: Vec<f64> = x.iter().map(|d| d.re.primal()).collect();
        let y = T::apply_custom(rule, &re);
        let mut out: Vec<Self> = y.iter().map(|&v| DualVec::constant(v)).collect();
        for k in 0..N {
            let dk: Vec<f64> = x.iter().map(|d| d.eps[k].primal()).collect();
            let jk = crate::custom::jvp_checked(rule, &xv, &dk, y.len());
            for (o, j) in out.iter_mut().zip(jk) {
                o.eps[k] = T::lit(j);
            }
        }
        out
    }
}
