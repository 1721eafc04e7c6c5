//! `gmm`: the log posterior of a Gaussian mixture model with a Wishart prior (ADBench, with
//! GradBench's fixes), and its gradient with respect to `alpha`, `mu`, `q` and `l`.
//!
//! Mode: reverse, split at the log-sum-exp. The objective is
//! `C + Σᵢ lse_k(βᵢₖ) − n·lse(α) + prior`, where `βᵢₖ = αₖ + Σⱼ qₖⱼ − ½‖Qₖ(xᵢ − μₖ)‖²` depends on
//! component `k`'s parameters only. A single tape of the whole objective would hold
//! `~n·k·d²` entries (10 GB at `d = 64, k = 100, n = 1000`), so the gradient is assembled by
//! reverse mode piece by piece, every derivative taken by ferrad:
//! 1. the adjoint `wᵢₖ` of each `βᵢₖ` is `∂ lse/∂βᵢₖ`, from [`ferrad::gradient`] of the generic
//!    [`super::lse::lse`] at the point's `βᵢ·`;
//! 2. with those adjoints fixed, `Σᵢ wᵢₖ·∇βᵢₖ = ∇Fₖ` for `Fₖ(θₖ) = Σᵢ wᵢₖ·βᵢₖ(θₖ)`, and `Fₖ` only
//!    needs the weighted moments `Σᵢ wᵢₖ`, `Σᵢ wᵢₖ xᵢ`, `Σᵢ wᵢₖ xᵢxᵢᵀ` of the data (plain `f64`
//!    sums, no derivative), since `Σᵢ wᵢ‖Q(xᵢ − μ)‖² = tr(Q S Qᵀ)` with
//!    `S = Σᵢ wᵢ(xᵢ − μ)(xᵢ − μ)ᵀ`. So [`weighted_beta_sum`] is recorded once per component
//!    (`~d³/3` entries instead of `n·d²`) and swept once;
//! 3. the terms that do not involve the data (`−n·lse(α)` and the prior) are one
//!    [`ferrad::gradient`] over all parameters.
//!
//! Invariant: the primal and every recorded piece call the same generic [`beta`] and [`rest`];
//! [`weighted_beta_sum`] equals `Σᵢ wᵢ·beta(…, xᵢ)` for any weights (tested).

use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::lse::lse;
use crate::timing::{Evaluated, Prepare, Runs, parse};

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

/// `Σᵢ wᵢ·βᵢ` for one component from the weighted moments of the points:
/// `W·(α + Σⱼ qⱼ) − ½ Σ_r [q_rᵀ M₂ q_r − 2 (q_r·μ)(q_r·M₁) + W (q_r·μ)²]`, where `q_r` is row `r`
/// of `Q(q, l)` — `tr(Q S Qᵀ)` for the scatter matrix `S` of the points about `μ`.
pub fn weighted_beta_sum<T: Real>(alpha: T, mu: &[T], q: &[T], l: &[T], m: &Moments) -> T {
    let d = mu.len();
    // Row r of Q: Q[r][c] = l[start(c) + r − c − 1] for c < r (columns are stored in order),
    // Q[r][r] = exp(q_r).
    let start = |c: usize| c * (d - 1) - c * c.saturating_sub(1) / 2;
    let mut row: Vec<T> = Vec::with_capacity(d);
    let mut total = T::cst(0.0);
    for r in 0..d {
        row.clear();
        row.extend((0..r).map(|c| l[start(c) + r - c - 1]));
        row.push(q[r].exp());
        let mut quad = T::cst(0.0);
        for (a, &qa) in row.iter().enumerate() {
            let m2a = &m.m2[a * d..a * d + r + 1];
            let v: T = row.iter().zip(m2a).map(|(&qb, &s)| qb * s).sum();
            quad += qa * v;
        }
        let q_mu: T = row.iter().zip(mu).map(|(&a, &b)| a * b).sum();
        let q_m1: T = row.iter().zip(&m.m1).map(|(&a, &b)| a * b).sum();
        total += quad - q_mu * q_m1 * 2.0 + q_mu * q_mu * m.w;
    }
    let sum_q: T = q.iter().copied().sum();
    (alpha + sum_q) * m.w - total * 0.5
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

    /// The gradient of [`Gmm::objective`] (see the module documentation for the split).
    pub fn gradient(&self, p: &[f64]) -> Vec<f64> {
        let (d, k, ls) = (self.d, self.k, self.l_size());
        let (_, mut grad) = ferrad::reverse::gradient_with(|v| self.rest(v), p);
        let (g_alpha, rest) = grad.split_at_mut(k);
        let (g_mu, rest) = rest.split_at_mut(k * d);
        let (g_q, g_l) = rest.split_at_mut(k * d);
        let (alpha, mu, q, l) = self.split(p);
        let lse_fn = ferrad::scalar_fn!(lse);
        let mut betas = vec![0.0; k];
        let mut moments = vec![Moments::zero(d); k];
        for xi in self.x.chunks_exact(d) {
            for (ik, b) in betas.iter_mut().enumerate() {
                *b = beta(
                    alpha[ik],
                    &mu[ik * d..(ik + 1) * d],
                    &q[ik * d..(ik + 1) * d],
                    &l[ik * ls..(ik + 1) * ls],
                    xi,
                );
            }
            let (_, w) = ferrad::gradient(&lse_fn, &betas);
            for (m, &wk) in moments.iter_mut().zip(&w) {
                m.add(wk, xi);
            }
        }
        let mut theta = Vec::with_capacity(1 + 2 * d + ls);
        for (ik, m) in moments.iter_mut().enumerate() {
            m.mirror();
            theta.clear();
            theta.push(alpha[ik]);
            theta.extend_from_slice(&mu[ik * d..(ik + 1) * d]);
            theta.extend_from_slice(&q[ik * d..(ik + 1) * d]);
            theta.extend_from_slice(&l[ik * ls..(ik + 1) * ls]);
            let tape = Tape::<f64>::new();
            let v = tape.vars(&theta);
            let f = weighted_beta_sum(v[0], &v[1..1 + d], &v[1 + d..1 + 2 * d], &v[1 + 2 * d..], m);
            let adj = tape.adjoints_wrt(&[(f, 1.0)], &v);
            g_alpha[ik] += adj[0];
            for (g, a) in g_mu[ik * d..(ik + 1) * d].iter_mut().zip(&adj[1..1 + d]) {
                *g += a;
            }
            for (g, a) in g_q[ik * d..(ik + 1) * d]
                .iter_mut()
                .zip(&adj[1 + d..1 + 2 * d])
            {
                *g += a;
            }
            for (g, a) in g_l[ik * ls..(ik + 1) * ls]
                .iter_mut()
                .zip(&adj[1 + 2 * d..])
            {
                *g += a;
            }
        }
        grad
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
        "objective" => Ok(prep.run(runs, || g.objective(&p), |y| json!(y))),
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
