//! Sample programs shared by the tests (the seed benchmarks among them).

use ferrad_core::prelude::*;

use crate::ir::Function;
use crate::parse::parse_function;
use crate::trace::{Loop, for_range, trace_fn};

/// Benchmark R: Σ tanh(xᵢ)³ + xᵢ² over a buffer.
pub const R: &str = "\
fn @r(%0: &[f64]) -> (f64) {
  %1: i64 = len %0
  %2: i64 = const 0
  %3: f64 = const 0.0
  %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
    %7: f64 = load %0[%5]
    %8: f64 = tanh %7
    %9: f64 = powi %8, 3
    %10: f64 = mul %7, %7
    %11: f64 = add %9, %10
    %12: f64 = add %6, %11
    yield %12
  }
  return %4
}
";

/// A product over a buffer: the adjoint needs the carried value at every iteration.
pub const PROD: &str = "\
fn @prod(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: f64 = for %5 = %3 to %2 carry(%6 = %1) {
    %7: f64 = load %0[%5]
    %8: f64 = sin %7
    %9: f64 = mul %6, %8
    %10: f64 = add %9, %7
    yield %10
  }
  return %4
}
";

/// A branch with results, and a scalar function of two inputs.
pub const BRANCH: &str = "\
fn @branch(%0: f64, %1: f64) -> (f64) {
  %2: bool = lt %0, %1
  %3: f64 = if %2 {
    %4: f64 = mul %0, %1
    %5: f64 = sin %4
    yield %5
  } else {
    %6: f64 = exp %0
    %7: f64 = div %6, %1
    yield %7
  }
  %8: f64 = mul %3, %0
  return %8
}
";

/// Writes y[i] = x[i]² · s into a mutable buffer, then overwrites y[0]; returns Σ y.
pub const STORE: &str = "\
fn @store(%0: &[f64], %1: &mut [f64], %2: f64) -> (f64) {
  %3: i64 = len %0
  %4: i64 = const 0
  %5: f64 = const 0.0
  %6: f64 = for %7 = %4 to %3 carry(%8 = %5) {
    %9: f64 = load %0[%7]
    %10: f64 = mul %9, %9
    %11: f64 = mul %10, %2
    store %1[%7], %11
    %12: f64 = load %1[%7]
    %13: f64 = add %8, %12
    yield %13
  }
  %14: f64 = load %1[%4]
  %15: f64 = cos %14
  store %1[%4], %15
  return %6
}
";

/// Benchmark F with `n` terms, generic.
pub fn bench_f<T: Real + Loop>(p: &[T], n: i64) -> T {
    for_range(1..n + 1, &[T::zero()], |t, acc| {
        let mut s = acc[0];
        for i in 0..5 {
            s += (t * p[i]).sin() * (-(p[5 + i] * t)).exp();
        }
        vec![s]
    })[0]
}

/// Benchmark F's parameters.
pub const F_P: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05];

/// Benchmark F traced with `n` terms.
pub fn traced_f(n: i64) -> Function {
    trace_fn("f", 10, |p| vec![bench_f(p, n)])
}

/// Parses one of the constants above.
pub fn parse(src: &str) -> Function {
    parse_function(src).unwrap_or_else(|e| panic!("{e}"))
}

/// Nested loops, an `if` on loop-carried data inside, a loop-invariant multiplier.
pub const NESTED: &str = "\
fn @nested(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: i64 = const 3
  %5: f64 = for %6 = %3 to %4 carry(%7 = %1) {
    %8: f64 = for %9 = %3 to %2 carry(%10 = %7) {
      %11: f64 = load %0[%9]
      %12: bool = lt %10, %11
      %13: f64 = if %12 {
        %14: f64 = mul %10, %11
        %15: f64 = sin %14
        yield %15
      } else {
        %16: f64 = add %10, %11
        %17: f64 = cos %16
        yield %17
      }
      %18: f64 = add %13, %10
      yield %18
    }
    %19: f64 = mul %8, %1
    yield %19
  }
  return %5
}
";

