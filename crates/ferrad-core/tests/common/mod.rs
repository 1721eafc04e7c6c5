//! Shared helpers of the ferrad-core integration tests: the catalogue of primitives, sampling of
//! smooth points, finite differences, random expression trees, and the one `check` helper.
#![allow(dead_code)]

use core::fmt::Display;

use ferrad_core::prelude::*;
use ferrad_core::rules::{Binary, Unary};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The one comparison helper.
// ---------------------------------------------------------------------------------------------

/// Asserts `got ≈ want`: `|got - want| ≤ atol + rtol·max(|got|, |want|)`.
///
/// With `rtol == atol == 0` it demands the same bits (NaN matches any NaN). Infinities must match
/// exactly, and NaN matches only NaN.
#[track_caller]
pub fn check(ctx: impl Display, got: f64, want: f64, rtol: f64, atol: f64) {
    let ok = if rtol == 0.0 && atol == 0.0 {
        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
    } else if got.is_nan() || want.is_nan() {
        got.is_nan() && want.is_nan()
    } else if got.is_infinite() || want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= atol + rtol * got.abs().max(want.abs())
    };
    assert!(
        ok,
        "{ctx}: got {got:e}, want {want:e} (|diff| = {:e}, rtol = {rtol:e}, atol = {atol:e})",
        (got - want).abs()
    );
}

/// [`check`] on every element of two equally long slices.
#[track_caller]
pub fn check_vec(ctx: impl Display, got: &[f64], want: &[f64], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{ctx}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        check(format_args!("{ctx}[{i}]"), g, w, rtol, atol);
    }
}

/// How far the rule table's value of one primitive may be from std's: `ferrad::math` is within
/// 2 ulp of the correctly rounded result and glibc within about 1.6, so 4 ulp at the bottom of a
/// binade (0 under the `std-math` feature, where the rule table is std).
pub const STD_RTOL: f64 = if cfg!(feature = "std-math") {
    0.0
} else {
    4.0 * f64::EPSILON
};

/// `x` as `Dual` constants: a function evaluated on them computes, in `.re`, exactly the primal
/// value every AD mode computes (the rule table's), which is plain `f64` code's up to
/// [`STD_RTOL`] per elementary function.
pub fn consts(x: &[f64]) -> Vec<Dual<f64>> {
    x.iter().map(|&v| Dual::constant(v)).collect()
}

/// The primal value every mode computes for a scalar function (see [`consts`]).
pub fn rule_value(f: &impl ScalarFn, x: &[f64]) -> f64 {
    f.eval(&consts(x)).re
}

/// The primal values every mode computes for a vector function (see [`consts`]).
pub fn rule_values(f: &impl VectorFn, x: &[f64]) -> Vec<f64> {
    f.eval(&consts(x)).iter().map(|d| d.re).collect()
}

/// Tolerance of AD modes against each other (different summation orders only).
pub const MODE_RTOL: f64 = 1e-12;
/// Tolerance of AD against the fourth-order central differences of [`fd_partial`].
pub const FD_RTOL: f64 = 1e-6;

/// The largest magnitude in a slice (at least 1): the scale for absolute tolerance floors.
pub fn scale(v: &[f64]) -> f64 {
    v.iter().fold(1.0f64, |m, x| m.max(x.abs()))
}

// ---------------------------------------------------------------------------------------------
// Finite differences.
// ---------------------------------------------------------------------------------------------

/// `∂f/∂xᵢ` by the fourth-order five-point stencil, step `h = 1e-3·max(1, |xᵢ|)`.
pub fn fd_partial(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize) -> f64 {
    fd_partial_step(f, x, i, 1e-3)
}

