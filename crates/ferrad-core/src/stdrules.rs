//! A small library of [`CustomRule`]s that show what custom rules are for: an opaque primal with
//! textbook derivatives ([`LinearSolve`]), and numerically stable formulas whose naive,
//! differentiated-through versions overflow ([`LogSumExp`], [`Softplus`]).
//!
//! Each rule's `jvp`/`vjp` is written generic over [`Real`], so every mode and every nesting
//! (a Hessian through a linear solve, reverse over forward, …) differentiates the rule's own
//! derivative formulas, never the primal.
//!
//! Invariant: a rule's `jvp` and `vjp` are the transposes of one Jacobian `J(x)`, the derivative
//! of `eval` at `x`; and they only ever evaluate the primal through stable formulas, so a finite
//! input gives a finite derivative wherever the mathematical derivative is finite.

use crate::custom::{CustomRule, apply_rule};
use crate::real::{Real, Scalar};

/// The LU factorization `P·A = L·U` of a square matrix, with partial pivoting, generic over the
/// number type so that it can be used on `f64` (the opaque primal) and on AD numbers (inside a
/// rule's `jvp`/`vjp`).
///
/// Pivots are chosen by primal value (`|a|` compared as numbers compare), so a nested AD type
/// factors along the same pivot sequence as `f64` would. A singular matrix is not an error: as
/// with `1.0 / 0.0`, the solves then return non-finite values.
///
/// ```
/// use ferrad_core::stdrules::Lu;
/// // [[0, 2], [1, 1]] needs a row swap.
/// let lu = Lu::factor(&[0.0, 2.0, 1.0, 1.0], 2);
/// assert_eq!(lu.solve(&[4.0, 3.0]), vec![1.0, 2.0]);            // A x = b
/// assert_eq!(lu.solve_transpose(&[1.0, 5.0]), vec![2.0, 1.0]); // Aᵀ y = c
/// ```
#[derive(Clone, Debug)]
pub struct Lu<T> {
    n: usize,
    /// `L` (unit lower, below the diagonal) and `U` (upper, with the diagonal), row-major.
    lu: Vec<T>,
    /// Row `i` of `P·A` is row `perm[i]` of `A`.
    perm: Vec<usize>,
}

impl<T: Scalar> Lu<T> {
    /// Factors the row-major `n×n` matrix `a`.
    ///
    /// # Panics
    /// If `a.len() != n * n`.
    pub fn factor(a: &[T], n: usize) -> Self {
        assert!(
            a.len() == n * n,
            "Lu::factor: matrix has {} entries but n = {n} needs {}",
            a.len(),
            n * n
        );
        let mut lu = a.to_vec();
        let mut perm: Vec<usize> = (0..n).collect();
        for k in 0..n {
            let mut p = k;
            for i in k + 1..n {
                if lu[i * n + k].abs() > lu[p * n + k].abs() {
                    p = i;
                }
            }
            if p != k {
                for j in 0..n {
                    lu.swap(k * n + j, p * n + j);
                }
                perm.swap(k, p);
            }
            let pivot = lu[k * n + k];
            for i in k + 1..n {
                let l = lu[i * n + k] / pivot;
                lu[i * n + k] = l;
                for j in k + 1..n {
                    let u = lu[k * n + j];
                    lu[i * n + j] -= l * u;
                }
            }
        }
        Lu { n, lu, perm }
    }

    /// The order `n` of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Solves `A·x = b`.
    ///
    /// # Panics
    /// If `b.len() != n`.
    pub fn solve(&self, b: &[T]) -> Vec<T> {
        let n = self.n;
        assert!(
            b.len() == n,
            "Lu::solve: b has length {} but the matrix is {n}×{n}",
            b.len()
        );
        // L y = P b (unit diagonal), then U x = y.
        let mut x: Vec<T> = self.perm.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            for j in 0..i {
                let t = self.lu[i * n + j] * x[j];
                x[i] -= t;
            }
        }
        for i in (0..n).rev() {
            for j in i + 1..n {
                let t = self.lu[i * n + j] * x[j];
                x[i] -= t;
            }
            x[i] /= self.lu[i * n + i];
        }
        x
    }

    /// Solves `Aᵀ·y = c`.
    ///
    /// # Panics
    /// If `c.len() != n`.
    pub fn solve_transpose(&self, c: &[T]) -> Vec<T> {
        let n = self.n;
        assert!(
            c.len() == n,
            "Lu::solve_transpose: c has length {} but the matrix is {n}×{n}",
            c.len()
        );
        // Aᵀ = Uᵀ Lᵀ P: solve Uᵀ z = c, then Lᵀ w = z, then y = Pᵀ w.
        let mut z = c.to_vec();
        for i in 0..n {
            for j in 0..i {
                let t = self.lu[j * n + i] * z[j];
                z[i] -= t;
            }
            z[i] /= self.lu[i * n + i];
        }
        for i in (0..n).rev() {
            for j in i + 1..n {
                let t = self.lu[j * n + i] * z[j];
                z[i] -= t;
            }
        }
        let mut y = vec![T::zero(); n];
        for (i, &p) in self.perm.iter().enumerate() {
            y[p] = z[i];
        }
        y
    }
}