/// A custom rule call between primitives.
pub const CUSTOM: &str = "\
fn @custom(%0: f64, %1: f64) -> (f64) {
  %2: f64 = mul %0, %1
  %3: f64, %4: f64 = custom \"polar\"(%2, %1)
  %5: f64 = mul %3, %4
  %6: f64 = sin %5
  return %6
}
";

/// (r cos θ, r sin θ) as a custom rule.
pub struct Polar;

impl CustomRule for Polar {
    fn name(&self) -> &str {
        "polar"
    }
    fn eval(&self, x: &[f64]) -> Vec<f64> {
        vec![x[0] * x[1].cos(), x[0] * x[1].sin()]
    }
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        let (s, c) = x[1].sin_cos();
        vec![dx[0] * c - x[0] * s * dx[1], dx[0] * s + x[0] * c * dx[1]]
    }
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        let (s, c) = x[1].sin_cos();
        vec![w[0] * c + w[1] * s, x[0] * (w[1] * c - w[0] * s)]
    }
}

/// Integer and boolean loop-carried values beside a float one.
pub const COUNTER: &str = "\
fn @counter(%0: f64) -> (f64) {
  %1: i64 = const 0
  %2: i64 = const 4
  %3: i64 = const 1
  %4: bool = const false
  %5: i64, %6: f64, %7: bool = for %8 = %1 to %2 carry(%9 = %1, %10 = %0, %11 = %4) {
    %12: i64 = iadd %9, %3
    %13: f64 = cast %12
    %14: f64 = mul %10, %13
    %15: f64 = sin %14
    %16: f64 = select %11, %15, %14
    %17: bool = lt %16, %10
    yield %12, %16, %17
  }
  return %6
}
";

/// Sums in nested loops: an outer `sub` sum whose body holds an inner `add` sum (the SIMD
/// emitter splits the inner one into lanes and keeps the outer one sequential).
pub const LANES: &str = "\
fn @lanes(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: f64 = const 0.5
  %5: f64 = const 0.0
  %6: f64 = for %7 = %3 to %2 carry(%8 = %4) {
    %9: f64 = load %0[%7]
    %10: f64 = for %11 = %3 to %2 carry(%12 = %5) {
      %13: f64 = load %1[%11]
      %14: f64 = mul %9, %13
      %15: f64 = sin %14
      %16: f64 = add %12, %15
      yield %16
    }
    %17: f64 = mul %10, %9
    %18: f64 = sub %8, %17
    yield %18
  }
  return %6
}
";

/// Lagged products `Σ_b Σ_{r ∈ b+1..n} x_r·x_{r−b−1}·y_b`: the inner loop starts at the outer
/// index plus one (gmm's triangular sums), a bound the emitter proves non-negative, so the
/// inner sum runs in lanes.
pub const LAGGED: &str = "\
fn @lagged(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: i64 = const 1
  %5: f64 = const 0.0
  %6: f64 = for %7 = %3 to %2 carry(%8 = %5) {
    %9: i64 = iadd %7, %4
    %10: f64 = for %11 = %9 to %2 carry(%12 = %5) {
      %13: f64 = load %0[%11]
      %14: i64 = isub %11, %9
      %15: f64 = load %0[%14]
      %16: f64 = mul %13, %15
      %17: f64 = add %12, %16
      yield %17
    }
    %18: f64 = load %1[%7]
    %19: f64 = mul %10, %18
    %20: f64 = add %8, %19
    yield %20
  }
  return %6
}
";

/// Dot products of columns of a packed triangle (gmm's weighted beta sums): column `b` starts
/// at a carried offset `%10` (here `b`, so the columns overlap), and `Σ_{r>b} x[sb + r − b − 1]
/// · x[r − b − 1]`, weighted by `y[b]`. The VJP adds into two windows of `x`'s adjoint at offsets invariant in the
/// inner loop, which the SIMD emitter runs as slices when they are disjoint (large `b`) and as
/// the loop it was when they overlap (small `b`; at `b = 0` they are the same window).
pub const PACKED: &str = "\
fn @packed(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %1
  %3: i64 = const 0
  %4: i64 = const 1
  %5: f64 = const 0.0
  %6: f64, %7: i64 = for %8 = %3 to %2 carry(%9 = %5, %10 = %3) {
    %11: i64 = iadd %8, %4
    %12: f64 = for %13 = %11 to %2 carry(%14 = %5) {
      %15: i64 = iadd %10, %13
      %16: i64 = isub %15, %11
      %17: f64 = load %0[%16]
      %18: i64 = isub %13, %11
      %19: f64 = load %0[%18]
      %20: f64 = mul %17, %19
      %21: f64 = add %14, %20
      yield %21
    }
    %22: f64 = load %1[%8]
    %23: f64 = mul %12, %22
    %24: f64 = add %9, %23
    %25: i64 = iadd %10, %4
    yield %24, %25
  }
  return %6
}
";

