//! Derivatives on several threads: the independent passes of forward mode, the rows of a
//! Jacobian, the column blocks of a Hessian, and the terms of a sum, split over a thread pool.
//!
//! Work is cut into tasks of a **fixed** size that depends only on the problem (the chunk of
//! directions a pass carries, [`ROWS_PER_TASK`], [`TERMS_PER_TASK`]), never on the number of
//! threads; each task is computed exactly as the sequential code would, and partial results are
//! combined in task order. So a result is bit-for-bit the same with 1, 2 or 64 threads, and the
//! functions here agree bit for bit with their sequential twins in [`crate::api`] (except
//! [`gradient_of_sum`], whose sum is associated by task, the same way every time).
//!
//! Below a size threshold (a single task) everything runs on the calling thread. The number of
//! threads is [`set_threads`], else the `FERRAD_THREADS` environment variable, else the
//! machine's available parallelism; 1 runs everything on the calling thread. Without the
//! `parallel` feature (on by default) everything runs on the calling thread.
//!
//! The loops of code compiled by `#[autodiff_reverse]` / `#[autodiff_forward]` (with the
//! `ferrad` crate's `parallel` feature) run on the same pool, in chunks of [`LOOP_CHUNK`]
//! iterations, and follow the same thread-count setting: see [`map_chunks`].
//!
//! ```
//! use ferrad_core::prelude::*;
//! fn f<T: Real>(x: &[T]) -> T { x.iter().map(|&v| v.sin() * v).sum() }
//! let x: Vec<f64> = (0..100).map(|i| i as f64 * 0.1).collect();
//! let f = ferrad_core::scalar_fn!(f);
//! let (y, g) = ferrad_core::par::gradient_forward(&f, &x);
//! assert_eq!((y, g), ferrad_core::gradient_forward(&f, &x)); // same bits, any thread count
//! ```

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::api::{
    HESSIAN_BLOCK, ScalarFn, VectorFn, assemble_hessian, assemble_jacobian, hessian_block,
    jacobian_block, seeded,
};
use crate::forward::{DualVec, pick_chunk, with_chunk};
use crate::real::Real;
use crate::reverse::{Tape, Var};

mod loops;
pub use loops::{LOOP_CHUNK, LOOP_MIN_CHUNKS, loop_in_chunks, map_chunks};

/// Rows of a reverse-mode Jacobian per task (each task records its own tape).
pub const ROWS_PER_TASK: usize = 16;
/// Terms of a sum per task in [`gradient_of_sum`].
pub const TERMS_PER_TASK: usize = 256;

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of threads of this module's functions (0: back to the default).
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// The number of threads this module's functions use: [`set_threads`]'s, else
/// `FERRAD_THREADS`, else the machine's available parallelism (those two are read once).
pub fn threads() -> usize {
    // Cached: compiled loops ask on every call, and `available_parallelism` reads cgroup files.
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    match THREADS.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(|| {
            std::env::var("FERRAD_THREADS")
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }),
        n => n,
    }
}

/// `task(0..n_tasks)` in order, on the pool when there are several tasks and threads.
fn run_tasks<R: Send>(n_tasks: usize, task: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if n_tasks <= 1 || threads <= 1 {
        return (0..n_tasks).map(task).collect();
    }
    pool::run(threads, n_tasks, task)
}

#[cfg(feature = "parallel")]
mod pool {
    use std::sync::{Arc, Mutex};

    use rayon::prelude::*;

    /// One pool, rebuilt when the thread count changes.
    static POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

    fn get(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
        let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((n, p)) = slot.as_ref()
            && *n == threads
        {
            return Some(p.clone());
        }
        let p = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("ferrad-{i}"))
                .build()
                .ok()?,
        );
        *slot = Some((threads, p.clone()));
        Some(p)
    }

    pub(super) fn run<R: Send>(
        threads: usize,
        n_tasks: usize,
        task: impl Fn(usize) -> R + Sync,
    ) -> Vec<R> {
        match get(threads) {
            // `collect` on an indexed parallel iterator keeps the task order
            Some(p) => p.install(|| (0..n_tasks).into_par_iter().map(&task).collect()),
            // no threads to be had: the sequential result, which is the same
            None => (0..n_tasks).map(task).collect(),
        }
    }

    /// [`run`] over tasks that carry their own data (chunks of `&mut` slices, say).
    pub(super) fn run_vec<T: Send, R: Send>(
        threads: usize,
        tasks: Vec<T>,
        task: impl Fn(T) -> R + Sync,
    ) -> Vec<R> {
        match get(threads) {
            Some(p) => p.install(|| tasks.into_par_iter().map(&task).collect()),
            None => tasks.into_iter().map(task).collect(),
        }
    }
}

#[cfg(not(feature = "parallel"))]
mod pool {
    pub(super) fn run<R: Send>(_: usize, n_tasks: usize, task: impl Fn(usize) -> R) -> Vec<R> {
        (0..n_tasks).map(task).collect()
    }

    pub(super) fn run_vec<T, R>(_: usize, tasks: Vec<T>, task: impl Fn(T) -> R) -> Vec<R> {
        tasks.into_iter().map(task).collect()
    }
}

