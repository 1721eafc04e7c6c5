//! `lstm`: the loss of a multi-layer LSTM predicting a character sequence (ADBench), and its
//! gradient with respect to the main and extra parameters.
//!
//! Mode: compiled reverse, checkpointed per character. `8·b·l + 3·b` inputs and one output call
//! for reverse mode; the loop over `c` characters is sequential, so the primal keeps the state
//! (`2·b·l` floats) and the predictions `ŷ` (`b` floats) of each character, and the backward
//! pass pulls the state's adjoint `w` back one character at a time, accumulating the
//! parameters' gradient. Each character is split at its predictions `ŷ`, and both halves are
//! plain `f64` code in the compiled subset of `#[ferrad::autodiff_reverse]` (fused, tape-free
//! sweeps emitted by ferrad-ir):
//! 1. the adjoint `ȳ` of the predictions is the gradient of this character's loss share
//!    [`char_loss`] (a softmax over the `b` bits) at the stored `ŷ`;
//! 2. the vector-Jacobian product of the cell is the gradient of the scalar
//!    `⟨w, state'⟩ + ⟨ȳ, ŷ⟩` with `w`, `ȳ` fixed: [`state_dot`]. Every gate is elementwise in the
//!    bit `i`, so for each `i` the layers are a loop carrying one scalar (the layer input), and
//!    no bit's sweep waits for a sum over the others (the softmax is in step 1).
//!
//! The number of layers is a `Const` integer parameter and the data (`input`, `gold`) and the
//! fixed adjoints (`w`, `ȳ`) are `Const` slices: no shadows, no adjoints.
//!
//! The gradient's forward sweep is [`Lstm::step`] on `ferrad::math`'s exp and tanh (inline, in
//! the copies of `ferrad::simd::dispatch_wide`) where the primal, plain `f64` code, calls
//! libm's: 2.8 → 2.2 ms per gradient at l = 2, c = 1024 (the primal: 1.0 ms), measured.
//!
//! Invariant: the gradient's forward sweep computes what the primal's [`Lstm::step`] computes,
//! to rounding; [`state_dot`] and [`char_loss`] equal `⟨w, state'⟩ + ⟨ȳ, ŷ⟩` and
//! `−lossₜ / count` of it to rounding, and their derivatives use the compiled backend
//! (`__FERRAD_BACKEND_d_state_dot == "ir"`, `__FERRAD_BACKEND_d_char_loss == "ir"`), all tested.

use ferrad::autodiff_reverse;
use ferrad::prelude::*;
use ferrad::simd::Isa;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    main_params: Vec<Vec<f64>>,
    extra_params: Vec<Vec<f64>>,
    state: Vec<Vec<f64>>,
    sequence: Vec<Vec<f64>>,
}

/// An LSTM problem: sizes, initial state and the sequence.
#[derive(Clone, Debug)]
pub struct Lstm {
    /// Layers.
    pub l: usize,
    /// Characters in the sequence.
    pub c: usize,
    /// Bits per character (the hidden size).
    pub b: usize,
    /// Initial state, `l` blocks of `[hidden (b) | cell (b)]`.
    pub state: Vec<f64>,
    /// The sequence, `c × b` row-major.
    pub sequence: Vec<f64>,
}

fn sigmoid<T: Real>(x: T) -> T {
    T::cst(1.0) / ((-x).exp() + 1.0)
}