/// A first-order recurrence over `1..n` (ode's Runge–Kutta stages): the carried `%9` is last
/// iteration's stage, the sum `%8` reads `x[i − 1]` too. Its VJP caches the stage at `i − 1`
/// and runs backwards with a carried adjoint: both loops run in windows in their own order.
pub const RECUR: &str = "\
fn @recur(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 1
  %4: f64 = const 0.0
  %22: i64 = const 0
  %5: f64 = load %1[%22]
  %6: f64, %7: f64 = for %10 = %3 to %2 carry(%8 = %4, %9 = %5) {
    %11: f64 = load %0[%10]
    %12: i64 = isub %10, %3
    %13: f64 = load %0[%12]
    %14: f64 = mul %11, %9
    %15: f64 = add %14, %13
    %16: f64 = sin %15
    %17: f64 = load %1[%10]
    %18: f64 = mul %17, %16
    %19: f64 = add %8, %18
    %20: f64 = mul %9, %17
    %21: f64 = add %20, %11
    yield %19, %21
  }
  return %6
}
";

/// Products of neighbours, `Σ_{i < n−2} x[i]·x[i+1]·x[i+2]·y[i+1]`: the bound `n − 2` is not
/// provably non-negative, so the index counts in `i64`, and the windows start at computed `i64`
/// offsets; the VJP adds into three overlapping windows of `x`'s adjoint, which the emitted
/// helper refuses, so that loop runs as it was.
pub const STENCIL: &str = "\
fn @stencil(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 1
  %17: i64 = const 2
  %4: i64 = isub %2, %17
  %5: i64 = const 0
  %6: f64 = const 0.0
  %7: f64 = for %8 = %5 to %4 carry(%9 = %6) {
    %10: f64 = load %0[%8]
    %11: i64 = iadd %8, %3
    %12: f64 = load %0[%11]
    %13: f64 = load %1[%11]
    %18: i64 = iadd %8, %17
    %19: f64 = load %0[%18]
    %14: f64 = mul %10, %12
    %15: f64 = mul %14, %13
    %20: f64 = mul %15, %19
    %16: f64 = add %9, %20
    yield %16
  }
  return %7
}
";

/// A loop at `i + 1` that also carries `i + 1` out (its last value scales the sum): a windowed
/// loop must still compute an index value that a carried value yields, and the loop index when
/// a yield is the index itself.
pub const CARRYIDX: &str = "\
fn @carryidx(%0: &[f64], %1: &[f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 1
  %4: i64 = isub %2, %3
  %5: i64 = const 0
  %6: f64 = const 0.0
  %7: f64, %8: i64, %19: i64 = for %9 = %5 to %4 carry(%10 = %6, %11 = %5, %20 = %5) {
    %12: i64 = iadd %9, %3
    %13: f64 = load %0[%12]
    %14: f64 = load %1[%9]
    %15: f64 = mul %13, %14
    %16: f64 = mul %10, %13
    %21: f64 = add %16, %15
    yield %21, %12, %9
  }
  %17: f64 = cast %8
  %22: f64 = cast %19
  %18: f64 = mul %7, %17
  %23: f64 = add %18, %22
  return %23
}
";

