//! Forward mode: [`Dual`] (one tangent), [`DualVec`] (`N` tangents, chunk mode) and
//! [`Dual2Vec`] (gradient and Hessian along `N` directions), and closure-taking drivers for
//! users who want one concrete number type.

mod dual;
mod dual2_vec;
mod dual_vec;

pub use dual::Dual;
pub use dual_vec::DualVec;
pub use dual2_vec::Dual2Vec;

/// `f(x)` and `f'(x)` of a closure over [`Dual<f64>`].
///
/// ```
/// let (y, dy) = ferrad_core::forward::derivative(|x| x * x, 3.0);
/// assert_eq!((y, dy), (9.0, 6.0));
/// ```
pub fn derivative(f: impl Fn(Dual<f64>) -> Dual<f64>, x: f64) -> (f64, f64) {
    let y = f(Dual::variable(x));
    (y.re, y.eps)
}

/// The gradient by `n` forward passes of one tangent each.
///
/// ```
/// let (y, g) = ferrad_core::forward::gradient_dual(|x| x[0] * x[1], &[2.0, 5.0]);
/// assert_eq!((y, g), (10.0, vec![5.0, 2.0]));
/// ```
pub fn gradient_dual(f: impl Fn(&[Dual<f64>]) -> Dual<f64>, x: &[f64]) -> (f64, Vec<f64>) {
    let mut xs: Vec<Dual<f64>> = x.iter().map(|&v| Dual::constant(v)).collect();
    if xs.is_empty() {
        return (f(&xs).re, Vec::new());
    }
    let mut value = 0.0;
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() {
        xs[i].eps = 1.0;
        let y = f(&xs);
        xs[i].eps = 0.0;
        value = y.re;
        g[i] = y.eps;
    }
    (value, g)
}

/// The gradient by `ceil(n / N)` forward passes of `N` tangents each.
///
/// ```
/// use ferrad_core::forward::{gradient_chunked, DualVec};
/// let (y, g) = gradient_chunked::<2>(|x: &[DualVec<f64, 2>]| x[0] * x[1] * x[2], &[1.0, 2.0, 3.0]);
/// assert_eq!((y, g), (6.0, vec![6.0, 3.0, 2.0]));
/// ```
pub fn gradient_chunked<const N: usize>(
    f: impl Fn(&[DualVec<f64, N>]) -> DualVec<f64, N>,
    x: &[f64],
) -> (f64, Vec<f64>) {
    let n = x.len();
    let mut xs: Vec<DualVec<f64, N>> = x.iter().map(|&v| DualVec::constant(v)).collect();
    if n == 0 {
        return (f(&xs).re, Vec::new());
    }
    let mut value = 0.0;
    let mut g = vec![0.0; n];
    for start in (0..n).step_by(N) {
        let width = N.min(n - start);
        for k in 0..width {
            xs[start + k].eps[k] = 1.0;
        }
        let y = f(&xs);
        value = y.re;
        for k in 0..width {
            g[start + k] = y.eps[k];
            xs[start + k].eps[k] = 0.0;
        }
    }
    (value, g)
}

/// `f(x)` and the Jacobian-vector product `J·v` of a closure over [`Dual<f64>`].
///
/// # Panics
/// If `v.len() != x.len()`.
pub fn jvp_dual(
    f: impl Fn(&[Dual<f64>]) -> Vec<Dual<f64>>,
    x: &[f64],
    v: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(
        v.len(),
        x.len(),
        "jvp: v has length {} but x has length {}",
        v.len(),
        x.len()
    );
    let xs: Vec<Dual<f64>> = x.iter().zip(v).map(|(&a, &b)| Dual::new(a, b)).collect();
    f(&xs).into_iter().map(|y| (y.re, y.eps)).unzip()
}

/// The chunk size [`crate::gradient_forward`] uses for `n` inputs: the smallest supported
/// width that covers `min(n, 12)`, as ForwardDiff's default threshold of 12.
pub fn pick_chunk(n: usize) -> usize {
    SUPPORTED_CHUNKS
        .iter()
        .copied()
        .find(|&c| c >= n)
        .unwrap_or(12)
}

/// Chunk widths compiled into the generic drivers (each is one monomorphization of `f`).
pub const SUPPORTED_CHUNKS: [usize; 7] = [1, 2, 4, 6, 8, 10, 12];

/// Calls `$body` with the const `N` bound to the chunk width `$n` (one of [`SUPPORTED_CHUNKS`]).
macro_rules! with_chunk {
    ($n:expr, |$c:ident| $body:expr) => {
        match $n {
            1 => {
                const $c: usize = 1;
                $body
            }
            2 => {
                const $c: usize = 2;
                $body
            }
            4 => {
                const $c: usize = 4;
                $body
            }
            6 => {
                const $c: usize = 6;
                $body
            }
            8 => {
                const $c: usize = 8;
                $body
            }
            10 => {
                const $c: usize = 10;
                $body
            }
            _ => {
                const $c: usize = 12;
                $body
            }
        }
    };
}
pub(crate) use with_chunk;
