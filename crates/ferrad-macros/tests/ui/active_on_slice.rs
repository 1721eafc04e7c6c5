use ferrad_macros::autodiff_reverse;

#[autodiff_reverse(d_sumsq, Active, Active)]
fn sumsq(x: &[f64]) -> f64 {
    x.iter().map(|&v| v * v).sum()
}

fn main() {}
