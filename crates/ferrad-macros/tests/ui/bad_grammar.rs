use ferrad_macros::{autodiff_forward, autodiff_reverse};

#[autodiff_reverse]
fn f(x: f64) -> f64 {
    x
}

#[autodiff_reverse(dg, 2, Active, Active)]
fn g(x: f64) -> f64 {
    x
}

#[autodiff_forward(dh, 0, Dual, Dual)]
fn h(x: f64) -> f64 {
    x
}

#[autodiff_forward("dk", Dual, Dual)]
fn k(x: f64) -> f64 {
    x
}

fn main() {}
