use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, Active, Active)]
fn f<T: Copy>(x: f64) -> f64 {
    x
}

fn main() {}
