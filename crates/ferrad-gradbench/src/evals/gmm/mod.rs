//! `gmm`: the log posterior of a Gaussian mixture model with a Wishart prior (ADBench, with
//! GradBench's fixes), and its gradient with respect to `alpha`, `mu`, `q` and `l`.
//!
//! Mode: compiled reverse (`#[ferrad::autodiff_reverse]`, lowered through ferrad-ir), split at
//! the log-sum-exp. The objective is `C + Σᵢ lse_k(βᵢₖ) − n·lse(α) + prior`, where
//! `βᵢₖ = αₖ + Σⱼ qₖⱼ − ½‖Qₖ(xᵢ − μₖ)‖²` depends on component `k`'s parameters only. Reverse mode
//! of the whole objective would sweep `n·k·d²` terms back; instead the gradient is assembled
//! piece by piece, every derivative taken by ferrad's compiled reverse mode:
//! 1. the adjoint `wᵢₖ` of each `βᵢₖ` is `∂ lse/∂βᵢₖ`, from the compiled derivative of
//!    [`super::lse::lse_shifted`] at the point's `βᵢ·` (the `β`s themselves are the primal's,
//!    plain `f64`);
//! 2. with those adjoints fixed, `Σᵢ wᵢₖ·∇βᵢₖ = ∇Fₖ` for `Fₖ(θₖ) = Σᵢ wᵢₖ·βᵢₖ(θₖ)`, and `Fₖ` only
//!    needs the weighted moments `Σᵢ wᵢₖ`, `Σᵢ wᵢₖ xᵢ`, `Σᵢ wᵢₖ xᵢxᵢᵀ` of the data (plain `f64`
//!    sums, no derivative), since `Σᵢ wᵢ‖Q(xᵢ − μ)‖² = ⟨QᵀQ, S⟩` with
//!    `S = Σᵢ wᵢ(xᵢ − μ)(xᵢ − μ)ᵀ`. So [`weighted_beta_sum_compiled`] (`~d³/6` terms instead of
//!    `n·d²`) is differentiated once per component;
//! 3. the terms that do not involve the data (`−n·lse(α)` and the prior) are one compiled
//!    derivative, of [`rest_compiled`].
//!
//! The moments enter as `Const` slices and scalars (no shadow, no adjoint). The two parts that
//! cost `n·k·d²` — the `β`s (in the primal and in step 1) and the second moments (step 2) —
//! are plain `f64` matrix products, computed by the register-blocked kernels of [`kernels`].
//!
//! Threads: the `β`s (by blocks of points), the weights and the primal's `lse`s (by points) and
//! step 2's moments and derivatives (by components) run as tasks on `ferrad::par`'s pool, as
//! the long compiled loops of lse do. The tasks are cut by the sizes alone and each computes
//! whole values, which are combined in a fixed order: the result is the same with any number
//! of threads (tested). Below `PARALLEL_WORK` (2²²) multiply-adds everything is one task.
//!
//! Invariant: the generic [`Gmm::objective`] (with [`beta`] and [`Gmm::rest`]) is the reference
//! definition; the fast primal [`Gmm::primal`], [`weighted_beta_sum_compiled`] (equal to
//! `Σᵢ wᵢ·beta(…, xᵢ)` for any weights) and [`rest_compiled`] agree with it to rounding, the
//! gradient agrees with a tape of it, and every derivative uses the compiled backend
//! (`__FERRAD_BACKEND_* == "ir"`) — all tested.

use ferrad::autodiff_reverse;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::lse::{d_lse_shifted, lse, max};
use crate::timing::{Evaluated, Prepare, Runs, parse};
use ferrad::par::map_chunks;
use kernels::{MomentKernel, PointBlocks};

pub mod kernels;

#[derive(Deserialize)]
struct Input {
    d: usize,
    k: usize,
    n: usize,
    x: Vec<Vec<f64>>,
    m: i64,
    gamma: f64,
    alpha: Vec<f64>,
    mu: Vec<Vec<f64>>,
    q: Vec<Vec<f64>>,
    l: Vec<Vec<f64>>,
}

