//! Writes the f64 arguments the accuracy harness evaluates one `ferrad_core::math` function at,
//! with our results, as little-endian f64 records `a, b, result…` (`b` is the second argument
//! of atan2/powf, 0 otherwise; sin_cos has two results). `tools/mpfr_accuracy.py` reads them
//! and measures the errors against MPFR.
//!
//! `cargo run --release -p ferrad-core --example math_points -- NAME POINTS FILE`
//!
//! `NAME@fma` (`exp@fma`, `tanh@fma`) writes the results of the variant that
//! `ferrad_core::simd::Isa::AVX2_FMA` computes (the AVX2 + FMA copy of `dispatch`; outside it
//! `mul_add` is libm's `fma`, which rounds the same).

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, name, points, file] = &args[..] else {
        eprintln!("usage: math_points NAME POINTS FILE");
        std::process::exit(2);
    };
    let (name, fma) = match name.strip_suffix("@fma") {
        Some(base) => (base, true),
        None => (name.as_str(), false),
    };
    let variant: Option<fn(f64) -> f64> = match (fma, name) {
        (false, _) => None,
        (true, "exp") => Some(|x| ferrad_core::simd::Isa::AVX2_FMA.exp(x)),
        (true, "tanh") => Some(|x| ferrad_core::simd::Isa::AVX2_FMA.tanh(x)),
        (true, _) => {
            eprintln!("{name} has no FMA variant (exp and tanh do)");
            std::process::exit(2);
        }
    };
    let Some(name) = ferrad_core::math::accuracy::names()
        .into_iter()
        .find(|n| *n == name)
    else {
        eprintln!(
            "unknown function {name}; one of {:?}",
            ferrad_core::math::accuracy::names()
        );
        std::process::exit(2);
    };
    let points: u64 = points.parse().expect("POINTS is a number");
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).expect("FILE is writable"));
    ferrad_core::math::accuracy::for_each_f64(name, points, 2026, |a, b, results| {
        let fused = variant.map(|f| [f(a)]);
        let results = fused.as_ref().map_or(results, |r| &r[..]);
        for v in [a, b].iter().chain(results) {
            out.write_all(&v.to_le_bytes()).expect("write");
        }
    });
    out.flush().expect("write");
}
