use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(df, Active)]
struct S {
    x: f64,
}

fn main() {}