/// [`fd_partial`] with step `rel · max(1, |xᵢ|)`.
pub fn fd_partial_step(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize, rel: f64) -> f64 {
    let h = rel * x[i].abs().max(1.0);
    let mut p = x.to_vec();
    let mut at = |d: f64| {
        p[i] = x[i] + d;
        f(&p)
    };
    let (f2, f1, m1, m2) = (at(2.0 * h), at(h), at(-h), at(-2.0 * h));
    (-f2 + 8.0 * f1 - 8.0 * m1 + m2) / (12.0 * h)
}

/// The gradient by [`fd_partial`].
pub fn fd_gradient(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len()).map(|i| fd_partial(f, x, i)).collect()
}

/// A finite-difference matrix `at(rel)` at the relative steps `1e-3` and `5e-4`: the finer one,
/// and the largest difference between the two (an estimate, several times too large for the
/// fourth-order stencil, of how far it is from converged).
fn at_two_steps(at: impl Fn(f64) -> Vec<Vec<f64>>) -> (Vec<Vec<f64>>, f64) {
    let (coarse, fine) = (at(1e-3), at(5e-4));
    let err = coarse
        .iter()
        .flatten()
        .zip(fine.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    (fine, err)
}

/// [`fd_jacobian`] at the steps `1e-3` and `5e-4` (relative): the finer one, and the largest
/// difference between the two, an estimate of its own error. Where a function oscillates fast
/// (`exp(sin((1.45·x)³))` at |x| ≈ 1.8), the stencil's truncation error exceeds [`FD_RTOL`],
/// and a check against it needs that error as its absolute tolerance.
pub fn fd_jacobian_with_error(
    f: &dyn Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    m: usize,
) -> (Vec<Vec<f64>>, f64) {
    let at = |rel: f64| -> Vec<Vec<f64>> {
        (0..m)
            .map(|r| {
                (0..x.len())
                    .map(|j| fd_partial_step(&|p| f(p)[r], x, j, rel))
                    .collect()
            })
            .collect()
    };
    at_two_steps(at)
}

/// The Jacobian of a vector function by [`fd_partial`], one row per output.
pub fn fd_jacobian(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], m: usize) -> Vec<Vec<f64>> {
    (0..m)
        .map(|r| {
            (0..x.len())
                .map(|j| fd_partial(&|p| f(p)[r], x, j))
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The primitives, applied through the `Float` methods and operators.
// ---------------------------------------------------------------------------------------------

/// An operation with a constant of the base float, through the mixed operators (`x * 2.5`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KOp {
    /// `x + c`
    Add,
    /// `x - c`
    Sub,
    /// `x * c`
    Mul,
    /// `x / c`
    Div,
}

/// One primitive of the rule table (or a mixed operation with a constant).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prim {
    /// A unary primitive.
    U(Unary),
    /// A binary primitive.
    B(Binary),
    /// `a.mul_add(b, c)`
    MulAdd,
    /// An operation with the constant `1.75`.
    K(KOp),
}

/// The constant of the [`Prim::K`] operations.
pub const K: f64 = 1.75;

impl Prim {
    /// Every primitive of `Unary::ALL`, `Binary::ALL`, `MulAdd`, and the mixed-constant operators.
    pub fn all() -> Vec<Prim> {
        let mut v: Vec<Prim> = Unary::ALL.iter().map(|&u| Prim::U(u)).collect();
        v.extend(Binary::ALL.iter().map(|&b| Prim::B(b)));
        v.push(Prim::MulAdd);
        v.extend([KOp::Add, KOp::Sub, KOp::Mul, KOp::Div].map(Prim::K));
        v
    }

    /// Number of arguments.
    pub fn arity(self) -> usize {
        match self {
            Prim::U(_) | Prim::K(_) => 1,
            Prim::B(_) => 2,
            Prim::MulAdd => 3,
        }
    }

    /// `op(a…)` through the `Float` methods and operators of `T`.
    pub fn apply<F: num_traits::Float, T: Real<F>>(self, a: &[T]) -> T {
        let x = a[0];
        let c = F::from(K).unwrap();
        match self {
            Prim::U(u) => match u {
                Unary::Neg => -x,
                Unary::Recip => x.recip(),
                Unary::Sqrt => x.sqrt(),
                Unary::Cbrt => x.cbrt(),
                Unary::Exp => x.exp(),
                Unary::Exp2 => x.exp2(),
                Unary::ExpM1 => x.exp_m1(),
                Unary::Ln => x.ln(),
                Unary::Log2 => x.log2(),
                Unary::Log10 => x.log10(),
                Unary::Ln1p => x.ln_1p(),
                Unary::Sin => x.sin(),
                Unary::Cos => x.cos(),
                Unary::Tan => x.tan(),
                Unary::Asin => x.asin(),
                Unary::Acos => x.acos(),
                Unary::Atan => x.atan(),
                Unary::Sinh => x.sinh(),
                Unary::Cosh => x.cosh(),
                Unary::Tanh => x.tanh(),
                Unary::Asinh => x.asinh(),
                Unary::Acosh => x.acosh(),
                Unary::Atanh => x.atanh(),
                Unary::Abs => x.abs(),
                Unary::Powi(n) => x.powi(n),
            },
            Prim::B(b) => {
                let y = a[1];
                match b {
                    Binary::Add => x + y,
                    Binary::Sub => x - y,
                    Binary::Mul => x * y,
                    Binary::Div => x / y,
                    Binary::Rem => x % y,
                    Binary::Powf => x.powf(y),
                    Binary::Atan2 => x.atan2(y),
                    Binary::Hypot => x.hypot(y),
                    Binary::Min => x.min(y),
                    Binary::Max => x.max(y),
                }
            }
            Prim::MulAdd => x.mul_add(a[1], a[2]),
            Prim::K(k) => match k {
                KOp::Add => x + c,
                KOp::Sub => x - c,
                KOp::Mul => x * c,
                KOp::Div => x / c,
            },
        }
    }

    /// [`Prim::apply`] in double precision.
    pub fn eval<T: Real>(self, a: &[T]) -> T {
        self.apply::<f64, T>(a)
    }

    /// A point where the primitive is smooth, from `u ∈ [0, 1)^arity`, or `None` if `u` maps
    /// too close to a non-smooth point. Unary points lie in `Unary::smooth_domain()` (clipped to
    /// `[-3, 3]`, 0.1 inside finite ends); kinks and poles are avoided by at least 0.05.
    pub fn sample(self, u: &[f64]) -> Option<Vec<f64>> {
        let lin = |lo: f64, hi: f64, t: f64| lo + (hi - lo) * t;
        match self {
            Prim::U(op) => {
                let (lo, hi) = op.smooth_domain();
                let lo = if lo.is_finite() { lo + 0.1 } else { -3.0 };
                let hi = if hi.is_finite() {
                    (hi - 0.1).min(3.0)
                } else {
                    3.0
                };
                let x = lin(lo, hi, u[0]);
                let avoid_zero = matches!(op, Unary::Abs | Unary::Cbrt | Unary::Recip)
                    || matches!(op, Unary::Powi(n) if n < 0);
                if (avoid_zero && x.abs() < 0.1) || (op == Unary::Tan && x.cos().abs() < 0.2) {
                    return None;
                }
                Some(vec![x])
            }
            Prim::K(_) => Some(vec![lin(-3.0, 3.0, u[0])]),
            Prim::B(op) => {
                let (x, y) = (lin(-3.0, 3.0, u[0]), lin(-3.0, 3.0, u[1]));
                let ok = match op {
                    Binary::Div => y.abs() >= 0.2,
                    Binary::Rem => {
                        // `%` jumps where x/y crosses an integer. Finite differences move each
                        // input by up to 2e-3·max(1, |input|) (of a gradient, for Hessians), so
                        // the quotient must stay clear of an integer by twice that reach.
                        let q = x / y;
                        let reach =
                            2e-3 * (x.abs().max(1.0) + q.abs() * y.abs().max(1.0)) / y.abs();
                        y.abs() >= 0.3 && (q - q.round()).abs() >= 0.05f64.max(2.0 * reach)
                    }
                    Binary::Powf => return Some(vec![lin(0.1, 3.0, u[0]), y]),
                    // atan2(x, y) jumps by 2π across the cut x = 0, y < 0.
                    Binary::Atan2 => x.hypot(y) >= 0.2 && (y > 0.0 || x.abs() >= 0.05),
                    Binary::Hypot => x.hypot(y) >= 0.2,
                    Binary::Min | Binary::Max => (x - y).abs() >= 0.05,
                    _ => true,
                };
                ok.then(|| vec![x, y])
            }
            Prim::MulAdd => Some(vec![
                lin(-3.0, 3.0, u[0]),
                lin(-3.0, 3.0, u[1]),
                lin(-3.0, 3.0, u[2]),
            ]),
        }
    }
}

/// A primitive as a [`ScalarFn`] of its arguments.
#[derive(Clone, Copy, Debug)]
pub struct PrimFn(pub Prim);

impl ScalarFn for PrimFn {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        self.0.eval(x)
    }
}