/// A GMM problem: data, prior and the sizes of the parameter blocks.
#[derive(Clone, Debug)]
pub struct Gmm {
    /// Dimension.
    pub d: usize,
    /// Components.
    pub k: usize,
    /// Points.
    pub n: usize,
    /// Points, row-major `n × d`.
    pub x: Vec<f64>,
    /// Wishart degrees of freedom beyond `d + 1`.
    pub m: i64,
    /// Wishart precision.
    pub gamma: f64,
}

/// Flattens `rows` (expected `count` rows of `width`) into one vector.
pub(crate) fn flatten(
    name: &str,
    rows: &[Vec<f64>],
    count: usize,
    width: usize,
) -> Result<Vec<f64>, String> {
    if rows.len() != count {
        return Err(format!("{name} has {} rows, expected {count}", rows.len()));
    }
    let mut out = Vec::with_capacity(count * width);
    for (i, r) in rows.iter().enumerate() {
        if r.len() != width {
            return Err(format!(
                "{name}[{i}] has length {}, expected {width}",
                r.len()
            ));
        }
        out.extend_from_slice(r);
    }
    Ok(out)
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7; about 15 digits).
pub fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = core::f64::consts::PI;
        return (pi / (pi * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * core::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `βᵢₖ = αₖ + Σⱼ qₖⱼ − ½‖Q(qₖ, lₖ)(x − μₖ)‖²` for one point `x` and one component.
pub fn beta<T: Real>(alpha: T, mu: &[T], q: &[T], l: &[T], x: &[f64]) -> T {
    let d = x.len();
    let xc: Vec<T> = mu.iter().zip(x).map(|(&m, &xi)| -m + xi).collect();
    let mut out: Vec<T> = q.iter().zip(&xc).map(|(&qi, &c)| qi.exp() * c).collect();
    // Q's strictly lower part, column by column: column i holds l[idx..idx + d − 1 − i].
    let mut idx = 0;
    for (i, &c) in xc.iter().enumerate() {
        let column = &l[idx..idx + (d - 1 - i)];
        for (o, &lv) in out[i + 1..].iter_mut().zip(column) {
            *o += lv * c;
        }
        idx += d - 1 - i;
    }
    let sum_q: T = q.iter().copied().sum();
    let sq: T = out.iter().map(|&o| o * o).sum();
    alpha + sum_q - sq * 0.5
}

/// Component `k`'s data moments under weights `wᵢ`: `Σ wᵢ`, `Σ wᵢ xᵢ` and `Σ wᵢ xᵢxᵢᵀ`
/// (`d × d`, row-major, symmetric).
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    /// `Σ wᵢ`.
    pub w: f64,
    /// `Σ wᵢ xᵢ`.
    pub m1: Vec<f64>,
    /// `Σ wᵢ xᵢxᵢᵀ`.
    pub m2: Vec<f64>,
}

impl Moments {
    /// Zero moments in dimension `d`.
    pub fn zero(d: usize) -> Self {
        Moments {
            w: 0.0,
            m1: vec![0.0; d],
            m2: vec![0.0; d * d],
        }
    }

    /// Adds the point `x` with weight `w` (lower triangle of `m2` only; see [`Moments::mirror`]).
    pub fn add(&mut self, w: f64, x: &[f64]) {
        let d = x.len();
        self.w += w;
        for (a, &xa) in x.iter().enumerate() {
            let wx = w * xa;
            self.m1[a] += wx;
            for (m, &xb) in self.m2[a * d..a * d + a + 1].iter_mut().zip(x) {
                *m += wx * xb;
            }
        }
    }

    /// Copies the lower triangle of `m2` to the upper one.
    pub fn mirror(&mut self) {
        let d = self.m1.len();
        for a in 0..d {
            for b in 0..a {
                self.m2[b * d + a] = self.m2[a * d + b];
            }
        }
    }
}

/// `Σᵢ wᵢ·βᵢ` for one component from the weighted moments of the points (`w = Σ wᵢ`,
/// `m1 = Σ wᵢ xᵢ`, `m2 = Σ wᵢ xᵢxᵢᵀ` of which only the lower triangle is read):
/// `W·(α + Σⱼ qⱼ) − ½ ⟨G, S⟩` with `G = QᵀQ` (`G_ab` is the dot product of columns `a` and `b`
/// of `Q(q, l)`, whose strictly lower part is stored column by column in `l`) and
/// `S_ab = M₂_ab − μ_a M₁_b − M₁_a μ_b + W μ_a μ_b`, the scatter of the points about `μ`.
#[autodiff_reverse(
    d_weighted_beta_sum,
    Active,
    Duplicated,
    Duplicated,
    Duplicated,
    Const,
    Const,
    Const,
    ActiveOnly
)]
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
pub fn weighted_beta_sum_compiled(
    alpha: f64,
    mu: &[f64],
    q: &[f64],
    l: &[f64],
    w: f64,
    m1: &[f64],
    m2: &[f64],
) -> f64 {
    let d = mu.len();
    let mut total = 0.0;
    let mut sum_q = 0.0;
    // column b of Q: Q_bb = exp(q_b), Q_rb = l[sb + r − b − 1] for r > b. Column b outermost,
    // so that exp(q_b) is taken d times, not d²/2 (each is also cached for the reverse sweep).
    let mut sb = 0;
    for b in 0..d {
        let eb = q[b].exp();
        sum_q += q[b];
        let mu_b = mu[b];
        let m1_b = m1[b];
        let mut gbb = eb * eb;
        for r in b + 1..d {
            let v = l[sb + r - b - 1];
            gbb += v * v;
        }
        total += gbb * (m2[b * d + b] - mu_b * m1_b * 2.0 + w * mu_b * mu_b);
        // G_ab for a < b: Q_ba·Q_bb + Σ_{r>b} Q_ra·Q_rb, column a starting at sa
        let mut sa = 0;
        for a in 0..b {
            let mut g = l[sa + b - a - 1] * eb;
            for r in b + 1..d {
                g += l[sa + r - a - 1] * l[sb + r - b - 1];
            }
            let s_ab = m2[b * d + a] - mu[a] * m1_b - m1[a] * mu_b + w * mu[a] * mu_b;
            total += g * s_ab * 2.0;
            sa += d - 1 - a;
        }
        sb += d - 1 - b;
    }
    (alpha + sum_q) * w - total * 0.5
}