/// Three coordinates stored as one buffer of three blocks (`x[i]`, `x[n + i]`, `x[2n + i]`,
/// n = ⌊len/3⌋ counted by a loop): the sum loop stores into three windows of `%2`, the VJP's
/// adjoint loop adds into three windows of `%0`'s adjoint; both cut by the emitted helper.
pub const SOA: &str = "\
fn @soa(%0: &[f64], %1: &[f64], %2: &mut [f64]) -> (f64) {
  %3: i64 = len %0
  %4: i64 = const 0
  %5: i64 = const 1
  %6: i64 = const 3
  %7: f64 = const 0.0
  %8: i64 = for %9 = %4 to %3 carry(%10 = %4) {
    %11: i64 = imul %9, %6
    %12: i64 = iadd %11, %6
    %13: bool = le %12, %3
    %14: i64 = select %13, %5, %4
    %15: i64 = iadd %10, %14
    yield %15
  }
  %16: i64 = iadd %8, %8
  %17: f64 = for %18 = %4 to %8 carry(%19 = %7) {
    %20: f64 = load %0[%18]
    %21: i64 = iadd %8, %18
    %22: f64 = load %0[%21]
    %23: i64 = iadd %16, %18
    %24: f64 = load %0[%23]
    %25: f64 = load %1[%18]
    %26: f64 = mul %20, %22
    %27: f64 = mul %22, %24
    %28: f64 = add %26, %27
    %29: f64 = mul %25, %28
    store %2[%18], %26
    store %2[%21], %27
    store %2[%23], %29
    %30: f64 = add %19, %29
    yield %30
  }
  return %17
}
";

/// A sum loop that reads `y[i + 1]` and stores `y[i]`: two windows of one stored buffer that
/// overlap, so the loop that would run in lanes runs as it was, its sum sequential.
pub const OVERLAP: &str = "\
fn @overlap(%0: &[f64], %1: &mut [f64]) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 1
  %4: i64 = isub %2, %3
  %5: i64 = const 0
  %6: f64 = const 0.0
  %7: f64 = for %8 = %5 to %4 carry(%9 = %6) {
    %10: f64 = load %0[%8]
    %11: i64 = iadd %8, %3
    %12: f64 = load %1[%11]
    %13: f64 = mul %10, %12
    store %1[%8], %13
    %14: f64 = add %9, %13
    yield %14
  }
  return %7
}
";

/// LogSumExp with a constant shift `%1`: `ln Σ exp(xᵢ − a) + a`. The adjoint loop needs
/// `exp(xᵢ − a)` and the sum, which only the forward loop's end gives, so the two loops cannot
/// fuse: this is where storing `exp` beats recomputing it.
pub const LSE: &str = "\
fn @lse(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: f64 = const 0.0
  %5: f64 = for %6 = %3 to %2 carry(%7 = %4) {
    %8: f64 = load %0[%6]
    %9: f64 = sub %8, %1
    %10: f64 = exp %9
    %11: f64 = add %7, %10
    yield %11
  }
  %12: f64 = ln %5
  %13: f64 = add %12, %1
  return %13
}
";

/// A recurrence `h ← tanh(h·xⱼ + xⱼ)` over the buffer, run three times with `h` scaled by
/// `%1` in between: the inner loop's checkpoints and `tanh` cache are scratch buffers of the
/// outer adjoint loop (allocated once, outside it).
pub const NESTED_TANH: &str = "\
fn @nested_tanh(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: i64 = const 3
  %5: f64 = for %6 = %3 to %4 carry(%7 = %1) {
    %8: f64 = for %9 = %3 to %2 carry(%10 = %7) {
      %11: f64 = load %0[%9]
      %12: f64 = mul %10, %11
      %13: f64 = add %12, %11
      %14: f64 = tanh %13
      yield %14
    }
    %15: f64 = mul %8, %1
    %16: f64 = exp %15
    yield %16
  }
  return %5
}
";

/// A triangular nest: the inner loop runs `0..i`, so its buffers' size changes with the outer
/// index and they must stay inside the outer adjoint loop.
pub const TRIANGLE: &str = "\
fn @triangle(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: f64 = for %5 = %3 to %2 carry(%6 = %1) {
    %7: f64 = for %8 = %3 to %5 carry(%9 = %6) {
      %10: f64 = load %0[%8]
      %11: f64 = mul %9, %10
      %12: f64 = sin %11
      %13: f64 = exp %12
      %14: f64 = add %13, %9
      yield %14
    }
    %15: f64 = load %0[%5]
    %16: f64 = add %7, %15
    yield %16
  }
  return %4
}
";
