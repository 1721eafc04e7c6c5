//! The high-level API: one generic function, every mode.
//!
//! A user writes `fn f<T: Real>(x: &[T]) -> T` once, wraps it with [`scalar_fn!`](crate::scalar_fn)
//! (or implements [`ScalarFn`]) and calls any driver here. Every result starts with the value.
//! Shape mismatches panic with a message naming both lengths, like slice indexing.

use crate::forward::{Dual, Dual2Vec, DualVec, pick_chunk, with_chunk};
use crate::real::Real;
use crate::reverse::{Tape, Var};

/// A function `Rⁿ → R` generic over the number type.
pub trait ScalarFn {
    /// Evaluates the function on numbers of any mode.
    fn eval<T: Real>(&self, x: &[T]) -> T;
}

/// A function `Rⁿ → Rᵐ` generic over the number type.
pub trait VectorFn {
    /// Evaluates the function on numbers of any mode.
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T>;
}

impl<F: ScalarFn + ?Sized> ScalarFn for &F {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        (**self).eval(x)
    }
}

impl<F: VectorFn + ?Sized> VectorFn for &F {
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
        (**self).eval(x)
    }
}

/// Wraps a generic function item `fn f<T: Real>(x: &[T]) -> T` into a [`ScalarFn`] value.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn rosenbrock<T: Real>(x: &[T]) -> T {
///     let a = T::cst(1.0) - x[0];
///     let b = x[1] - x[0] * x[0];
///     a * a + b * b * 100.0
/// }
/// let (y, g) = ferrad_core::gradient(&ferrad_core::scalar_fn!(rosenbrock), &[1.0, 1.0]);
/// assert_eq!((y, g), (0.0, vec![0.0, 0.0]));
/// ```
#[macro_export]
macro_rules! scalar_fn {
    ($f:path) => {{
        #[derive(Clone, Copy, Debug)]
        struct ScalarFnItem;
        impl $crate::ScalarFn for ScalarFnItem {
            fn eval<T: $crate::Real>(&self, x: &[T]) -> T {
                $f(x)
            }
        }
        ScalarFnItem
    }};
}

/// Wraps a generic function item `fn f<T: Real>(x: &[T]) -> Vec<T>` into a [`VectorFn`] value.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn polar<T: Real>(x: &[T]) -> Vec<T> {
///     vec![x[0] * x[1].cos(), x[0] * x[1].sin()]
/// }
/// let (y, j) = ferrad_core::jacobian(&ferrad_core::vector_fn!(polar), &[2.0, 0.0]);
/// assert_eq!(y, vec![2.0, 0.0]);
/// assert_eq!(j, vec![vec![1.0, 0.0], vec![0.0, 2.0]]);
/// ```
#[macro_export]
macro_rules! vector_fn {
    ($f:path) => {{
        #[derive(Clone, Copy, Debug)]
        struct VectorFnItem;
        impl $crate::VectorFn for VectorFnItem {
            fn eval<T: $crate::Real>(&self, x: &[T]) -> Vec<T> {
                $f(x)
            }
        }
        VectorFnItem
    }};
}

fn check_len(what: &str, name: &str, got: usize, n: usize) {
    assert!(
        got == n,
        "{what}: {name} has length {got} but x has length {n}"
    );
}

/// `f(x)` and `f'(x)` by one forward pass.
///
/// ```
/// use ferrad_core::prelude::*;
/// let (y, dy) = ferrad_core::derivative(|x| x.exp() * 2.0, 0.0);
/// assert_eq!((y, dy), (2.0, 2.0));
/// ```
pub fn derivative(f: impl Fn(Dual<f64>) -> Dual<f64>, x: f64) -> (f64, f64) {
    crate::forward::derivative(f, x)
}

/// `f(x)` and `∇f(x)` by reverse mode: one recording, one backward sweep.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x.iter().map(|&v| v * v).sum() }
/// let (y, g) = ferrad_core::gradient(&ferrad_core::scalar_fn!(f), &[1.0, 2.0]);
/// assert_eq!((y, g), (5.0, vec![2.0, 4.0]));
/// ```
pub fn gradient(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>) {
    crate::reverse::gradient_with(|v| f.eval(v), x)
}

