use ferrad_core::prelude::*;

use crate::interp::eval_f64;
use crate::parse::parse_function;
use crate::print::print_function;
use crate::trace::{Loop, for_range, trace_fn};

fn small_f<T: Real + Loop>(p: &[T]) -> T {
    for_range(1..4, &[T::zero()], |t, acc| {
        let mut s = acc[0];
        for i in 0..2 {
            s += (t * p[i]).sin() * (-(p[2 + i] * t)).exp();
        }
        vec![s]
    })[0]
}

#[test]
fn trace_print_parse_interp() {
    let f = trace_fn("small_f", 4, |x| vec![small_f(x)]);
    let text = print_function(&f);
    let g = parse_function(&text).unwrap();
    assert_eq!(print_function(&g), text);
    let x = [0.1, 0.2, 0.01, 0.02];
    let want = small_f(&x);
    assert_eq!(eval_f64(&g, &x).unwrap(), vec![want]);
}

#[test]
fn abs_rule_traces_to_selects() {
    let f = trace_fn("abs", 1, |x| vec![x[0].abs(), x[0].max(x[0] * 2.0)]);
    for x in [-2.0, 0.0, 3.0] {
        assert_eq!(
            eval_f64(&f, &[x]).unwrap(),
            vec![f64::abs(x), f64::max(x, 2.0 * x)]
        );
    }
}

#[test]
fn benchmark_f_traces_to_one_loop_not_half_a_million_operations() {
    let f = super::progs::traced_f(100_000);
    assert!(f.inst_count() < 50, "{} instructions", f.inst_count());
    let loops = f
        .op_counts()
        .into_iter()
        .find(|(k, _)| k == "for")
        .map(|(_, n)| n);
    assert_eq!(loops, Some(1));
    let text = print_function(&f);
    assert!(text.contains("%12: i64 = const 100001"), "{text}");
}
