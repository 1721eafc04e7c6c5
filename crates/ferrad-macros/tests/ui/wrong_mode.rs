use ferrad_macros::{autodiff_forward, autodiff_reverse};

#[autodiff_reverse(df, Dual, Active)]
fn f(x: f64) -> f64 {
    x * x
}

#[autodiff_forward(dg, Active, Dual)]
fn g(x: f64) -> f64 {
    x * x
}

fn main() {}
