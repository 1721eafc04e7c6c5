use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, Duplicated, Active)]
fn f(x: &[[f64; 2]]) -> f64 {
    x[0][0]
}

fn main() {}
