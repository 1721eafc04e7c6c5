//! `ferrad diff FILE.ir|FILE.rs --mode forward|reverse|hvp [--width W] [--emit ir|rust|primal]
//! [--stats]`: the compiler's view of a derivative. A `.rs` file goes through the Rust front end
//! the `#[autodiff_*]` attributes use (`--function NAME` picks the function), so this shows
//! what an attribute expands to: `--emit primal` the lowered IR, `--emit ir` its derivative,
//! `--emit rust` the Rust the attribute compiles. When the function carries an attribute, its
//! mode, width and activities are the defaults (`Const` parameters get no shadow, an
//! `ActiveOnly` result drops the primal), as the attribute compiles it; `--mode hvp`, or the
//! other mode, differentiates every float parameter.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ferrad_ir::{DiffOptions, EmitKind, Mode, diff_text};

/// Options of `ferrad diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The IR file (see `ferrad-ir`'s text form), or a Rust file (`.rs`) whose function
    /// `--function` is in the attributes' compiled subset.
    file: PathBuf,
    /// Which derivative (default: the attribute's mode on a Rust function that has one, else
    /// reverse).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Tangents per forward pass (default: the attribute's width, else 1).
    #[arg(long)]
    width: Option<usize>,
    /// Print the derivative as IR or as Rust source.
    #[arg(long, value_enum, default_value = "ir")]
    emit: EmitArg,
    /// Report op counts before and after optimization.
    #[arg(long)]
    stats: bool,
    /// Skip the optimizer.
    #[arg(long)]
    no_opt: bool,
    /// Emit Rust shaped for SIMD as the attributes do (`ferrad::math`, sums in lanes, AVX2+FMA
    /// or AVX-512 picked at run time); the code then needs the `ferrad` crate.
    #[arg(long)]
    simd: bool,
    /// With `--simd`: iterations per chunk of a loop whose sums run in lanes (default: the
    /// attributes' choice; 0 or 1 keeps sums sequential, as the `strict-order` feature does).
    #[arg(long, requires = "simd")]
    lanes: Option<usize>,
    /// The function to differentiate (default: the one no other function calls).
    #[arg(long)]
    function: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    Forward,
    Reverse,
    Hvp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EmitArg {
    /// The derivative as IR.
    Ir,
    /// The derivative as Rust.
    Rust,
    /// The function before differentiation, as IR (for a `.rs` file: what the front end
    /// lowered).
    Primal,
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
    let mut spec = None;
    let src = if args.file.extension().is_some_and(|e| e == "rs") {
        let Some(name) = &args.function else {
            eprintln!(
                "error: {}: a Rust file needs --function NAME (the function to differentiate)",
                args.file.display()
            );
            return ExitCode::from(2);
        };
        let lowered = ferrad_front::lower_source(&src, name)
            .map_err(|e| e.to_string())
            .and_then(|ir| Ok((ir, ferrad_front::attr::attribute_spec(&src, name)?)));
        match lowered {
            Ok((ir, s)) => {
                spec = s;
                ir
            }
            Err(e) => {
                eprintln!("error: {}: {e}", args.file.display());
                return ExitCode::FAILURE;
            }
        }
    } else {
        src
    };
    if args.emit == EmitArg::Primal {
        return match ferrad_ir::parse::parse_module(&src) {
            Ok(m) => {
                print!("{}", ferrad_ir::print::print_module(&m));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {}: {e}", args.file.display());
                ExitCode::FAILURE
            }
        };
    }
    // The attribute's activities when it asks for this derivative (for hvp, the attributes
    // nest two derivatives: every parameter stays active here).
    let mode = args.mode.unwrap_or(match &spec {
        Some(s) if !s.reverse => ModeArg::Forward,
        _ => ModeArg::Reverse,
    });
    let spec = spec.filter(|s| {
        matches!(
            (mode, s.reverse),
            (ModeArg::Reverse, true) | (ModeArg::Forward, false)
        )
    });
    if let Some(s) = &spec {
        eprintln!("note: the activities of {}", s.text);
    }
    let opts = DiffOptions {
        mode: match mode {
            ModeArg::Forward => Mode::Forward,
            ModeArg::Reverse => Mode::Reverse,
            ModeArg::Hvp => Mode::ForwardOverReverse,
        },
        width: args.width.or(spec.as_ref().map(|s| s.width)).unwrap_or(1),
        active: spec.as_ref().map(|s| s.active.clone()),
        drop_primal: spec.as_ref().is_some_and(|s| s.drop_primal),
        emit: match args.emit {
            EmitArg::Ir | EmitArg::Primal => EmitKind::Ir,
            EmitArg::Rust => EmitKind::Rust,
        },
        stats: args.stats,
        optimize: !args.no_opt,
        function: args.function.clone(),
        simd: if args.simd {
            ferrad_ir::Simd {
                lanes: args.lanes.unwrap_or(ferrad_ir::Simd::ON.lanes),
                ..ferrad_ir::Simd::ON
            }
        } else {
            ferrad_ir::Simd::OFF
        },
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
