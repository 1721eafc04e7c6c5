//! `kmeans`: not implemented yet; every function answers `success: false`.

use serde_json::Value;

use crate::timing::Evaluated;

/// `kmeans.evaluate`: not implemented yet.
pub fn evaluate(function: &str, _input: &Value) -> Result<Evaluated, String> {
    Err(format!("kmeans.{function}: not implemented yet in ferrad-gradbench"))
}
