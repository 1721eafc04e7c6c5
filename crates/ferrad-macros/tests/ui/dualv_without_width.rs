use ferrad_macros::autodiff_forward;

#[autodiff_forward(df, Dualv, Dual)]
fn f(x: &[f64]) -> f64 {
    x[0] * x[1]
}

#[autodiff_forward(dg, 4, Dualv, Dual)]
fn g(x: f64) -> f64 {
    x * x
}

fn main() {}
