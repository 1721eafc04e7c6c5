//! `Dual2Vec<N>`: a value, its gradient and its Hessian along `N` directions, in one forward
//! pass (what [`crate::hessian`] uses for `n ≤ 12`).

// Index loops mirror the math (h[i][j] over the upper triangle, j from i).
#![allow(clippy::needless_range_loop)]

use core::cmp::Ordering;
use core::fmt;

use crate::custom::CustomRule;
use crate::forward::{Dual, DualVec};
use crate::lift::Lift;
use crate::real::{Real, Scalar};
use crate::rules::{Binary, Ternary, Unary};

/// A second-order forward number: value `re`, gradient `g` and Hessian `h` along `N` seed
/// directions, propagated by the second-order chain rule.
///
/// It computes what `DualVec<DualVec<f64, N>, N>` computes, with about half the work: the
/// nested type carries the gradient twice (as the inner tangents of the value and as the
/// values of the outer tangents) and all `N²` second derivatives; here the gradient is carried
/// once and only the upper triangle `h[i][j]`, `j ≥ i`, of the symmetric Hessian is computed
/// (the entries below the diagonal are not maintained; read them through [`Dual2Vec::hess`]).
/// The second derivatives of each primitive come from the rule table evaluated on [`Dual`]
/// (or [`DualVec`] for two and three arguments), so they are the rule table's, as in every
/// other mode.
///
/// ```
/// use ferrad_core::prelude::*;
/// let x = Dual2Vec::<2>::variable(3.0, 0);
/// let y = Dual2Vec::<2>::variable(2.0, 1);
/// let f = x * x * y; // f = x²y
/// assert_eq!((f.re, f.g), (18.0, [12.0, 9.0]));
/// assert_eq!(f.hess(), [[4.0, 6.0], [6.0, 0.0]]);
/// ```
#[derive(Clone, Copy)]
pub struct Dual2Vec<const N: usize> {
    /// The value.
    pub re: f64,
    /// The gradient along the `N` directions.
    pub g: [f64; N],
    /// The Hessian's upper triangle: `h[i][j]` for `j ≥ i` (below the diagonal: unspecified).
    pub h: [[f64; N]; N],
}

impl<const N: usize> Dual2Vec<N> {
    /// A constant: gradient and Hessian zero.
    #[inline(always)]
    pub fn constant(re: f64) -> Self {
        Dual2Vec {
            re,
            g: [0.0; N],
            h: [[0.0; N]; N],
        }
    }
    /// The `i`-th independent variable: gradient `eᵢ`, Hessian zero.
    ///
    /// # Panics
    /// If `i >= N`.
    pub fn variable(re: f64, i: usize) -> Self {
        assert!(
            i < N,
            "direction index {i} out of range for Dual2Vec with N = {N}"
        );
        let mut d = Dual2Vec::constant(re);
        d.g[i] = 1.0;
        d
    }
    /// The full symmetric Hessian.
    pub fn hess(&self) -> [[f64; N]; N] {
        let mut h = self.h;
        for i in 0..N {
            for j in 0..i {
                h[i][j] = h[j][i];
            }
        }
        h
    }

    /// `f(self)` from `f`, `f'` and `f''` at `self.re`.
    #[inline(always)]
    fn chain1(self, f: f64, f1: f64, f2: f64) -> Self {
        let mut out = self;
        out.re = f;
        for i in 0..N {
            let gi = f2 * self.g[i];
            for j in i..N {
                out.h[i][j] = f1 * self.h[i][j] + gi * self.g[j];
            }
            out.g[i] = f1 * self.g[i];
        }
        out
    }

    /// `Σₚ fₚ·xₚ` with second partials `fpq` (symmetric, `K` arguments).
    #[inline(always)]
    fn chain<const K: usize>(x: [&Self; K], v: f64, f: [f64; K], fpq: [[f64; K]; K]) -> Self {
        let mut out = Dual2Vec::constant(v);
        for i in 0..N {
            // u_p = Σ_q f_pq·g^q_i: the second-order weights of row i
            let mut u = [0.0; K];
            for (p, up) in u.iter_mut().enumerate() {
                for q in 0..K {
                    *up += fpq[p][q] * x[q].g[i];
                }
            }
            for j in i..N {
                let mut s = 0.0;
                for p in 0..K {
                    s += f[p] * x[p].h[i][j] + u[p] * x[p].g[j];
                }
                out.h[i][j] = s;
            }
            let mut gi = 0.0;
            for p in 0..K {
                gi += f[p] * x[p].g[i];
            }
            out.g[i] = gi;
        }
        out
    }

