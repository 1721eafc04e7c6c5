//! `ba`: not implemented yet; every function answers `success: false`.

use serde_json::Value;

use crate::timing::Evaluated;

/// `ba.evaluate`: not implemented yet.
pub fn evaluate(function: &str, _input: &Value) -> Result<Evaluated, String> {
    Err(format!("ba.{function}: not implemented yet in ferrad-gradbench"))
}