/// `f(x)` and `∇f(x)` by chunked forward mode: `ceil(n / N)` passes of [`DualVec<f64, N>`],
/// with `N` chosen by [`crate::forward::pick_chunk`].
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0].sin() * x[1] }
/// let (y, g) = ferrad_core::gradient_forward(&ferrad_core::scalar_fn!(f), &[0.0, 3.0]);
/// assert_eq!((y, g), (0.0, vec![3.0, 0.0]));
/// ```
pub fn gradient_forward(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>) {
    with_chunk!(
        pick_chunk(x.len()),
        |N| crate::forward::gradient_chunked::<N>(|v| f.eval(v), x)
    )
}

/// `f(x)` and the Jacobian-vector product `J(x)·v` by one forward pass.
///
/// # Panics
/// If `v.len() != x.len()`.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> Vec<T> { vec![x[0] * x[1], x[0] + x[1]] }
/// let (y, jv) = ferrad_core::jvp(&ferrad_core::vector_fn!(f), &[2.0, 3.0], &[1.0, 0.0]);
/// assert_eq!((y, jv), (vec![6.0, 5.0], vec![3.0, 1.0]));
/// ```
pub fn jvp(f: &impl VectorFn, x: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    check_len("jvp", "v", v.len(), x.len());
    crate::forward::jvp_dual(|d| f.eval(d), x, v)
}

/// `f(x)` and the vector-Jacobian product `wᵀ·J(x)` by one reverse sweep.
///
/// # Panics
/// If `w.len()` differs from the number of outputs.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> Vec<T> { vec![x[0] * x[1], x[0] + x[1]] }
/// let (y, wj) = ferrad_core::vjp(&ferrad_core::vector_fn!(f), &[2.0, 3.0], &[1.0, 0.0]);
/// assert_eq!((y, wj), (vec![6.0, 5.0], vec![3.0, 2.0]));
/// ```
pub fn vjp(f: &impl VectorFn, x: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let tape = Tape::<f64>::new();
    let xs = tape.vars(x);
    let ys = f.eval(&xs);
    assert!(
        w.len() == ys.len(),
        "vjp: w has length {} but f has {} outputs",
        w.len(),
        ys.len()
    );
    let seeds: Vec<(Var<f64>, f64)> = ys.iter().copied().zip(w.iter().copied()).collect();
    let g = tape.adjoints_wrt(&seeds, &xs);
    (ys.iter().map(|y| y.val()).collect(), g)
}

/// `f(x)` and the Jacobian (one row per output), in the mode the shape favours: chunked forward
/// when `n ≤ m`, otherwise one recording and `m` reverse sweeps.
pub fn jacobian(f: &impl VectorFn, x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    // The shape decides the mode, and only an evaluation tells m: a plain f64 one is the
    // cheapest, so the forward path never records a tape it would throw away.
    let value = f.eval(x);
    let m = value.len();
    if n <= m {
        let jac = with_chunk!(pick_chunk(n), |N| jacobian_forward::<N>(f, x, m));
        (value, jac)
    } else {
        let tape = Tape::<f64>::new();
        let xs = tape.vars(x);
        let ys = f.eval(&xs);
        assert_eq!(
            ys.len(),
            m,
            "jacobian: f returned {} outputs, then {}",
            m,
            ys.len()
        );
        let rows = ys
            .iter()
            .map(|&y| tape.adjoints_wrt(&[(y, 1.0)], &xs))
            .collect();
        (value, rows)
    }
}

fn jacobian_forward<const N: usize>(f: &impl VectorFn, x: &[f64], m: usize) -> Vec<Vec<f64>> {
    let blocks = (0..x.len())
        .step_by(N)
        .map(|start| jacobian_block::<N>(f, x, m, start));
    assemble_jacobian(x.len(), m, blocks)
}

/// `x` as `DualVec`s seeded with the unit directions of inputs `start..start + N` (fewer at
/// the end): one chunk of a chunked forward pass.
pub(crate) fn seeded<const N: usize>(x: &[f64], start: usize) -> Vec<DualVec<f64, N>> {
    let width = N.min(x.len() - start);
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let mut d = DualVec::constant(v);
            if (start..start + width).contains(&i) {
                d.eps[i - start] = 1.0;
            }
            d
        })
        .collect()
}

