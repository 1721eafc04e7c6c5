//! `lstm`: the loss of a multi-layer LSTM predicting a character sequence (ADBench), and its
//! gradient with respect to the main and extra parameters.
//!
//! Mode: reverse ([`ferrad::reverse::gradient_with`]): `8·b·l + 3·b` inputs and one output. The
//! sequential loop over `c` characters makes a tape of `~30·c·l·b` entries (a few hundred MB at
//! most at the default workloads), recorded once and swept once.

use ferrad::prelude::*;
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
    /// The loss for the parameters `[main (8·b·l) | extra (3·b)]`.
    pub fn objective<T: Real>(&self, params: &[T]) -> T {
        let (l, b) = (self.l, self.b);
        let (main, extra) = params.split_at(8 * b * l);
        let (in_w, rest) = extra.split_at(b);
        let (out_w, out_b) = rest.split_at(b);
        let mut state: Vec<T> = self.state.iter().map(|&v| T::cst(v)).collect();
        let mut total = T::cst(0.0);
        let mut ypred = vec![T::cst(0.0); b];
        let mut layer_in = vec![T::cst(0.0); b];
        for t in 0..self.c.saturating_sub(1) {
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
            for i in 0..b {
                total += (ypred[i] - lse) * gold[i];
            }
        }
        let count = (self.c.saturating_sub(1) * b) as f64;
        -total / count
    }
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
        "jacobian" => Ok(prep.run(
            runs,
            || ferrad::reverse::gradient_with(|v| problem.objective(v), &params).1,
            |g| json!(g),
        )),
        _ => Err(super::unknown_function(
            "lstm",
            function,
            &["objective", "jacobian"],
        )),
    }
}
