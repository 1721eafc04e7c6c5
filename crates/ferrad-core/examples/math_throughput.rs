//! Throughput of std vs `ferrad_core::math` in a plain loop over 10^6 elements, f64 and f32:
//! ns per element (best of several runs) and the speed-up. The ferrad loops vectorize; std's
//! calls into libm do not.
//!
//! `cargo run --release -p ferrad-core --example math_throughput`

use ferrad_core::math;
use ferrad_core::math::accuracy::Rng;
use std::hint::black_box;
use std::time::Instant;

const N: usize = 1_000_000;
const REPS: usize = 9;

/// Best-of-REPS ns/element of `a` and of `b` applied over `x` into `y`, the two runs
/// interleaved so that load from other processes hits both alike.
fn time<T: Copy, U: Copy>(
    x: &[T],
    y: &mut [U],
    a: impl Fn(&[T], &mut [U]),
    b: impl Fn(&[T], &mut [U]),
) -> (f64, f64) {
    let (mut ba, mut bb) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..REPS {
        let t = Instant::now();
        a(black_box(x), y);
        black_box(&mut *y);
        ba = ba.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        b(black_box(x), y);
        black_box(&mut *y);
        bb = bb.min(t.elapsed().as_secs_f64());
    }
    let n = x.len() as f64;
    (ba * 1e9 / n, bb * 1e9 / n)
}

macro_rules! map1 {
    ($f:expr) => {
        |x: &[_], y: &mut [_]| {
            for (o, &v) in y.iter_mut().zip(x) {
                *o = $f(v);
            }
        }
    };
}

macro_rules! map2 {
    ($f:expr) => {
        |x: &[(_, _)], y: &mut [_]| {
            for (o, &(a, b)) in y.iter_mut().zip(x) {
                *o = $f(a, b);
            }
        }
    };
}

struct Line {
    name: &'static str,
    domain: &'static str,
    std64: f64,
    ours64: f64,
    std32: f64,
    ours32: f64,
}

fn inputs(rng: &mut Rng, lo: f64, hi: f64) -> (Vec<f64>, Vec<f32>) {
    let a: Vec<f64> = (0..N).map(|_| rng.uniform(lo, hi)).collect();
    let b = a.iter().map(|&v| v as f32).collect();
    (a, b)
}

fn main() {
    let mut rng = Rng::new(42);
    let mut y64 = vec![0.0f64; N];
    let mut y32 = vec![0.0f32; N];
    let mut lines = Vec::new();
    macro_rules! one {
        ($name:expr, $lo:expr, $hi:expr, $std64:expr, $ours64:expr, $std32:expr, $ours32:expr) => {{
            let (x64, x32) = inputs(&mut rng, $lo, $hi);
            let (std64, ours64) = time(&x64, &mut y64, map1!($std64), map1!($ours64));
            let (std32, ours32) = time(&x32, &mut y32, map1!($std32), map1!($ours32));
            lines.push(Line {
                name: $name,
                domain: concat!("[", stringify!($lo), ", ", stringify!($hi), "]"),
                std64,
                ours64,
                std32,
                ours32,
            });
        }};
    }
    one!(
        "exp",
        -20.0,
        20.0,
        f64::exp,
        math::exp,
        f32::exp,
        math::exp_f32
    );
    one!(
        "exp_m1",
        -2.0,
        2.0,
        f64::exp_m1,
        math::exp_m1,
        f32::exp_m1,
        math::exp_m1_f32
    );
    one!("ln", 1e-3, 1e3, f64::ln, math::ln, f32::ln, math::ln_f32);
    one!(
        "ln_1p",
        -0.5,
        10.0,
        f64::ln_1p,
        math::ln_1p,
        f32::ln_1p,
        math::ln_1p_f32
    );
    one!(
        "sin",
        -10.0,
        10.0,
        f64::sin,
        math::sin,
        f32::sin,
        math::sin_f32
    );
    one!(
        "cos",
        -10.0,
        10.0,
        f64::cos,
        math::cos,
        f32::cos,
        math::cos_f32
    );
    one!(
        "sin_cos (s+c)",
        -10.0,
        10.0,
        |v: f64| {
            let (s, c) = v.sin_cos();
            s + c
        },
        |v: f64| {
            let (s, c) = math::sin_cos(v);
            s + c
        },
        |v: f32| {
            let (s, c) = v.sin_cos();
            s + c
        },
        |v: f32| {
            let (s, c) = math::sin_cos_f32(v);
            s + c
        }
    );
    one!(
        "tan",
        -1.5,
        1.5,
        f64::tan,
        math::tan,
        f32::tan,
        math::tan_f32
    );
    one!(
        "tanh",
        -5.0,
        5.0,
        f64::tanh,
        math::tanh,
        f32::tanh,
        math::tanh_f32
    );
    one!(
        "sinh",
        -5.0,
        5.0,
        f64::sinh,
        math::sinh,
        f32::sinh,
        math::sinh_f32
    );
    one!(
        "cosh",
        -5.0,
        5.0,
        f64::cosh,
        math::cosh,
        f32::cosh,
        math::cosh_f32
    );
    one!(
        "atan",
        -10.0,
        10.0,
        f64::atan,
        math::atan,
        f32::atan,
        math::atan_f32
    );
    one!(
        "asin",
        -1.0,
        1.0,
        f64::asin,
        math::asin,
        f32::asin,
        math::asin_f32
    );
    one!(
        "acos",
        -1.0,
        1.0,
        f64::acos,
        math::acos,
        f32::acos,
        math::acos_f32
    );
    one!(
        "cbrt",
        -1e3,
        1e3,
        f64::cbrt,
        math::cbrt,
        f32::cbrt,
        math::cbrt_f32
    );
    macro_rules! two {
        ($name:expr, $dom:expr, $gen:expr, $std64:expr, $ours64:expr, $std32:expr, $ours32:expr) => {{
            let x64: Vec<(f64, f64)> = (0..N).map(|_| $gen(&mut rng)).collect();
            let x32: Vec<(f32, f32)> = x64.iter().map(|&(a, b)| (a as f32, b as f32)).collect();
            let (std64, ours64) = time(&x64, &mut y64, map2!($std64), map2!($ours64));
            let (std32, ours32) = time(&x32, &mut y32, map2!($std32), map2!($ours32));
            lines.push(Line {
                name: $name,
                domain: $dom,
                std64,
                ours64,
                std32,
                ours32,
            });
        }};
    }
    two!(
        "atan2",
        "[-10, 10]²",
        |r: &mut Rng| (r.uniform(-10.0, 10.0), r.uniform(-10.0, 10.0)),
        f64::atan2,
        math::atan2,
        f32::atan2,
        math::atan2_f32
    );
    two!(
        "powf",
        "x in [0, 10], y in [-10, 10]",
        |r: &mut Rng| (r.uniform(0.0, 10.0), r.uniform(-10.0, 10.0)),
        f64::powf,
        math::powf,
        f32::powf,
        math::powf_f32
    );
    println!("{} elements, best of {REPS} runs, ns/element\n", N);
    println!(
        "| function | inputs | f64 std | f64 ferrad | f64 speed-up | f32 std | f32 ferrad | f32 speed-up |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for l in &lines {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.1}× | {:.2} | {:.2} | {:.1}× |",
            l.name,
            l.domain,
            l.std64,
            l.ours64,
            l.std64 / l.ours64,
            l.std32,
            l.ours32,
            l.std32 / l.ours32
        );
    }
}