/// [`weighted_beta_sum_compiled`] with the moments of `m`.
pub fn weighted_beta_sum(alpha: f64, mu: &[f64], q: &[f64], l: &[f64], m: &Moments) -> f64 {
    weighted_beta_sum_compiled(alpha, mu, q, l, m.w, &m.m1, &m.m2)
}

/// The terms without data, [`Gmm::rest`] in the compiled subset: `−n·lse(α)` (shifted by the
/// constant `a`, see [`super::lse::lse_shifted`]) minus the Wishart prior
/// `Σₖ ½γ²‖Qₖ‖²_F − m·Σⱼ qₖⱼ` (constants excluded).
#[autodiff_reverse(
    d_rest, Duplicated, Duplicated, Duplicated, Const, Const, Const, Const, ActiveOnly
)]
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
pub fn rest_compiled(
    alpha: &[f64],
    q: &[f64],
    l: &[f64],
    a: f64,
    n: f64,
    gamma: f64,
    m: f64,
) -> f64 {
    let mut s = 0.0;
    for i in 0..alpha.len() {
        s += (alpha[i] - a).exp();
    }
    let mut frobenius = 0.0;
    let mut sum_q = 0.0;
    for j in 0..q.len() {
        frobenius += (q[j] * 2.0).exp();
        sum_q += q[j];
    }
    for j in 0..l.len() {
        frobenius += l[j] * l[j];
    }
    -(s.ln() + a) * n - (frobenius * (0.5 * gamma * gamma) - sum_q * m)
}

