use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, Duplicated, Active)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
