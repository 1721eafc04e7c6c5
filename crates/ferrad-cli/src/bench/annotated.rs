//! The seed benchmarks written as plain `f64` Rust and differentiated by ferrad's
//! `#[autodiff_forward]` / `#[autodiff_reverse]` attributes (the `macro-*` bench modes).
//!
//! With `ferrad`'s `parallel` feature the compiled loops of long inputs run on
//! `ferrad::par`'s threads; the headline rows run them on one ([`on_threads`]), the `-par`
//! rows on all.

use ferrad::{autodiff_forward, autodiff_reverse};

/// F, plain `f64`: forward width 10 (one pass) and reverse.
#[autodiff_forward(f_macro_fwd, 10, Dualv, Dual)]
#[autodiff_reverse(f_macro_rev, Duplicated, Active)]
pub fn f_plain(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 1..=100_000 {
        let t = k as f64;
        for i in 0..5 {
            s += (p[i] * t).sin() * (p[5 + i] * -t).exp();
        }
    }
    s
}

/// R, plain `f64`, reverse.
#[autodiff_reverse(r_macro_rev, Duplicated, Active)]
pub fn r_plain(x: &[f64]) -> f64 {
    x.iter().map(|v| v.tanh().powi(3) + v * v).sum()
}

/// The gradient of R into `g`, overwriting it, itself differentiated forward: H·v. `DualOnly`
/// on the gradient buffer: only its shadow (H·v) is wanted, so the compiled code neither
/// computes nor stores the gradient (the buffer keeps its contents). The fill makes the
/// gradient, and so H·v, overwrite their buffers: the compiled loop stores H·v without reading
/// the shadow, and the caller need not zero it.
#[autodiff_forward(r_macro_hvp, Dual, DualOnly)]
pub fn r_grad_plain(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    r_macro_rev(x, g, 1.0);
}

/// The same gradient without the fill: it accumulates into `g`, as reverse derivatives do, so
/// H·v accumulates into the shadow, which the caller zeroes.
#[autodiff_forward(r_macro_hvp_acc, Dual, DualOnly)]
pub fn r_grad_acc(x: &[f64], g: &mut [f64]) {
    r_macro_rev(x, g, 1.0);
}

/// `run()` with `ferrad::par` on `threads` threads (0: its default, all the machine's), then
/// back to the default.
pub fn on_threads<R>(threads: usize, run: impl FnOnce() -> R) -> R {
    ferrad::par::set_threads(threads);
    let r = run();
    ferrad::par::set_threads(0);
    r
}

/// `(loss, ∇loss)` of F by the forward attribute: 10 tangents, one pass.
pub fn f_forward(p: &[f64]) -> (f64, Vec<f64>) {
    let n = p.len();
    let mut dirs = vec![0.0; n * n];
    for k in 0..n {
        dirs[k * n + k] = 1.0;
    }
    let out = f_macro_fwd(p, &dirs);
    (out[0], out[1..].to_vec())
}

/// `(loss, ∇loss)` of F by the reverse attribute.
pub fn f_reverse(p: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; p.len()];
    let y = f_macro_rev(p, &mut g, 1.0);
    (y, g)
}

/// `(loss, ∇loss)` of R by the reverse attribute.
pub fn r_reverse(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let y = r_macro_rev(x, &mut g, 1.0);
    (y, g)
}

/// H·v of R by forward over the reverse attribute, into `hv` (resized to `x`'s length; its
/// contents are overwritten). `g` is the gradient buffer of the nested derivative: `DualOnly`,
/// so it is left untouched, and a caller keeps one buffer for every call (as the bench does)
/// instead of allocating `n` floats it never reads; the same for `hv`.
pub fn r_hvp_into(x: &[f64], v: &[f64], g: &mut [f64], hv: &mut Vec<f64>) {
    hv.resize(x.len(), 0.0);
    r_macro_hvp(x, v, g, hv);
}

/// H·v of R by the accumulating gradient, into a fresh zeroed vector.
pub fn r_hvp_acc(x: &[f64], v: &[f64], g: &mut [f64]) -> Vec<f64> {
    let mut hv = vec![0.0; x.len()];
    r_macro_hvp_acc(x, v, g, &mut hv);
    hv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::problems::{h_direction, r_hvp_hand, r_input};

    #[test]
    fn hvp_leaves_the_gradient_buffer_as_it_was() {
        let n = 37;
        let (x, v) = (r_input(n), h_direction(n));
        let mut g: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 3.0).collect();
        let before = g.clone();
        let mut want = vec![0.0; n];
        r_hvp_hand(&x, &v, &mut want);
        let close = |hv: &[f64]| {
            for (a, b) in hv.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "{a} vs {b}");
            }
        };
        let acc = r_hvp_acc(&x, &v, &mut g);
        assert_eq!(g, before);
        close(&acc);
        // the overwriting form, into a buffer holding anything (and of another length)
        let mut hv = vec![f64::NAN; n + 5];
        r_hvp_into(&x, &v, &mut g, &mut hv);
        assert_eq!(g, before);
        assert_eq!(hv.len(), n);
        close(&hv);
        // the two compiled loops compute H·v alike
        assert_eq!(hv, acc);
    }
}
