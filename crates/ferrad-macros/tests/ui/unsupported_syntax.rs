use ferrad_macros::{autodiff_forward, autodiff_reverse};

#[autodiff_reverse(df, Active, Active)]
fn f((a, _b): (f64, f64)) -> f64 {
    a
}

#[autodiff_forward(dg, Dual, Dual)]
async fn g(x: f64) -> f64 {
    x
}

struct S;
impl S {
    #[autodiff_reverse(dh, Const, Active, Active)]
    fn h(&self, x: f64) -> f64 {
        x
    }
}

#[autodiff_forward(dk, Dual, Dual, Dual)]
fn k(x: f64, y: (f64, f64)) -> f64 {
    x + y.0
}

fn main() {}