impl Gmm {
    fn l_size(&self) -> usize {
        self.d * (self.d - 1) / 2
    }

    /// The number of parameters: `k·(1 + 2d + d(d−1)/2)`.
    pub fn n_params(&self) -> usize {
        self.k * (1 + 2 * self.d + self.l_size())
    }

    /// Splits the flat parameters `[alpha | mu | q | l]` into its four blocks.
    pub fn split<'a, T>(&self, p: &'a [T]) -> (&'a [T], &'a [T], &'a [T], &'a [T]) {
        let (k, d) = (self.k, self.d);
        let (alpha, rest) = p.split_at(k);
        let (mu, rest) = rest.split_at(k * d);
        let (q, l) = rest.split_at(k * d);
        (alpha, mu, q, l)
    }

    fn constant(&self) -> f64 {
        let (d, n) = (self.d as f64, self.n as f64);
        let big_n = d + self.m as f64 + 1.0;
        let mut log_gamma_d = 0.25 * d * (d - 1.0) * core::f64::consts::PI.ln();
        for j in 1..=self.d {
            log_gamma_d += ln_gamma(0.5 * big_n + 0.5 * (1.0 - j as f64));
        }
        let c_prior = big_n * d * (self.gamma.ln() - 0.5 * 2f64.ln()) - log_gamma_d;
        -n * d * 0.5 * (2.0 * core::f64::consts::PI).ln() + self.k as f64 * c_prior
    }

    /// The terms without data: `−n·lse(α)` plus the Wishart prior (constants excluded).
    pub fn rest<T: Real>(&self, p: &[T]) -> T {
        let (alpha, _, q, l) = self.split(p);
        let (d, ls) = (self.d, self.l_size());
        let mut prior = T::cst(0.0);
        for ik in 0..self.k {
            let qk = &q[ik * d..(ik + 1) * d];
            let lk = &l[ik * ls..(ik + 1) * ls];
            let frobenius: T = qk
                .iter()
                .map(|&v| (v * 2.0).exp())
                .chain(lk.iter().map(|&v| v * v))
                .sum();
            let sum_q: T = qk.iter().copied().sum();
            prior += frobenius * (0.5 * self.gamma * self.gamma) - sum_q * self.m as f64;
        }
        -lse(alpha) * self.n as f64 - prior
    }

    /// The log posterior.
    pub fn objective<T: Real>(&self, p: &[T]) -> T {
        let (alpha, mu, q, l) = self.split(p);
        let (d, ls) = (self.d, self.l_size());
        let mut slse = T::cst(0.0);
        let mut betas = Vec::with_capacity(self.k);
        for xi in self.x.chunks_exact(d) {
            betas.clear();
            for ik in 0..self.k {
                betas.push(beta(
                    alpha[ik],
                    &mu[ik * d..(ik + 1) * d],
                    &q[ik * d..(ik + 1) * d],
                    &l[ik * ls..(ik + 1) * ls],
                    xi,
                ));
            }
            slse += lse(&betas);
        }
        slse + self.rest(p) + self.constant()
    }

    /// `βᵢₖ` for every point and component, `n × k` row-major (the same arithmetic as [`beta`]
    /// up to the order of additions, by [`kernels::betas`]).
    pub fn betas(&self, p: &[f64]) -> Vec<f64> {
        let (alpha, mu, q, l) = self.split(p);
        let mut out = vec![0.0; self.n * self.k];
        kernels::betas(
            &PointBlocks::new(&self.x, self.d),
            alpha,
            mu,
            q,
            l,
            &mut out,
        );
        out
    }

    fn rest_args(&self) -> (f64, f64, f64) {
        (self.n as f64, self.gamma, self.m as f64)
    }

    /// [`Gmm::objective`] in `f64`, fast: [`Gmm::betas`], then one `lse` per point.
    pub fn primal(&self, p: &[f64]) -> f64 {
        let (alpha, _, q, l) = self.split(p);
        let (n, gamma, m) = self.rest_args();
        let betas = self.betas(p);
        // one lse per point on the threads, summed here in point order (the same bits with
        // any number of threads)
        let mut lses = vec![0.0; self.n];
        let tasks = betas
            .chunks(self.points_per_task() * self.k)
            .zip(lses.chunks_mut(self.points_per_task()));
        map_chunks(tasks, |(b, out)| {
            for (row, o) in b.chunks_exact(self.k).zip(out) {
                *o = lse(row);
            }
        });
        let slse: f64 = lses.iter().sum();
        slse + rest_compiled(alpha, q, l, max(alpha), n, gamma, m) + self.constant()
    }

    /// The gradient of [`Gmm::objective`] (see the module documentation for the split).
    pub fn gradient(&self, p: &[f64]) -> Vec<f64> {
        let (d, k, ls) = (self.d, self.k, self.l_size());
        let (alpha, mu, q, l) = self.split(p);
        let mut grad = vec![0.0; p.len()];
        let (g_alpha, rest) = grad.split_at_mut(k);
        let (g_mu, rest) = rest.split_at_mut(k * d);
        let (g_q, g_l) = rest.split_at_mut(k * d);
        let (n, gamma, m) = self.rest_args();
        d_rest(alpha, g_alpha, q, g_q, l, g_l, max(alpha), n, gamma, m, 1.0);
        let weights = self.posterior_weights(&self.betas(p));
        // component by component: the moments under its weights, then the compiled derivative
        // of Fₖ, which adds into the component's own slices of the gradient
        let kernel = MomentKernel::new(&self.x, d);
        let per_task = task_size(COMPONENTS_PER_TASK, k, self.work());
        let tasks = ComponentTask::split(per_task, d, ls, g_alpha, g_mu, g_q, g_l);
        map_chunks(tasks, |t| {
            let mut scratch = kernel.scratch();
            let mut moments = Moments::zero(d);
            for (j, g_a) in t.alpha.iter_mut().enumerate() {
                let ik = t.first + j;
                let (vec_k, g_vec) = (ik * d..(ik + 1) * d, j * d..(j + 1) * d);
                let (l_k, g_l_k) = (ik * ls..(ik + 1) * ls, j * ls..(j + 1) * ls);
                kernel.component(
                    &mut scratch,
                    &weights[ik * self.n..][..self.n],
                    &mut moments,
                );
                *g_a += d_weighted_beta_sum(
                    alpha[ik],
                    &mu[vec_k.clone()],
                    &mut t.mu[g_vec.clone()],
                    &q[vec_k],
                    &mut t.q[g_vec],
                    &l[l_k],
                    &mut t.l[g_l_k],
                    moments.w,
                    &moments.m1,
                    &moments.m2,
                    1.0,
                );
            }
        });
        grad
    }

    /// `n·k·d²`: the multiply-adds of the betas (and again of the moments).
    fn work(&self) -> usize {
        self.n * self.k * self.d * self.d
    }

    /// Points per task of the posterior weights and the primal's `lse`s ([`task_size`]).
    fn points_per_task(&self) -> usize {
        task_size(POINTS_PER_TASK, self.n, self.work())
    }

    /// The posterior weights `wᵢₖ = ∂ lse(βᵢ·)/∂βᵢₖ` from the `n × k` betas, stored `k × n`
    /// (each component's contiguous), the points in tasks of [`POINTS_PER_TASK`] on
    /// `ferrad::par`'s threads.
    fn posterior_weights(&self, betas: &[f64]) -> Vec<f64> {
        let (k, n) = (self.k, self.n);
        let mut by_point = vec![0.0; n * k];
        let tasks = betas
            .chunks(self.points_per_task() * k)
            .zip(by_point.chunks_mut(self.points_per_task() * k));
        map_chunks(tasks, |(b, w)| {
            for (row, w_row) in b.chunks_exact(k).zip(w.chunks_exact_mut(k)) {
                d_lse_shifted(row, w_row, max(row), 1.0);
            }
        });
        let mut weights = vec![0.0; k * n];
        for (i, w_row) in by_point.chunks_exact(k).enumerate() {
            for (w, &v) in weights[i..].iter_mut().step_by(n).zip(w_row) {
                *w = v;
            }
        }
        weights
    }
}

