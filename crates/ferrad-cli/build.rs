//! Differentiates the seed benchmarks written in ferrad-ir text (`ir/f.ir`, `ir/r.ir`) with the
//! compiler and writes the emitted Rust to `$OUT_DIR/ir_emitted.rs`, which the `ir-*` bench
//! modes include: what rustc compiles there is exactly what `ferrad_ir::diff_text` emits with
//! the SIMD shaping the attributes use (`simd: Simd::ON`; `ferrad diff --emit rust` prints
//! the same code without that shaping, its default).

use std::path::PathBuf;

use ferrad_ir::{DiffOptions, EmitKind, Mode, Simd, diff_text};

fn emit(file: &str, mode: Mode, width: usize) -> String {
    let src = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    let opts = DiffOptions {
        mode,
        width,
        emit: EmitKind::Rust,
        // what the attributes emit: ferrad::math, lanes, re-sliced buffers, AVX2 dispatch
        simd: Simd::ON,
        ..DiffOptions::default()
    };
    diff_text(&src, &opts).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn main() {
    println!("cargo::rerun-if-changed=ir/f.ir");
    println!("cargo::rerun-if-changed=ir/r.ir");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let code = [
        emit("ir/f.ir", Mode::Reverse, 1),
        emit("ir/f.ir", Mode::Forward, 10),
        emit("ir/r.ir", Mode::Reverse, 1),
        emit("ir/r.ir", Mode::ForwardOverReverse, 1),
    ]
    .join("\n");
    std::fs::write(out.join("ir_emitted.rs"), code).expect("write emitted code");
}