/// Indices (in a 14-input function) at which [`PaddedPrim`] feeds the primitive's arguments:
/// they straddle the 8-column chunks of the large-`n` Hessian path.
pub const PAD_AT: [usize; 3] = [7, 8, 13];
/// Number of inputs of [`PaddedPrim`].
pub const PAD_N: usize = 14;

/// `prim(x[7], x[8], x[13]) + Σ_{other j} (sin xⱼ + xⱼ²/2)`: a primitive inside a function of 14
/// inputs, so `hessian` takes its forward-over-reverse path. Its Hessian is the primitive's
/// Hessian on the `PAD_AT` block and diagonal `1 - sin xⱼ` elsewhere.
#[derive(Clone, Copy, Debug)]
pub struct PaddedPrim(pub Prim);

impl PaddedPrim {
    /// The 14 inputs: the primitive's point at `PAD_AT`, `fill` elsewhere.
    pub fn embed(&self, p: &[f64], fill: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = (0..PAD_N).map(|j| fill[j % fill.len()]).collect();
        for (k, &v) in p.iter().enumerate() {
            x[PAD_AT[k]] = v;
        }
        x
    }
}

impl ScalarFn for PaddedPrim {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let k = self.0.arity();
        let args: Vec<T> = PAD_AT[..k].iter().map(|&j| x[j]).collect();
        let mut s = self.0.eval(&args);
        for (j, &v) in x.iter().enumerate() {
            if !PAD_AT[..k].contains(&j) {
                s += v.sin() + v * v * 0.5;
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Second derivatives in each nested mode.
// ---------------------------------------------------------------------------------------------

/// The Hessian by `Dual<Dual<f64>>`: one pass per entry.
pub fn hessian_dual_dual(f: &impl ScalarFn, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for (i, row) in h.iter_mut().enumerate() {
        for (j, hij) in row.iter_mut().enumerate() {
            let xs: Vec<Dual<Dual<f64>>> = (0..n)
                .map(|k| {
                    let a = if k == i { 1.0 } else { 0.0 };
                    let b = if k == j { 1.0 } else { 0.0 };
                    Dual::new(Dual::new(x[k], a), Dual::new(b, 0.0))
                })
                .collect();
            *hij = f.eval(&xs).eps.eps;
        }
    }
    h
}

/// The Hessian by reverse over reverse (`Var<Var<f64>>`): one outer sweep records the gradient
/// on the inner tape, then one inner sweep per row. Also returns the value and the gradient.
pub fn hessian_var_var(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let inner = Tape::<f64>::new();
    let xi = inner.vars(x);
    let outer = Tape::<Var<f64>>::new();
    let xo: Vec<Var<Var<f64>>> = xi.iter().map(|&v| outer.var(v)).collect();
    let y = f.eval(&xo);
    let g = outer.adjoints_wrt(&[(y, Var::constant(1.0))], &xo);
    let h = g
        .iter()
        .map(|gi| inner.adjoints_wrt(&[(*gi, 1.0)], &xi))
        .collect();
    (y.val().val(), g.iter().map(|v| v.val()).collect(), h)
}

/// The Hessian column by column from `hvp` with unit vectors.
pub fn hessian_by_hvp(f: &impl ScalarFn, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let cols: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            ferrad_core::hvp(f, x, &e).2
        })
        .collect();
    (0..n)
        .map(|i| (0..n).map(|j| cols[j][i]).collect())
        .collect()
}

/// [`hessian_fd`] at steps `h` and `h/2`: the `h/2` matrix and the largest difference between
/// the two, an estimate (several times too large, for a fourth-order formula) of how far the
/// finite differences are from converged. Fast oscillation (`sin(8x³)` at x ≈ 1.3) makes it
/// large; comparisons then widen their tolerance by it instead of blaming the derivative.
pub fn hessian_fd_with_error(f: &impl ScalarFn, x: &[f64]) -> (Vec<Vec<f64>>, f64) {
    let n = x.len();
    let at = |rel: f64| -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| fd_partial_step(&|p| ferrad_core::gradient(f, p).1[i], x, j, rel))
                    .collect()
            })
            .collect()
    };
    at_two_steps(at)
}

