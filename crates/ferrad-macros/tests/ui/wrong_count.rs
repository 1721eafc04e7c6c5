use ferrad_macros::autodiff_forward;

#[autodiff_forward(df, Dual, Dual)]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

#[autodiff_forward(dg, Dual, Dual, Dual)]
fn g(x: f64, out: &mut f64) {
    *out = x;
}

fn main() {}
