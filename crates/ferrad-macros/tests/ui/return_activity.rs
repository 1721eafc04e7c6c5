use ferrad_macros::{autodiff_forward, autodiff_reverse};

#[autodiff_reverse(df, Active, Duplicated)]
fn f(x: f64) -> f64 {
    x * x
}

#[autodiff_forward(dg, Dual, Dual)]
fn g(x: f64) -> usize {
    x as usize
}

fn main() {}
