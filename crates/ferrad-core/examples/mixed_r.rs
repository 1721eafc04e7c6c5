//! Mixed-precision reverse mode on benchmark R (DESIGN §6) at n = 1,000,000: tape memory and
//! gradient error of f16/bf16 partials (f32 adjoints) against the f64 gradient.
//!
//! Run with `cargo run --release -p ferrad-core --example mixed_r [n]`.

use std::time::Instant;

use ferrad_core::mixed::{self, ScalarFn32, Storage};
use ferrad_core::prelude::*;

struct R32;
impl ScalarFn32 for R32 {
    fn eval<T: Real<f32>>(&self, x: &[T]) -> T {
        x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
    }
}

fn r64<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
}

fn errors(g: &[f32], reference: &[f64]) -> (f64, f64) {
    let (mut e2, mut n2, mut max_rel) = (0.0, 0.0, 0.0f64);
    for (&a, &b) in g.iter().zip(reference) {
        let e = (a as f64 - b).abs();
        e2 += e * e;
        n2 += b * b;
        max_rel = max_rel.max(e / b.abs().max(1e-300));
    }
    ((e2 / n2).sqrt(), max_rel)
}

fn run<H: Storage<Value = f32>>(x32: &[f32], g64: &[f64]) {
    let t = Instant::now();
    let (_, g, stats) = mixed::gradient_with::<H>(|v| R32.eval(v), x32);
    let secs = t.elapsed().as_secs_f64();
    let (l2, max_rel) = errors(&g, g64);
    println!(
        "{:<5} {:>9} entries × {:>2} B = {:>8.2} MiB  {secs:>6.3} s  rel L2 error {l2:.2e}  max rel error {max_rel:.2e}",
        H::NAME,
        stats.entries,
        stats.bytes_per_entry,
        stats.bytes as f64 / (1 << 20) as f64
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    println!("benchmark R, n = {n}");
    let t = Instant::now();
    let tape = Tape::<f64>::new();
    let xs = tape.vars(&x);
    let y = r64(&xs);
    let stats = tape.stats();
    let g64 = tape.gradient(y).wrt_all(&xs);
    let secs = t.elapsed().as_secs_f64();
    drop(tape);
    println!(
        "f64   {:>9} entries × {:>4.1} B = {:>8.2} MiB  {secs:>6.3} s  (reference; compact entries, \
         mean size)",
        stats.entries,
        stats.bytes as f64 / stats.entries as f64,
        stats.bytes as f64 / (1 << 20) as f64
    );
    run::<f32>(&x32, &g64);
    run::<half::bf16>(&x32, &g64);
    run::<half::f16>(&x32, &g64);
}