/// Columns `start..start + N` of the Jacobian (one slice per output), by one forward pass.
pub(crate) fn jacobian_block<const N: usize>(
    f: &impl VectorFn,
    x: &[f64],
    m: usize,
    start: usize,
) -> Vec<Vec<f64>> {
    let width = N.min(x.len() - start);
    let ys = f.eval(&seeded::<N>(x, start));
    assert_eq!(
        ys.len(),
        m,
        "jacobian: f returned {} outputs, then {}",
        m,
        ys.len()
    );
    ys.iter().map(|y| y.eps[..width].to_vec()).collect()
}

/// The Jacobian (`m` rows of `n`) from its column blocks, in order.
pub(crate) fn assemble_jacobian(
    n: usize,
    m: usize,
    blocks: impl IntoIterator<Item = Vec<Vec<f64>>>,
) -> Vec<Vec<f64>> {
    let mut jac = vec![Vec::with_capacity(n); m];
    for block in blocks {
        for (row, part) in jac.iter_mut().zip(block) {
            row.extend_from_slice(&part);
        }
    }
    jac
}

/// `f(x)`, `∇f(x)` and the Hessian-vector product `H(x)·v`, by forward over reverse:
/// one recording on a tape of [`Dual<f64>`] and one sweep.
///
/// # Panics
/// If `v.len() != x.len()`.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0] * x[0] * x[1] }
/// let (y, g, hv) = ferrad_core::hvp(&ferrad_core::scalar_fn!(f), &[2.0, 3.0], &[1.0, 0.0]);
/// assert_eq!((y, g, hv), (12.0, vec![12.0, 4.0], vec![6.0, 4.0]));
/// ```
pub fn hvp(f: &impl ScalarFn, x: &[f64], v: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    check_len("hvp", "v", v.len(), x.len());
    let tape = Tape::<Dual<f64>>::new();
    let xs: Vec<Var<Dual<f64>>> = x
        .iter()
        .zip(v)
        .map(|(&a, &b)| tape.var(Dual::new(a, b)))
        .collect();
    let y = f.eval(&xs);
    let adj = tape.adjoints_wrt(&[(y, Dual::constant(1.0))], &xs);
    let (g, hv) = adj.iter().map(|d| (d.re, d.eps)).unzip();
    (y.val().re, g, hv)
}

/// `f(x)`, `∇f(x)` and the Hessian `H(x)`.
///
/// For `n ≤ 12` one second-order forward pass of [`Dual2Vec<N>`](crate::Dual2Vec) (no tape,
/// no allocation per operation, the Hessian's upper triangle only); for larger `n`, forward
/// over reverse with 8 columns per recording.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0] * x[0] * x[1] }
/// let (y, g, h) = ferrad_core::hessian(&ferrad_core::scalar_fn!(f), &[2.0, 3.0]);
/// assert_eq!((y, g), (12.0, vec![12.0, 4.0]));
/// assert_eq!(h, vec![vec![6.0, 4.0], vec![4.0, 0.0]]);
/// ```
pub fn hessian(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    if n <= 12 {
        with_chunk!(pick_chunk(n), |N| hessian_forward::<N>(f, x))
    } else {
        hessian_reverse::<HESSIAN_BLOCK>(f, x)
    }
}

fn hessian_forward<const N: usize>(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    debug_assert!(n <= N);
    let xs: Vec<Dual2Vec<N>> = (0..n).map(|i| Dual2Vec::variable(x[i], i)).collect();
    let y = f.eval(&xs);
    let h = y.hess();
    (
        y.re,
        y.g[..n].to_vec(),
        h[..n].iter().map(|r| r[..n].to_vec()).collect(),
    )
}

/// Hessian columns per forward-over-reverse recording when `n > 12`.
pub(crate) const HESSIAN_BLOCK: usize = 8;