    /// `self ± rhs` (`sign` = ±1).
    #[inline(always)]
    fn linear(self, rhs: Self, sign: f64, re: f64) -> Self {
        let mut out = self;
        out.re = re;
        for i in 0..N {
            out.g[i] = self.g[i] + sign * rhs.g[i];
            for j in i..N {
                out.h[i][j] = self.h[i][j] + sign * rhs.h[i][j];
            }
        }
        out
    }

    /// `f` applied to every part (the value, the gradient, the upper triangle): for the maps
    /// that are linear, `-x`, `x·c`, `x/c`.
    #[inline(always)]
    fn map(mut self, f: impl Fn(f64) -> f64) -> Self {
        self.re = f(self.re);
        for i in 0..N {
            self.g[i] = f(self.g[i]);
            for j in i..N {
                self.h[i][j] = f(self.h[i][j]);
            }
        }
        self
    }
}

impl<const N: usize> Default for Dual2Vec<N> {
    fn default() -> Self {
        Dual2Vec::constant(0.0)
    }
}

impl<const N: usize> Lift for Dual2Vec<N> {
    type Inner = f64;
    #[inline(always)]
    fn re(&self) -> f64 {
        self.re
    }
    #[inline(always)]
    fn from_inner(v: f64) -> Self {
        Dual2Vec::constant(v)
    }
    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        if op == Unary::Neg {
            return self.map(|v| -v);
        }
        // f and f' as the rule's value and partial; f'' as the partial's tangent
        let (v, d) = op.rule(Dual::variable(self.re));
        self.chain1(v.re, d.re, d.eps)
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        match op {
            Binary::Add => self.linear(rhs, 1.0, self.re + rhs.re),
            Binary::Sub => self.linear(rhs, -1.0, self.re - rhs.re),
            Binary::Mul => {
                let (a, b) = (self, rhs);
                let mut out = Dual2Vec::constant(a.re * b.re);
                for i in 0..N {
                    for j in i..N {
                        out.h[i][j] = b.re * a.h[i][j]
                            + a.re * b.h[i][j]
                            + (a.g[i] * b.g[j] + b.g[i] * a.g[j]);
                    }
                    out.g[i] = b.re * a.g[i] + a.re * b.g[i];
                }
                out
            }
            _ => {
                let x = DualVec::<f64, 2>::variable(self.re, 0);
                let y = DualVec::<f64, 2>::variable(rhs.re, 1);
                let (v, dx, dy) = op.rule(x, y);
                let fpq = [[dx.eps[0], dx.eps[1]], [dy.eps[0], dy.eps[1]]];
                Self::chain([&self, &rhs], v.re, [dx.re, dy.re], fpq)
            }
        }
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        let s = |v: f64, k: usize| DualVec::<f64, 3>::variable(v, k);
        let (v, da, db, dc) = op.rule(s(self.re, 0), s(b.re, 1), s(c.re, 2));
        let fpq = [da.eps, db.eps, dc.eps];
        Self::chain([&self, &b, &c], v.re, [da.re, db.re, dc.re], fpq)
    }
    #[inline(always)]
    fn add_const(mut self, c: f64) -> Self {
        self.re += c;
        self
    }
    #[inline(always)]
    fn mul_const(self, c: f64) -> Self {
        self.map(|v| v * c)
    }
    #[inline(always)]
    fn div_const(self, c: f64) -> Self {
        // (a division, not a product by 1/c: the same value bits as the other modes)
        self.map(|v| v / c)
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.math_sin_cos();
        (self.chain1(s, c, -s), self.chain1(c, -s, -c))
    }
}

crate::impl_scalar_via_lift!([const N: usize] Dual2Vec<N>);

impl<const N: usize> PartialEq for Dual2Vec<N> {
    /// Compares values only, as control flow in the primal program would.
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<const N: usize> PartialOrd for Dual2Vec<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<const N: usize> fmt::Debug for Dual2Vec<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε + {:?}ε²/2", self.re, self.g, self.hess())
    }
}

impl<const N: usize> Real<f64> for Dual2Vec<N> {
    /// Through `DualVec<DualVec<f64, N>, N>`, which nests the rule's `jvp`.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let nested: Vec<DualVec<DualVec<f64, N>, N>> = x
            .iter()
            .map(|d| {
                let h = d.hess();
                DualVec::new(
                    DualVec::new(d.re, d.g),
                    core::array::from_fn(|i| DualVec::new(d.g[i], h[i])),
                )
            })
            .collect();
        DualVec::<DualVec<f64, N>, N>::apply_custom(rule, &nested)
            .into_iter()
            .map(|y| Dual2Vec {
                re: y.re.re,
                g: y.re.eps,
                h: core::array::from_fn(|i| y.eps[i].eps),
            })
            .collect()
    }
}
