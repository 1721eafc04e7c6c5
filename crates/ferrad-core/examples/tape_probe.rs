use ferrad_core::prelude::*;
use std::time::Instant;
fn r<T: Real>(x: &[T]) -> T { x.iter().map(|&v| v.tanh().powi(3) + v * v).sum() }
fn main() {
    let n = 1_000_000;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    for _ in 0..3 {
        let t = Instant::now(); let y = r(&x); let tp = t.elapsed();
        let t = Instant::now();
        let tape = Tape::<f64>::new(); let xs = tape.vars(&x); let yv = r(&xs);
        let trec = t.elapsed();
        let t = Instant::now();
        let g = tape.adjoints_wrt(&[(yv, 1.0)], &xs);
        let tsw = t.elapsed();
        drop(tape);
        println!("primal {:?} record {:?} sweep {:?} {}", tp, trec, tsw, y + g[0]);
    }
}
