//! `ferrad-gradbench`: a GradBench tool. Reads one JSON message per line on stdin and answers
//! each with one JSON line on stdout (flushed); see the crate documentation.

use std::io::{BufRead, Write};

fn main() {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut tool = ferrad_gradbench::Tool::new();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = tool.handle_line(&line);
        if writeln!(out, "{reply}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}