/// `x = A⁻¹·b` for a dense `n×n` matrix `A`, as a custom rule.
///
/// Input layout: `A` row-major (`n²` values), then `b` (`n` values); output: `x` (`n` values).
/// The primal is an opaque `f64` LU factorization with partial pivoting (it could as well be
/// LAPACK); the derivatives are the textbook formulas
///
/// * `jvp`: `dx = A⁻¹·(db − dA·x)`
/// * `vjp`: `b̄ = A⁻ᵀ·x̄`, `Ā = −b̄·xᵀ`
///
/// where the solves inside `jvp`/`vjp` run a generic [`Lu`] on the AD number type, so the rule
/// nests: a Hessian of a loss through the solve is exact.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::stdrules::LinearSolve;
/// // loss(A, b) = sum(A⁻¹ b) for A = [[2, 1], [1, 3]], b = [3, 5].
/// fn loss<T: Real>(x: &[T]) -> T {
///     apply_rule(&LinearSolve { n: 2 }, x).into_iter().sum()
/// }
/// let ab = [2.0, 1.0, 1.0, 3.0, 3.0, 5.0];
/// let (y, g) = ferrad_core::gradient(&ferrad_core::scalar_fn!(loss), &ab);
/// assert!((y - 2.2).abs() < 1e-15); // x = [0.8, 1.4]
/// // ∂loss/∂b = A⁻ᵀ·1 = [0.4, 0.2]
/// assert!((g[4] - 0.4).abs() < 1e-15 && (g[5] - 0.2).abs() < 1e-15);
/// let check = ferrad_core::check_gradient(&ferrad_core::scalar_fn!(loss), &ab);
/// assert!(check.ok, "{check:?}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearSolve {
    /// The order of the system.
    pub n: usize,
}

impl LinearSolve {
    /// `A⁻¹·b` for `A` row-major: packs the inputs and applies the rule.
    ///
    /// ```
    /// use ferrad_core::stdrules::LinearSolve;
    /// let x = LinearSolve { n: 2 }.solve(&[2.0, 1.0, 1.0, 3.0], &[3.0, 5.0]);
    /// assert!((x[0] - 0.8).abs() < 1e-15 && (x[1] - 1.4).abs() < 1e-15);
    /// ```
    pub fn solve<T: Real>(&self, a: &[T], b: &[T]) -> Vec<T> {
        let mut x = Vec::with_capacity(a.len() + b.len());
        x.extend_from_slice(a);
        x.extend_from_slice(b);
        apply_rule(self, &x)
    }

    fn split<'a, T>(&self, what: &str, x: &'a [T]) -> (&'a [T], &'a [T]) {
        let n = self.n;
        assert!(
            x.len() == n * n + n,
            "LinearSolve {{ n: {n} }}: {what} has length {} but A (n² = {}) and b (n = {n}) need {}",
            x.len(),
            n * n,
            n * n + n
        );
        x.split_at(n * n)
    }
}

impl CustomRule for LinearSolve {
    fn name(&self) -> &str {
        "linear_solve"
    }

    fn eval(&self, x: &[f64]) -> Vec<f64> {
        let (a, b) = self.split("input", x);
        Lu::<f64>::factor(a, self.n).solve(b)
    }

    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        let n = self.n;
        let (a, b) = self.split("input", x);
        let (da, db) = self.split("tangent", dx);
        let lu = Lu::factor(a, n);
        let sol = lu.solve(b);
        let rhs: Vec<T> = (0..n)
            .map(|i| {
                let mut r = db[i];
                for j in 0..n {
                    r -= da[i * n + j] * sol[j];
                }
                r
            })
            .collect();
        lu.solve(&rhs)
    }

    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        let n = self.n;
        let (a, b) = self.split("input", x);
        assert!(
            w.len() == n,
            "LinearSolve {{ n: {n} }}: cotangent has length {} but x has length {n}",
            w.len()
        );
        let lu = Lu::factor(a, n);
        let sol = lu.solve(b);
        let b_bar = lu.solve_transpose(w);
        // Ā = −b̄·xᵀ (row-major), then b̄.
        let mut out: Vec<T> = b_bar
            .iter()
            .flat_map(|&bi| sol.iter().map(move |&xj| -(bi * xj)))
            .collect();
        out.extend_from_slice(&b_bar);
        out
    }
}