/// Components per task of [`Gmm::gradient`] on `ferrad::par`'s threads (a fixed cut: each
/// component's derivative is computed whole by one task, the same with any thread count).
const COMPONENTS_PER_TASK: usize = 4;

/// Points per task of the posterior weights and the primal's `lse`s.
const POINTS_PER_TASK: usize = 128;

/// The fewest multiply-adds (`n·k·d²`, about a millisecond) for which gmm cuts its work into
/// tasks at all: below, the thread pool's start-up would cost more than it saves (d = 2,
/// k = 5, n = 1000 measured 30% slower on two threads).
pub(crate) const PARALLEL_WORK: usize = 1 << 22;

/// `per_task`, or all `count` items in one task when `work` is below [`PARALLEL_WORK`] (at
/// least 1: a slice is cut into chunks of it).
pub(crate) fn task_size(per_task: usize, count: usize, work: usize) -> usize {
    if work >= PARALLEL_WORK {
        per_task
    } else {
        count.max(1)
    }
}

/// The gradient slices of the components `first..first + alpha.len()`: one task of
/// [`Gmm::gradient`].
struct ComponentTask<'a> {
    first: usize,
    alpha: &'a mut [f64],
    mu: &'a mut [f64],
    q: &'a mut [f64],
    l: &'a mut [f64],
}

