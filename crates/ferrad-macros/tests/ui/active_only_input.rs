use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, ActiveOnly, Active)]
fn f(x: f64) -> f64 {
    x
}

#[autodiff_reverse(dg, Const, Active)]
fn g(n: usize) -> usize {
    n
}

fn main() {}