/// The Hessian by [`fd_partial`] of the reverse-mode gradient.
pub fn hessian_fd(f: &impl ScalarFn, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| fd_partial(&|p| ferrad_core::gradient(f, p).1[i], x, j))
                .collect()
        })
        .collect()
}

/// [`check_vec`] row by row.
#[track_caller]
pub fn check_mat(ctx: impl Display, got: &[Vec<f64>], want: &[Vec<f64>], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{ctx}: row counts differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        check_vec(format_args!("{ctx} row {i}"), g, w, rtol, atol);
    }
}

/// The largest magnitude in a matrix (at least 1).
pub fn scale_mat(m: &[Vec<f64>]) -> f64 {
    m.iter().fold(1.0f64, |s, r| s.max(scale(r)))
}

// ---------------------------------------------------------------------------------------------
// Random expression trees.
// ---------------------------------------------------------------------------------------------

/// A domain-safe unary form: every primitive appears, wrapped so any real argument is valid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UForm {
    /// `-e`
    Neg,
    /// `1 / (e² + 1)`
    RecipSq1,
    /// `√(e² + 1)`
    SqrtSq1,
    /// `∛(e² + 0.5)`
    CbrtSq,
    /// `exp(2 tanh e)`
    ExpTanh,
    /// `2^(sin e)`
    Exp2Sin,
    /// `exp_m1(cos e)`
    ExpM1Cos,
    /// `ln(exp(3 tanh e) + 1)` (softplus of a bounded argument)
    Softplus,
    /// `log₂(e² + 1)`
    Log2Sq1,
    /// `log₁₀(e² + 2)`
    Log10Sq2,
    /// `ln_1p(e²)`
    Ln1pSq,
    /// `sin e`
    Sin,
    /// `cos e`
    Cos,
    /// `tan(tanh e)`
    TanTanh,
    /// `asin(0.9 tanh e)`
    AsinTanh,
    /// `acos(0.9 tanh e)`
    AcosTanh,
    /// `atanh(0.9 tanh e)`
    AtanhTanh,
    /// `atan e`
    Atan,
    /// `sinh(sin e)`
    SinhSin,
    /// `cosh(sin e)`
    CoshSin,
    /// `asinh e`
    Asinh,
    /// `acosh(e² + 1.5)`
    AcoshSq,
    /// `|e|` (a kink at 0)
    Abs,
    /// `e.powi(2)`
    Sq,
    /// `e.powi(3)`
    Cube,
    /// `(e² + 1).powi(-2)`
    PowiNeg,
    /// `e.powi(0)`
    Powi0,
}