fn hessian_reverse<const N: usize>(f: &impl ScalarFn, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let blocks = (0..x.len())
        .step_by(N)
        .map(|start| hessian_block::<N>(f, x, start));
    assemble_hessian::<N>(x.len(), blocks)
}

/// One forward-over-reverse recording seeded with the directions `start..start + N`: the
/// value and the adjoints, whose `re` is the gradient and whose `eps` are columns
/// `start..start + N` of the Hessian.
pub(crate) fn hessian_block<const N: usize>(
    f: &impl ScalarFn,
    x: &[f64],
    start: usize,
) -> (f64, Vec<DualVec<f64, N>>) {
    let tape = Tape::<DualVec<f64, N>>::new();
    let xs: Vec<Var<DualVec<f64, N>>> = seeded::<N>(x, start)
        .into_iter()
        .map(|d| tape.var(d))
        .collect();
    let y = f.eval(&xs);
    let adj = tape.adjoints_wrt(&[(y, DualVec::constant(1.0))], &xs);
    (y.val().re, adj)
}

/// `(f(x), ∇f(x), H)` from the blocks of [`hessian_block`], in order (the value and gradient
/// of the last block, as every block computes them).
pub(crate) fn assemble_hessian<const N: usize>(
    n: usize,
    blocks: impl IntoIterator<Item = (f64, Vec<DualVec<f64, N>>)>,
) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let mut h = vec![vec![0.0; n]; n];
    let mut g = vec![0.0; n];
    let mut value = 0.0;
    for (t, (v, adj)) in blocks.into_iter().enumerate() {
        value = v;
        let start = t * N;
        for (i, a) in adj.iter().enumerate() {
            g[i] = a.re;
            for k in 0..N.min(n - start) {
                h[i][start + k] = a.eps[k];
            }
        }
    }
    (value, g, h)
}

/// A gradient compared with central finite differences, from [`check_gradient`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// `f(x)`.
    pub value: f64,
    /// The reverse-mode gradient.
    pub gradient: Vec<f64>,
    /// Central differences `(f(x + hᵢeᵢ) - f(x - hᵢeᵢ)) / 2hᵢ` with `hᵢ = ∛ε·max(1, |xᵢ|)`.
    pub finite_diff: Vec<f64>,
    /// `maxᵢ |gᵢ - fdᵢ|`.
    pub max_abs_error: f64,
    /// `maxᵢ |gᵢ - fdᵢ| / max(1, |gᵢ|)`.
    pub max_rel_error: f64,
    /// Whether `max_rel_error ≤ 1e-5` (a central difference is good to about `ε^(2/3)`).
    pub ok: bool,
}

/// Checks the reverse-mode gradient against central finite differences.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0].exp() * x[1].sin() }
/// let check = ferrad_core::check_gradient(&ferrad_core::scalar_fn!(f), &[0.3, 1.2]);
/// assert!(check.ok, "{check:?}");
/// ```
pub fn check_gradient(f: &impl ScalarFn, x: &[f64]) -> GradCheck {
    let (value, gradient) = gradient(f, x);
    let finite_diff = central_differences(f, x);
    let mut max_abs_error = 0.0f64;
    let mut max_rel_error = 0.0f64;
    for (g, d) in gradient.iter().zip(&finite_diff) {
        let e = (g - d).abs();
        max_abs_error = max_abs_error.max(e);
        max_rel_error = max_rel_error.max(e / g.abs().max(1.0));
    }
    if gradient.iter().chain(&finite_diff).any(|v| !v.is_finite()) {
        max_abs_error = f64::NAN;
        max_rel_error = f64::NAN;
    }
    GradCheck {
        value,
        gradient,
        finite_diff,
        max_abs_error,
        max_rel_error,
        ok: max_rel_error <= 1e-5,
    }
}

/// Central finite differences of `f` at `x`, step `hᵢ = ∛ε·max(1, |xᵢ|)`.
pub fn central_differences(f: &impl ScalarFn, x: &[f64]) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = f64::EPSILON.cbrt() * x[i].abs().max(1.0);
            xp[i] = x[i] + h;
            let up = f.eval(&xp);
            xp[i] = x[i] - h;
            let down = f.eval(&xp);
            xp[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}