/// `ln Σᵢ exp(xᵢ)`, `Rⁿ → R`, computed as `m + ln Σᵢ exp(xᵢ − m)` with `m = maxᵢ xᵢ`.
///
/// Its gradient is `softmax(x)`, computed with the same shift, so it stays finite where the naive
/// `exp` overflows (`x = [1000, 999]`) or underflows to `ln 0` (`x = [-1000, -1000]`). The empty
/// sum is `-inf` with an empty gradient; an input of `+inf` gives `+inf`.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::stdrules::LogSumExp;
/// let (y, g) = ferrad_core::reverse::gradient_with(|x| apply_rule(&LogSumExp, x)[0], &[1000.0, 1000.0]);
/// assert_eq!(y, 1000.0 + 2f64.ln());
/// assert_eq!(g, vec![0.5, 0.5]);
/// // The naive formula overflows:
/// let (naive, _) = ferrad_core::reverse::gradient_with(|x| (x[0].exp() + x[1].exp()).ln(), &[1000.0, 1000.0]);
/// assert_eq!(naive, f64::INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSumExp;

impl LogSumExp {
    /// The shift `m = max xᵢ` (by primal value) used by every formula here.
    fn shift(x: &[f64]) -> f64 {
        x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// `softmax(x)` generic over the number type, shifted by a constant: the shift does not
    /// change the function, so derivatives of the result are exact.
    fn softmax<T: Real>(x: &[T]) -> Vec<T> {
        let vals: Vec<f64> = x.iter().map(|v| v.value()).collect();
        let m = Self::shift(&vals);
        if !m.is_finite() {
            // All -inf (each weight 0/0: spread evenly) or some +inf (the +inf entries share it).
            let hits: Vec<bool> = vals
                .iter()
                .map(|&v| v == m || m == f64::NEG_INFINITY)
                .collect();
            let k = hits.iter().filter(|&&h| h).count() as f64;
            return hits
                .iter()
                .map(|&h| if h { T::cst(1.0 / k) } else { T::zero() })
                .collect();
        }
        let e: Vec<T> = x.iter().map(|&v| (v - m).exp()).collect();
        let s: T = e.iter().copied().sum();
        e.into_iter().map(|v| v / s).collect()
    }
}

impl CustomRule for LogSumExp {
    fn name(&self) -> &str {
        "logsumexp"
    }

    fn eval(&self, x: &[f64]) -> Vec<f64> {
        let m = Self::shift(x);
        if !m.is_finite() {
            return vec![m];
        }
        let s: f64 = x.iter().map(|&v| (v - m).exp()).sum();
        vec![m + s.ln()]
    }

    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        let p = Self::softmax(x);
        vec![p.iter().zip(dx).map(|(&p, &d)| p * d).sum()]
    }

    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        assert!(
            w.len() == 1,
            "LogSumExp: cotangent has length {} but the output is a scalar",
            w.len()
        );
        Self::softmax(x).into_iter().map(|p| p * w[0]).collect()
    }
}

/// `softplus(x) = ln(1 + eˣ)`, `R → R`, computed as `max(x, 0) + ln(1 + e^(−|x|))`.
///
/// Its derivative is the logistic `σ(x) = 1 / (1 + e^(−x))`, computed on the side where the
/// exponential cannot overflow, so `softplus'(1000) = 1` and `softplus'(−1000) = 0` where the
/// naive formula gives `inf/inf = NaN`. Apply it to one value; map it over a vector.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::stdrules::Softplus;
/// let sp = |x: Dual<f64>| apply_rule(&Softplus, &[x])[0];
/// assert_eq!(ferrad_core::derivative(sp, 1000.0), (1000.0, 1.0));
/// assert_eq!(ferrad_core::derivative(sp, -1000.0), (0.0, 0.0));
/// let (y0, d0) = ferrad_core::derivative(sp, 0.0);
/// assert!((y0 - 2f64.ln()).abs() < 1e-16 && d0 == 0.5);
/// // The naive formula's derivative is NaN at 1000:
/// let (_, d) = ferrad_core::derivative(|x| (x.exp() + 1.0).ln(), 1000.0);
/// assert!(d.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softplus;

impl Softplus {
    /// The logistic function, generic and stable: `e^(−|x|)` never overflows.
    fn sigmoid<T: Real>(x: T) -> T {
        if x.value() >= 0.0 {
            T::one() / ((-x).exp() + 1.0)
        } else {
            let e = x.exp();
            e / (e + 1.0)
        }
    }

    fn check(what: &str, len: usize) {
        assert!(
            len == 1,
            "Softplus: {what} has length {len}; the rule takes one value (map it over a vector)"
        );
    }
}

impl CustomRule for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }

    fn eval(&self, x: &[f64]) -> Vec<f64> {
        Self::check("input", x.len());
        vec![x[0].max(0.0) + (-x[0].abs()).exp().ln_1p()]
    }

    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        Self::check("input", x.len());
        vec![Self::sigmoid(x[0]) * dx[0]]
    }

    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        Self::check("cotangent", w.len());
        self.jvp(x, w)
    }
}
