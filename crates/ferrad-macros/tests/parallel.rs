//! Parallel loops in compiled derivatives (the `parallel` feature, on through `ferrad`'s
//! default features): above `2 × ferrad::par::LOOP_CHUNK` iterations a loop runs in fixed
//! chunks on `ferrad::par`'s threads, and its results are the same bits at every thread count.
//!
//! `ferrad::par::set_threads` is global: one test owns it (this file is its own process).

// Index loops are the subset the compiled backend takes, written as users write them.
#![allow(clippy::needless_range_loop)]

use ferrad::par::{LOOP_CHUNK, set_threads};
use ferrad_macros::{autodiff_forward, autodiff_reverse};

/// R of DESIGN §6: Σ tanh³(xᵢ) + xᵢ².
#[autodiff_reverse(d_r, Duplicated, Active)]
fn r(x: &[f64]) -> f64 {
    x.iter().map(|v| v.tanh().powi(3) + v * v).sum()
}

/// The gradient of R, differentiated forward: H·v in one fused loop.
#[autodiff_forward(r_hvp, Dual, Dual)]
fn r_grad(x: &[f64], g: &mut [f64]) {
    d_r(x, g, 1.0);
}

/// A body that uses its index beyond the buffers (the chunk's start plus its counter).
#[autodiff_reverse(d_w, Duplicated, Active)]
fn w(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] * (1.0 + i as f64 * 1e-6)).sin();
    }
    s
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// `(y, ∇y)` of R, ∇w, and H·v of R at `x`.
fn run(x: &[f64], v: &[f64]) -> (f64, Vec<f64>, f64, Vec<f64>, Vec<f64>) {
    let n = x.len();
    let mut g = vec![0.0; n];
    let y = d_r(x, &mut g, 1.0);
    let mut gw = vec![0.0; n];
    let yw = d_w(x, &mut gw, 1.0);
    let (mut g2, mut hv) = (vec![0.0; n], vec![0.0; n]);
    r_hvp(x, v, &mut g2, &mut hv);
    (y, g, yw, gw, hv)
}

#[test]
fn chunked_loops_are_the_same_bits_at_every_thread_count() {
    assert_eq!(__FERRAD_BACKEND_d_r, "ir");
    assert_eq!(__FERRAD_BACKEND_d_w, "ir");
    // several chunks and a ragged last one; and one below the threshold
    for n in [5 * LOOP_CHUNK + 77, 2 * LOOP_CHUNK - 1] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 1.5).collect();
        let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut results = vec![];
        for threads in [1, 2, 3] {
            set_threads(threads);
            results.push(run(&x, &v));
        }
        set_threads(0);
        results.push(run(&x, &v));
        for r in &results[1..] {
            // same bits (PartialEq on f64 would also accept -0.0 == 0.0)
            let bits = |r: &(f64, Vec<f64>, f64, Vec<f64>, Vec<f64>)| {
                let mut b = vec![r.0.to_bits(), r.2.to_bits()];
                for s in [&r.1, &r.3, &r.4] {
                    b.extend(s.iter().map(|v| v.to_bits()));
                }
                b
            };
            assert_eq!(bits(r), bits(&results[0]), "n={n}");
        }
        // against the sequential sums and the hand-written derivatives
        let (y, g, yw, gw, hv) = &results[0];
        assert!(rel(*y, r(&x)) < 1e-12, "n={n}: {y} vs {}", r(&x));
        assert!(rel(*yw, w(&x)) < 1e-12, "n={n}: {yw} vs {}", w(&x));
        for i in 0..n {
            let t = x[i].tanh();
            let s = 1.0 - t * t;
            let want = 3.0 * t * t * s + 2.0 * x[i];
            assert!(rel(g[i], want) < 1e-12, "n={n} g[{i}]: {} vs {want}", g[i]);
            let h = 6.0 * t * s * s - 6.0 * t * t * t * s + 2.0;
            assert!(
                (hv[i] - h * v[i]).abs() < 1e-12 * (1.0 + (h * v[i]).abs()),
                "n={n} hv[{i}]"
            );
            let c = 1.0 + i as f64 * 1e-6;
            let want = (x[i] * c).cos() * c;
            assert!((gw[i] - want).abs() < 1e-12, "n={n} gw[{i}]");
        }
    }
}
