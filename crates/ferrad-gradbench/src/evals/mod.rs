//! The evals, one module each, and the dispatch from a module name to its `evaluate`.
//!
//! Every eval module exposes `evaluate(function, input) -> Result<Evaluated, String>`: it
//! converts the JSON input (timed as `prepare`), runs the requested function per the protocol's
//! `Runs`, and serialises the output outside the timed region.

use serde_json::Value;

use crate::timing::Evaluated;

pub mod ba;
pub mod det;
pub mod gmm;
pub mod hello;
pub mod ht;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod ode;
pub mod particle;
pub mod saddle;

/// The modules this tool implements.
pub const MODULES: [&str; 12] = [
    "hello", "lse", "llsq", "ode", "det", "gmm", "kmeans", "lstm", "ba", "ht", "particle", "saddle",
];

/// Runs `module.function` on `input`.
pub fn evaluate(module: &str, function: &str, input: &Value) -> Result<Evaluated, String> {
    match module {
        "hello" => hello::evaluate(function, input),
        "lse" => lse::evaluate(function, input),
        "llsq" => llsq::evaluate(function, input),
        "ode" => ode::evaluate(function, input),
        "det" => det::evaluate(function, input),
        "gmm" => gmm::evaluate(function, input),
        "kmeans" => kmeans::evaluate(function, input),
        "lstm" => lstm::evaluate(function, input),
        "ba" => ba::evaluate(function, input),
        "ht" => ht::evaluate(function, input),
        "particle" => particle::evaluate(function, input),
        "saddle" => saddle::evaluate(function, input),
        _ => Err(format!("unknown module {module:?}")),
    }
}

/// The error for a function name an eval does not have.
pub(crate) fn unknown_function(module: &str, function: &str, known: &[&str]) -> String {
    format!(
        "{module}: unknown function {function:?} (expected one of {})",
        known.join(", ")
    )
}
