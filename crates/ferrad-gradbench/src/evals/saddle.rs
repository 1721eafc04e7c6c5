//! `saddle`: not implemented yet; every function answers `success: false`.

use serde_json::Value;

use crate::timing::Evaluated;

/// `saddle.evaluate`: not implemented yet.
pub fn evaluate(function: &str, _input: &Value) -> Result<Evaluated, String> {
    Err(format!("saddle.{function}: not implemented yet in ferrad-gradbench"))
}