impl Lstm {
    /// One character `t`: updates `state` and returns this character's term
    /// `Σᵢ (ŷᵢ − lse(ŷ))·goldᵢ` of the (negated, unnormalized) loss.
    pub fn step<T: Real>(&self, params: &[T], t: usize, state: &mut [T], scratch: &mut [T]) -> T {
        let (l, b) = (self.l, self.b);
        let (main, extra) = params.split_at(8 * b * l);
        let (in_w, rest) = extra.split_at(b);
        let (out_w, out_b) = rest.split_at(b);
        let (layer_in, ypred) = scratch.split_at_mut(b);
        let input = &self.sequence[t * b..(t + 1) * b];
        for i in 0..b {
            layer_in[i] = in_w[i] * input[i];
        }
        for layer in 0..l {
            let p = &main[8 * b * layer..8 * b * (layer + 1)];
            let (hidden, cell) = state[2 * b * layer..2 * b * (layer + 1)].split_at_mut(b);
            for i in 0..b {
                let forget = sigmoid(layer_in[i] * p[i] + p[4 * b + i]);
                let ingate = sigmoid(hidden[i] * p[b + i] + p[5 * b + i]);
                let outgate = sigmoid(layer_in[i] * p[2 * b + i] + p[6 * b + i]);
                let change = (hidden[i] * p[3 * b + i] + p[7 * b + i]).tanh();
                cell[i] = cell[i] * forget + ingate * change;
                hidden[i] = outgate * cell[i].tanh();
            }
            layer_in.copy_from_slice(hidden);
        }
        for i in 0..b {
            ypred[i] = layer_in[i] * out_w[i] + out_b[i];
        }
        let sum: T = ypred.iter().map(|y| y.exp()).sum();
        let lse = (sum + 2.0).ln();
        let gold = &self.sequence[(t + 1) * b..(t + 2) * b];
        let mut total = T::cst(0.0);
        for i in 0..b {
            total += (ypred[i] - lse) * gold[i];
        }
        total
    }

    /// [`Lstm::step`] for `f64` with the elementary functions of `ferrad::math` (`isa`'s, inside
    /// [`ferrad::simd::dispatch_wide`]) instead of libm's: the gradient's forward sweep, which only
    /// keeps the states and predictions (the backward sweep's checkpoints). The same operations
    /// in the same order otherwise, so its states equal `step`'s to rounding (tested); it runs
    /// the primal's dominant cost, the gates' exp and tanh, inline where libm calls them.
    #[inline(always)]
    fn step_fast(&self, isa: Isa, params: &[f64], t: usize, state: &mut [f64], ypred: &mut [f64]) {
        let (l, b) = (self.l, self.b);
        let (main, extra) = params.split_at(8 * b * l);
        let (in_w, rest) = extra.split_at(b);
        let (out_w, out_b) = rest.split_at(b);
        let sigmoid = |x: f64| 1.0 / (isa.exp(-x) + 1.0);
        let input = &self.sequence[t * b..(t + 1) * b];
        // the layer input lives in `ypred` until the predictions overwrite it
        let layer_in = &mut ypred[..b];
        for i in 0..b {
            layer_in[i] = in_w[i] * input[i];
        }
        for layer in 0..l {
            let p = &main[8 * b * layer..8 * b * (layer + 1)];
            let (hidden, cell) = state[2 * b * layer..2 * b * (layer + 1)].split_at_mut(b);
            for i in 0..b {
                let forget = sigmoid(layer_in[i] * p[i] + p[4 * b + i]);
                let ingate = sigmoid(hidden[i] * p[b + i] + p[5 * b + i]);
                let outgate = sigmoid(layer_in[i] * p[2 * b + i] + p[6 * b + i]);
                let change = isa.tanh(hidden[i] * p[3 * b + i] + p[7 * b + i]);
                cell[i] = cell[i] * forget + ingate * change;
                hidden[i] = outgate * isa.tanh(cell[i]);
            }
            layer_in.copy_from_slice(hidden);
        }
        for i in 0..b {
            layer_in[i] = layer_in[i] * out_w[i] + out_b[i];
        }
    }

    fn count(&self) -> f64 {
        (self.c.saturating_sub(1) * self.b) as f64
    }

    /// The loss for the parameters `[main (8·b·l) | extra (3·b)]`.
    pub fn objective<T: Real>(&self, params: &[T]) -> T {
        let mut state: Vec<T> = self.state.iter().map(|&v| T::cst(v)).collect();
        let mut scratch = vec![T::cst(0.0); 2 * self.b];
        let mut total = T::cst(0.0);
        for t in 0..self.c.saturating_sub(1) {
            total += self.step(params, t, &mut state, &mut scratch);
        }
        -total / self.count()
    }

