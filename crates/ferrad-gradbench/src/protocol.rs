//! The GradBench protocol: `start`, `define`, `evaluate` and `analysis` messages.
//!
//! [`Tool::handle_line`] turns one message line into one reply line. Evaluation runs inside
//! `catch_unwind`, so a panic deep inside an eval (an index out of range on inconsistent input)
//! becomes `success: false` with the panic message instead of killing the tool.
//!
//! Invariant: every message gets exactly one reply carrying its `id`.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

use crate::evals;

/// The protocol state: the modules the eval has defined so far.
#[derive(Debug, Default)]
pub struct Tool {
    defined: BTreeSet<String>,
}

impl Tool {
    /// A tool with nothing defined yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers one message (a line of JSON) with one line of JSON.
    pub fn handle_line(&mut self, line: &str) -> String {
        match serde_json::from_str::<Value>(line) {
            Ok(msg) => self.handle(&msg).to_string(),
            Err(e) => {
                json!({"id": null, "success": false, "error": format!("message is not JSON: {e}")})
                    .to_string()
            }
        }
    }

    /// Answers one parsed message.
    pub fn handle(&mut self, msg: &Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let kind = msg.get("kind").and_then(Value::as_str).unwrap_or("");
        match kind {
            "start" => json!({"id": id, "tool": "ferrad"}),
            "define" => {
                let Some(module) = msg.get("module").and_then(Value::as_str) else {
                    return json!({"id": id, "success": false, "error": "define: no \"module\" string"});
                };
                if evals::MODULES.contains(&module) {
                    self.defined.insert(module.to_owned());
                    json!({"id": id, "success": true})
                } else {
                    json!({
                        "id": id,
                        "success": false,
                        "error": format!(
                            "unknown module {module:?}; ferrad-gradbench implements {}",
                            evals::MODULES.join(", ")
                        ),
                    })
                }
            }
            "evaluate" => self.evaluate(id, msg),
            _ => json!({"id": id}),
        }
    }

    fn evaluate(&mut self, id: Value, msg: &Value) -> Value {
        let module = msg.get("module").and_then(Value::as_str);
        let function = msg.get("function").and_then(Value::as_str);
        let (Some(module), Some(function)) = (module, function) else {
            return json!({"id": id, "success": false, "error": "evaluate: needs \"module\" and \"function\" strings"});
        };
        if !self.defined.contains(module) && !evals::MODULES.contains(&module) {
            return json!({"id": id, "success": false, "error": format!("module {module:?} is not defined")});
        }
        let input = msg.get("input").unwrap_or(&Value::Null);
        let result = catch_unwind(AssertUnwindSafe(|| {
            evals::evaluate(module, function, input)
        }));
        match result {
            Ok(Ok(done)) => json!({
                "id": id,
                "success": true,
                "output": done.output,
                "timings": done.timings,
            }),
            Ok(Err(error)) => json!({"id": id, "success": false, "error": error}),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown panic".to_owned());
                json!({"id": id, "success": false, "error": format!("{module}.{function} panicked: {what}")})
            }
        }
    }
}