impl<'a> ComponentTask<'a> {
    /// Cuts the gradient blocks into tasks of `per_task` components (`d` entries of `mu` and
    /// `q`, `ls` of `l` per component; `ls` may be zero, where `chunks_mut` could not cut).
    fn split(
        per_task: usize,
        d: usize,
        ls: usize,
        mut alpha: &'a mut [f64],
        mut mu: &'a mut [f64],
        mut q: &'a mut [f64],
        mut l: &'a mut [f64],
    ) -> Vec<Self> {
        let mut tasks = Vec::new();
        let mut first = 0;
        while !alpha.is_empty() {
            let c = per_task.min(alpha.len());
            let (a, a_rest) = std::mem::take(&mut alpha).split_at_mut(c);
            let (m, m_rest) = std::mem::take(&mut mu).split_at_mut(c * d);
            let (qq, q_rest) = std::mem::take(&mut q).split_at_mut(c * d);
            let (ll, l_rest) = std::mem::take(&mut l).split_at_mut(c * ls);
            tasks.push(ComponentTask {
                first,
                alpha: a,
                mu: m,
                q: qq,
                l: ll,
            });
            (alpha, mu, q, l) = (a_rest, m_rest, q_rest, l_rest);
            first += c;
        }
        tasks
    }
}

fn rows(v: &[f64], width: usize, count: usize) -> Vec<&[f64]> {
    if width == 0 {
        return vec![&[][..]; count];
    }
    v.chunks_exact(width).collect()
}