    /// The gradient of [`Lstm::objective`], checkpointed per character (module documentation).
    pub fn gradient(&self, params: &[f64]) -> Vec<f64> {
        let (l, b) = (self.l, self.b);
        let steps = self.c.saturating_sub(1);
        let ns = 2 * b * l;
        let mut states = Vec::with_capacity(steps * ns);
        let mut ypreds = Vec::with_capacity(steps * b);
        let mut state = self.state.clone();
        let mut ypred = vec![0.0; b];
        ferrad::simd::dispatch_wide(
            #[inline(always)]
            |isa| {
                for t in 0..steps {
                    states.extend_from_slice(&state);
                    self.step_fast(isa, params, t, &mut state, &mut ypred);
                    ypreds.extend_from_slice(&ypred);
                }
            },
        );
        let mut grad = vec![0.0; params.len()];
        let (g_main, g_extra) = grad.split_at_mut(8 * b * l);
        let (main, extra) = params.split_at(8 * b * l);
        let (mut w, mut w_prev) = (vec![0.0; ns], vec![0.0; ns]);
        let mut y_bar = vec![0.0; b];
        let count = self.count();
        for t in (0..steps).rev() {
            y_bar.fill(0.0);
            d_char_loss(
                &ypreds[t * b..(t + 1) * b],
                &mut y_bar,
                &self.sequence[(t + 1) * b..(t + 2) * b],
                count,
                1.0,
            );
            w_prev.fill(0.0);
            d_state_dot(
                main,
                g_main,
                extra,
                g_extra,
                &states[t * ns..(t + 1) * ns],
                &mut w_prev,
                &w,
                &y_bar,
                &self.sequence[t * b..(t + 1) * b],
                l,
                1.0,
            );
            std::mem::swap(&mut w, &mut w_prev);
        }
        grad
    }
}

/// `−Σᵢ (ŷᵢ − lse(ŷ))·goldᵢ / count`: one character's share of the loss, from its predictions
/// `ŷ` and the next character `gold`.
#[autodiff_reverse(d_char_loss, Duplicated, Const, Const, ActiveOnly)]
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
pub fn char_loss(ypred: &[f64], gold: &[f64], count: f64) -> f64 {
    let mut sum_exp = 0.0;
    let mut sum_yg = 0.0;
    let mut sum_g = 0.0;
    for i in 0..ypred.len() {
        sum_exp += ypred[i].exp();
        sum_yg += ypred[i] * gold[i];
        sum_g += gold[i];
    }
    let lse = (sum_exp + 2.0).ln();
    -(sum_yg - lse * sum_g) / count
}

/// `⟨w, state'⟩ + ⟨ȳ, ŷ⟩` for one character: `state` is the state before it (`layers` blocks
/// of `[hidden (b) | cell (b)]`), `w` weighs the state after it, `y_bar` the predictions `ŷ`,
/// and `input` is the character (`b = input.len()`).
#[autodiff_reverse(
    d_state_dot,
    Duplicated,
    Duplicated,
    Duplicated,
    Const,
    Const,
    Const,
    Const,
    ActiveOnly
)]
#[allow(clippy::too_many_arguments)]
pub fn state_dot(
    main: &[f64],
    extra: &[f64],
    state: &[f64],
    w: &[f64],
    y_bar: &[f64],
    input: &[f64],
    layers: usize,
) -> f64 {
    let b = input.len();
    let mut dot = 0.0;
    for i in 0..b {
        let mut x = extra[i] * input[i];
        for layer in 0..layers {
            let p = 8 * b * layer + i;
            let h = 2 * b * layer + i;
            let c = h + b;
            let forget = 1.0 / ((-(x * main[p] + main[p + 4 * b])).exp() + 1.0);
            let ingate = 1.0 / ((-(state[h] * main[p + b] + main[p + 5 * b])).exp() + 1.0);
            let outgate = 1.0 / ((-(x * main[p + 2 * b] + main[p + 6 * b])).exp() + 1.0);
            let change = (state[h] * main[p + 3 * b] + main[p + 7 * b]).tanh();
            let cell = state[c] * forget + ingate * change;
            let hidden = outgate * cell.tanh();
            dot += w[h] * hidden + w[c] * cell;
            x = hidden;
        }
        dot += y_bar[i] * (x * extra[b + i] + extra[2 * b + i]);
    }
    dot
}