/// Every [`UForm`].
pub const UFORMS: [UForm; 27] = [
    UForm::Neg,
    UForm::RecipSq1,
    UForm::SqrtSq1,
    UForm::CbrtSq,
    UForm::ExpTanh,
    UForm::Exp2Sin,
    UForm::ExpM1Cos,
    UForm::Softplus,
    UForm::Log2Sq1,
    UForm::Log10Sq2,
    UForm::Ln1pSq,
    UForm::Sin,
    UForm::Cos,
    UForm::TanTanh,
    UForm::AsinTanh,
    UForm::AcosTanh,
    UForm::AtanhTanh,
    UForm::Atan,
    UForm::SinhSin,
    UForm::CoshSin,
    UForm::Asinh,
    UForm::AcoshSq,
    UForm::Abs,
    UForm::Sq,
    UForm::Cube,
    UForm::PowiNeg,
    UForm::Powi0,
];

/// A domain-safe binary form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BForm {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / (b² + 1)`
    DivSafe,
    /// `a % (tanh b + 2)` (kinks where the quotient is an integer)
    Rem,
    /// `(a² + 0.5)^(tanh b)`
    Powf,
    /// `atan2(a, b² + 0.5)`
    Atan2,
    /// `hypot(a, b)` (a kink at the origin)
    Hypot,
    /// `min(a, b)` (a kink on the diagonal)
    Min,
    /// `max(a, b)`
    Max,
}

