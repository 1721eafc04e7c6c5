//! `hello`: `square(x) = x²` and its derivative `double(x) = 2x`.
//!
//! Mode: forward ([`ferrad::derivative`], one [`Dual`] pass) — one input, one output, so a single
//! tangent gives the whole derivative with no tape.

use ferrad::prelude::*;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

/// `x²`, generic over the number type.
pub fn square<T: Real>(x: T) -> T {
    x * x
}

/// `hello.evaluate`: `square` or `double`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let x: f64 = parse("hello", input)?;
    let runs = Runs::from_input(input)?;
    match function {
        "square" => Ok(prep.run(runs, || square(x), |y| json!(y))),
        "double" => Ok(prep.run(runs, || ferrad::derivative(square, x).1, |y| json!(y))),
        _ => Err(super::unknown_function(
            "hello",
            function,
            &["square", "double"],
        )),
    }
}