/// `lstm.evaluate`: `objective` or `jacobian`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let inp: Input = parse("lstm", input)?;
    let runs = Runs::from_input(input)?;
    let l = inp.main_params.len() / 2;
    let b = inp.main_params.first().map_or(0, Vec::len) / 4;
    let c = inp.sequence.len();
    let bad = |what: &str| format!("lstm: malformed input: {what}");
    if l == 0
        || b == 0
        || inp.main_params.len() != 2 * l
        || inp.main_params.iter().any(|r| r.len() != 4 * b)
    {
        return Err(bad("main_params must be 2·l rows of 4·b"));
    }
    if inp.extra_params.len() != 3 || inp.extra_params.iter().any(|r| r.len() != b) {
        return Err(bad("extra_params must be 3 rows of b"));
    }
    if inp.state.len() != 2 * l || inp.state.iter().any(|r| r.len() != b) {
        return Err(bad("state must be 2·l rows of b"));
    }
    if c < 2 || inp.sequence.iter().any(|r| r.len() != b) {
        return Err(bad("sequence must be at least 2 rows of b"));
    }
    let mut params: Vec<f64> = inp.main_params.concat();
    params.extend(inp.extra_params.concat());
    let problem = Lstm {
        l,
        c,
        b,
        state: inp.state.concat(),
        sequence: inp.sequence.concat(),
    };
    match function {
        "objective" => Ok(prep.run(runs, || problem.objective(&params), |y| json!(y))),
        "jacobian" => Ok(prep.run(runs, || problem.gradient(&params), |g| json!(g))),
        _ => Err(super::unknown_function(
            "lstm",
            function,
            &["objective", "jacobian"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(l: usize, b: usize, c: usize) -> (Lstm, Vec<f64>) {
        let p = Lstm {
            l,
            c,
            b,
            state: (0..2 * l * b)
                .map(|i| 0.5 * (i as f64 * 0.4).sin())
                .collect(),
            sequence: (0..c * b).map(|i| (i as f64 * 0.6).sin().abs()).collect(),
        };
        let params = (0..8 * b * l + 3 * b)
            .map(|i| 0.5 * (i as f64 * 0.2 + 0.1).sin())
            .collect();
        (p, params)
    }

    #[test]
    fn compiled_halves_match_the_step() {
        assert_eq!(__FERRAD_BACKEND_d_state_dot, "ir");
        assert_eq!(__FERRAD_BACKEND_d_char_loss, "ir");
        let (p, params) = problem(2, 3, 4);
        let mut state = p.state.clone();
        let w: Vec<f64> = (0..state.len()).map(|i| 1.0 + i as f64).collect();
        let y_bar: Vec<f64> = (0..p.b).map(|i| 0.5 - i as f64).collect();
        let before = state.clone();
        let mut scratch = vec![0.0; 2 * p.b];
        let term = p.step(&params, 1, &mut state, &mut scratch);
        let ypred = &scratch[p.b..];
        let want = state.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
            + ypred.iter().zip(&y_bar).map(|(a, b)| a * b).sum::<f64>();
        let (main, extra) = params.split_at(8 * p.b * p.l);
        let got = state_dot(
            main,
            extra,
            &before,
            &w,
            &y_bar,
            &p.sequence[p.b..2 * p.b],
            2,
        );
        assert!(
            (got - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{got} vs {want}"
        );
        let loss = char_loss(ypred, &p.sequence[2 * p.b..3 * p.b], p.count());
        let want = -term / p.count();
        assert!(
            (loss - want).abs() < 1e-12 * (1.0 + want.abs()),
            "{loss} vs {want}"
        );
    }

    #[test]
    fn the_fast_step_follows_the_step() {
        let (p, params) = problem(3, 5, 6);
        let (mut s1, mut s2) = (p.state.clone(), p.state.clone());
        let mut scratch = vec![0.0; 2 * p.b];
        let mut ypred = vec![0.0; p.b];
        for t in 0..p.c - 1 {
            p.step(&params, t, &mut s1, &mut scratch);
            ferrad::simd::dispatch(
                #[inline(always)]
                |isa| p.step_fast(isa, &params, t, &mut s2, &mut ypred),
            );
            for (a, b) in s1.iter().zip(&s2).chain(scratch[p.b..].iter().zip(&ypred)) {
                assert!(
                    (a - b).abs() <= 1e-14 * (1.0 + b.abs()),
                    "t = {t}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn gradient_matches_a_tape_of_the_whole_loss() {
        for (l, b, c) in [(1, 2, 2), (2, 3, 5)] {
            let (p, params) = problem(l, b, c);
            let (_, tape) = ferrad::reverse::gradient_with(|v| p.objective(v), &params);
            let got = p.gradient(&params);
            for (i, (a, t)) in got.iter().zip(&tape).enumerate() {
                assert!((a - t).abs() < 1e-12 * (1.0 + t.abs()), "[{i}]: {a} vs {t}");
            }
        }
    }
}