/// Every [`BForm`].
pub const BFORMS: [BForm; 10] = [
    BForm::Add,
    BForm::Sub,
    BForm::Mul,
    BForm::DivSafe,
    BForm::Rem,
    BForm::Powf,
    BForm::Atan2,
    BForm::Hypot,
    BForm::Min,
    BForm::Max,
];

/// A random expression over the inputs.
#[derive(Clone, Debug)]
pub enum Expr {
    /// The input `x[i]`.
    X(usize),
    /// A constant.
    C(f64),
    /// A unary form.
    U(UForm, Box<Expr>),
    /// A binary form.
    B(BForm, Box<Expr>, Box<Expr>),
    /// `a.mul_add(b, c)`
    Fma(Box<Expr>, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Evaluates the expression in any number type; `kink` is lowered to the distance (in the
    /// argument) of the closest non-smooth point passed (abs at 0, min/max ties, hypot at the
    /// origin, rem at integer quotients).
    pub fn eval<T: Scalar>(&self, x: &[T], kink: &mut f64) -> T {
        let l = T::lit;
        match self {
            Expr::X(i) => x[*i],
            Expr::C(c) => l(*c),
            Expr::U(f, e) => {
                let e = e.eval(x, kink);
                match f {
                    UForm::Neg => -e,
                    UForm::RecipSq1 => (e * e + T::one()).recip(),
                    UForm::SqrtSq1 => (e * e + T::one()).sqrt(),
                    UForm::CbrtSq => (e * e + l(0.5)).cbrt(),
                    UForm::ExpTanh => (e.tanh() * l(2.0)).exp(),
                    UForm::Exp2Sin => e.sin().exp2(),
                    UForm::ExpM1Cos => e.cos().exp_m1(),
                    UForm::Softplus => ((e.tanh() * l(3.0)).exp() + T::one()).ln(),
                    UForm::Log2Sq1 => (e * e + T::one()).log2(),
                    UForm::Log10Sq2 => (e * e + l(2.0)).log10(),
                    UForm::Ln1pSq => (e * e).ln_1p(),
                    UForm::Sin => e.sin(),
                    UForm::Cos => e.cos(),
                    UForm::TanTanh => e.tanh().tan(),
                    UForm::AsinTanh => (e.tanh() * l(0.9)).asin(),
                    UForm::AcosTanh => (e.tanh() * l(0.9)).acos(),
                    UForm::AtanhTanh => (e.tanh() * l(0.9)).atanh(),
                    UForm::Atan => e.atan(),
                    UForm::SinhSin => e.sin().sinh(),
                    UForm::CoshSin => e.sin().cosh(),
                    UForm::Asinh => e.asinh(),
                    UForm::AcoshSq => (e * e + l(1.5)).acosh(),
                    UForm::Abs => {
                        *kink = kink.min(e.primal().abs());
                        e.abs()
                    }
                    UForm::Sq => e.powi(2),
                    UForm::Cube => e.powi(3),
                    UForm::PowiNeg => (e * e + T::one()).powi(-2),
                    UForm::Powi0 => e.powi(0),
                }
            }
            Expr::B(f, a, b) => {
                let a = a.eval(x, kink);
                let b = b.eval(x, kink);
                match f {
                    BForm::Add => a + b,
                    BForm::Sub => a - b,
                    BForm::Mul => a * b,
                    BForm::DivSafe => a / (b * b + T::one()),
                    BForm::Rem => {
                        let d = b.tanh() + l(2.0);
                        let q = a.primal() / d.primal();
                        *kink = kink.min((q - q.round()).abs() * d.primal());
                        a % d
                    }
                    BForm::Powf => (a * a + l(0.5)).powf(b.tanh()),
                    BForm::Atan2 => a.atan2(b * b + l(0.5)),
                    BForm::Hypot => {
                        *kink = kink.min(a.primal().hypot(b.primal()));
                        a.hypot(b)
                    }
                    BForm::Min => {
                        *kink = kink.min((a.primal() - b.primal()).abs());
                        a.min(b)
                    }
                    BForm::Max => {
                        *kink = kink.min((a.primal() - b.primal()).abs());
                        a.max(b)
                    }
                }
            }
            Expr::Fma(a, b, c) => {
                let (a, b, c) = (a.eval(x, kink), b.eval(x, kink), c.eval(x, kink));
                a.mul_add(b, c)
            }
        }
    }

    /// The distance to the closest non-smooth point passed at `x` (`+inf` if none).
    pub fn kink_distance(&self, x: &[f64]) -> f64 {
        let mut k = f64::INFINITY;
        self.eval(x, &mut k);
        k
    }
}

/// Random expressions over `nvars` inputs: depth ≤ 4, inputs three times as likely as constants.
pub fn expr_strategy(nvars: usize) -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => (0..nvars).prop_map(Expr::X),
        1 => (-2.0..2.0f64).prop_map(Expr::C),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            4 => (prop::sample::select(UFORMS.to_vec()), inner.clone())
                .prop_map(|(f, e)| Expr::U(f, Box::new(e))),
            4 => (prop::sample::select(BFORMS.to_vec()), inner.clone(), inner.clone())
                .prop_map(|(f, a, b)| Expr::B(f, Box::new(a), Box::new(b))),
            1 => (inner.clone(), inner.clone(), inner)
                .prop_map(|(a, b, c)| Expr::Fma(Box::new(a), Box::new(b), Box::new(c))),
        ]
    })
}

/// An expression as a [`ScalarFn`].
#[derive(Clone, Debug)]
pub struct ExprFn(pub Expr);

impl ScalarFn for ExprFn {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let mut kink = f64::INFINITY;
        self.0.eval(x, &mut kink)
    }
}

/// Several expressions as a [`VectorFn`].
#[derive(Clone, Debug)]
pub struct ExprVec(pub Vec<Expr>);

impl VectorFn for ExprVec {
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
        let mut kink = f64::INFINITY;
        self.0.iter().map(|e| e.eval(x, &mut kink)).collect()
    }
}

/// A point in `[-2, 2]^n`.
pub fn point(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-2.0..2.0f64, n)
}