/// `gmm.evaluate`: `objective` or `jacobian`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let inp: Input = parse("gmm", input)?;
    let runs = Runs::from_input(input)?;
    let (d, k, n) = (inp.d, inp.k, inp.n);
    if d == 0 || k == 0 {
        return Err(format!("gmm: need d > 0 and k > 0 (got d = {d}, k = {k})"));
    }
    let ls = d * (d - 1) / 2;
    let err = |e: String| format!("gmm: malformed input: {e}");
    if inp.alpha.len() != k {
        return Err(err(format!(
            "alpha has length {}, expected k = {k}",
            inp.alpha.len()
        )));
    }
    let mut p = inp.alpha.clone();
    p.extend(flatten("mu", &inp.mu, k, d).map_err(err)?);
    p.extend(flatten("q", &inp.q, k, d).map_err(err)?);
    p.extend(flatten("l", &inp.l, k, ls).map_err(err)?);
    let x = flatten("x", &inp.x, n, d).map_err(err)?;
    let g = Gmm {
        d,
        k,
        n,
        x,
        m: inp.m,
        gamma: inp.gamma,
    };
    match function {
        "objective" => Ok(prep.run(runs, || g.primal(&p), |y| json!(y))),
        "jacobian" => Ok(prep.run(
            runs,
            || g.gradient(&p),
            |grad| {
                let (a, m, q, l) = g.split(&grad);
                json!({"alpha": a, "mu": rows(m, d, k), "q": rows(q, d, k), "l": rows(l, ls, k)})
            },
        )),
        _ => Err(super::unknown_function(
            "gmm",
            function,
            &["objective", "jacobian"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(d: usize, k: usize, n: usize) -> (Gmm, Vec<f64>) {
        let x = (0..n * d).map(|i| (i as f64 * 0.37).sin()).collect();
        let g = Gmm {
            d,
            k,
            n,
            x,
            m: 2,
            gamma: 1.3,
        };
        let p = (0..g.n_params())
            .map(|i| 0.3 * (i as f64 * 0.71 + 0.2).cos())
            .collect();
        (g, p)
    }

    #[test]
    fn compiled_pieces_agree_with_the_generic_objective_and_its_tape() {
        assert_eq!(__FERRAD_BACKEND_d_weighted_beta_sum, "ir");
        assert_eq!(__FERRAD_BACKEND_d_rest, "ir");
        for (d, k, n) in [
            (1, 1, 2),
            (3, 2, 5),
            (5, 3, 7),
            (2, 2, 0),
            (9, 2, 19),
            (3, 9, 300),
        ] {
            let (g, p) = problem(d, k, n);
            let want = g.objective(&p);
            let got = g.primal(&p);
            assert!(
                (got - want).abs() < 1e-12 * (1.0 + want.abs()),
                "{got} vs {want}"
            );
            let (alpha, _, q, l) = g.split(&p);
            let (nf, gamma, m) = g.rest_args();
            let rest = rest_compiled(alpha, q, l, max(alpha), nf, gamma, m);
            assert!((rest - g.rest(&p)).abs() < 1e-12 * (1.0 + rest.abs()));
            let (_, tape) = ferrad::reverse::gradient_with(|v| g.objective(v), &p);
            let grad = g.gradient(&p);
            for (i, (a, b)) in grad.iter().zip(&tape).enumerate() {
                assert!(
                    (a - b).abs() < 1e-10 * (1.0 + b.abs()),
                    "d = {d}, [{i}]: {a} vs {b}"
                );
            }
        }
    }

    /// Above [`PARALLEL_WORK`] (several tasks of points, point blocks and components, the
    /// last ones short): the gradient is a tape's, and 1 or 2 threads give the same bits.
    #[test]
    fn tasks_and_threads_give_the_reference_and_the_same_bits() {
        let (g, p) = problem(16, 9, 2001);
        assert!(g.work() >= PARALLEL_WORK);
        let on = |threads| {
            ferrad::par::set_threads(threads);
            let r = (g.primal(&p), g.gradient(&p));
            ferrad::par::set_threads(0);
            r
        };
        let (one, two) = (on(1), on(2));
        assert_eq!(one.0.to_bits(), two.0.to_bits(), "primal");
        assert!(
            one.1
                .iter()
                .zip(&two.1)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        let want = g.objective(&p);
        assert!(
            (one.0 - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{} vs {want}",
            one.0
        );
        let (_, tape) = ferrad::reverse::gradient_with(|v| g.objective(v), &p);
        for (i, (a, b)) in one.1.iter().zip(&tape).enumerate() {
            assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "[{i}]: {a} vs {b}");
        }
    }

    #[test]
    fn small_problems_are_one_task() {
        assert_eq!(task_size(4, 5, PARALLEL_WORK - 1), 5);
        assert_eq!(task_size(4, 0, 0), 1);
        assert_eq!(task_size(4, 100, PARALLEL_WORK), 4);
    }
}
