//! `ferrad diff FILE.ir --mode forward|reverse|hvp [--width W] [--emit ir|rust] [--stats]`:
//! the compiler's view of a derivative.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ferrad_ir::{DiffOptions, EmitKind, Mode, diff_text};

/// Options of `ferrad diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The IR file (see `ferrad-ir`'s text form).
    file: PathBuf,
    /// Which derivative.
    #[arg(long, value_enum, default_value = "reverse")]
    mode: ModeArg,
    /// Tangents per forward pass.
    #[arg(long, default_value_t = 1)]
    width: usize,
    /// Print the derivative as IR or as Rust source.
    #[arg(long, value_enum, default_value = "ir")]
    emit: EmitArg,
    /// Report op counts before and after optimization.
    #[arg(long)]
    stats: bool,
    /// Skip the optimizer.
    #[arg(long)]
    no_opt: bool,
    /// The function to differentiate (default: the one no other function calls).
    #[arg(long)]
    function: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Forward,
    Reverse,
    Hvp,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EmitArg {
    Ir,
    Rust,
}

/// Runs `ferrad diff`; malformed IR is reported with line and column.
pub fn run(args: &DiffArgs) -> ExitCode {
    let src = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let opts = DiffOptions {
        mode: match args.mode {
            ModeArg::Forward => Mode::Forward,
            ModeArg::Reverse => Mode::Reverse,
            ModeArg::Hvp => Mode::ForwardOverReverse,
        },
        width: args.width,
        emit: match args.emit {
            EmitArg::Ir => EmitKind::Ir,
            EmitArg::Rust => EmitKind::Rust,
        },
        stats: args.stats,
        optimize: !args.no_opt,
        function: args.function.clone(),
        ..DiffOptions::default()
    };
    match diff_text(&src, &opts) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}