/// [`crate::gradient_forward`] with its `ceil(n / N)` forward passes spread over threads.
pub fn gradient_forward<F: ScalarFn + Sync>(f: &F, x: &[f64]) -> (f64, Vec<f64>) {
    with_chunk!(pick_chunk(x.len()), |N| gradient_forward_n::<F, N>(f, x))
}

fn gradient_forward_n<F: ScalarFn + Sync, const N: usize>(f: &F, x: &[f64]) -> (f64, Vec<f64>) {
    let n = x.len();
    if n == 0 {
        let xs: Vec<DualVec<f64, N>> = Vec::new();
        return (f.eval(&xs).re, Vec::new());
    }
    let passes = run_tasks(n.div_ceil(N), |t| {
        let start = t * N;
        let y = f.eval(&seeded::<N>(x, start));
        (y.re, y.eps[..N.min(n - start)].to_vec())
    });
    // the value of the last pass, as the sequential loop leaves it
    let value = passes.last().map_or(0.0, |p| p.0);
    (value, passes.into_iter().flat_map(|p| p.1).collect())
}

/// [`crate::jacobian`] with its forward passes (`n ≤ m`) or its reverse sweeps (`n > m`,
/// [`ROWS_PER_TASK`] rows per recording) spread over threads.
pub fn jacobian<F: VectorFn + Sync>(f: &F, x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    let value = f.eval(x);
    let m = value.len();
    if n <= m {
        let jac = with_chunk!(pick_chunk(n), |N| jacobian_forward::<F, N>(f, x, m));
        return (value, jac);
    }
    let blocks = run_tasks(m.div_ceil(ROWS_PER_TASK), |t| {
        let rows = t * ROWS_PER_TASK..m.min((t + 1) * ROWS_PER_TASK);
        let tape = Tape::<f64>::new();
        let xs = tape.vars(x);
        let ys = f.eval(&xs);
        assert_eq!(
            ys.len(),
            m,
            "jacobian: f returned {m} outputs, then {}",
            ys.len()
        );
        rows.map(|r| tape.adjoints_wrt(&[(ys[r], 1.0)], &xs))
            .collect::<Vec<_>>()
    });
    (value, blocks.into_iter().flatten().collect())
}

fn jacobian_forward<F: VectorFn + Sync, const N: usize>(
    f: &F,
    x: &[f64],
    m: usize,
) -> Vec<Vec<f64>> {
    let blocks = run_tasks(x.len().div_ceil(N), |t| jacobian_block::<N>(f, x, m, t * N));
    assemble_jacobian(x.len(), m, blocks)
}

/// [`crate::hessian`] with its column blocks (one recording of forward over reverse each, for
/// `n > 12`) spread over threads.
pub fn hessian<F: ScalarFn + Sync>(f: &F, x: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    if n <= 12 {
        return crate::hessian(f, x);
    }
    const B: usize = HESSIAN_BLOCK;
    let blocks = run_tasks(n.div_ceil(B), |t| hessian_block::<B>(f, x, t * B));
    assemble_hessian::<B>(n, blocks)
}

/// A sum of terms `Σᵢ termᵢ(x)`, `i < n_terms` — a loss over data points, an energy over
/// elements — whose gradient [`gradient_of_sum`] computes term block by term block.
pub trait TermFn {
    /// Term `i` at `x`.
    fn term<T: Real>(&self, i: usize, x: &[T]) -> T;
}

/// `Σᵢ termᵢ(x)` and its gradient by reverse mode, [`TERMS_PER_TASK`] terms per tape, the tasks
/// spread over threads. Each task sums its terms in order; the task sums and gradients are added
/// in task order, so the result does not depend on the thread count (it can differ from a
/// single tape over all terms by rounding: the sum is associated by task).
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::par::{TermFn, gradient_of_sum};
/// /// Least squares over data points (aᵢ, bᵢ): Σ (x₀·aᵢ + x₁ − bᵢ)².
/// struct Fit(Vec<(f64, f64)>);
/// impl TermFn for Fit {
///     fn term<T: Real>(&self, i: usize, x: &[T]) -> T {
///         let (a, b) = self.0[i];
///         let r = x[0] * T::cst(a) + x[1] - T::cst(b);
///         r * r
///     }
/// }
/// let data = Fit((0..1000).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect());
/// let (loss, g) = gradient_of_sum(&data, &[2.0, 1.0], 1000);
/// assert_eq!((loss, g), (0.0, vec![0.0, 0.0])); // the exact fit
/// ```
pub fn gradient_of_sum<F: TermFn + Sync>(f: &F, x: &[f64], n_terms: usize) -> (f64, Vec<f64>) {
    let parts = run_tasks(n_terms.div_ceil(TERMS_PER_TASK), |t| {
        let terms = t * TERMS_PER_TASK..n_terms.min((t + 1) * TERMS_PER_TASK);
        let tape = Tape::<f64>::new();
        let xs = tape.vars(x);
        let mut s = Var::constant(0.0);
        for i in terms {
            s += f.term(i, &xs);
        }
        (s.val(), tape.adjoints_wrt(&[(s, 1.0)], &xs))
    });
    let mut value = 0.0;
    let mut g = vec![0.0; x.len()];
    for (v, gt) in parts {
        value += v;
        g.iter_mut().zip(&gt).for_each(|(a, b)| *a += b);
    }
    (value, g)
}
