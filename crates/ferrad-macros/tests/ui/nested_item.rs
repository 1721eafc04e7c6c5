use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, Active, Active)]
fn f(x: f64) -> f64 {
    fn helper(v: f64) -> f64 {
        v * 2.0
    }
    helper(x)
}

fn main() {}
