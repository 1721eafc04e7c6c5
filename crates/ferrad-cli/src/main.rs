//! `ferrad`: reproducible benchmarks of every AD mode (`ferrad bench`) and compiler tools
//! (`ferrad diff`).

mod bench;
mod diff;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// ferrad: automatic differentiation for stable Rust.
#[derive(Parser, Debug)]
#[command(name = "ferrad", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Time every mode of the seed benchmarks (DESIGN §6) beside the primal and a hand-written
    /// derivative, check every result against the reference values, print the table.
    Bench {
        /// Problems to run: F, R, H, FH, M (ferrad::math against std) (repeatable; default all).
        #[arg(long = "problem", short = 'p')]
        problems: Vec<String>,
        /// Input size for R and H (default: 50 and 1,000,000).
        #[arg(long)]
        n: Option<usize>,
        /// A short time budget per mode (smoke run).
        #[arg(long)]
        quick: bool,
        /// Write one JSON record per problem and mode to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a bar chart of the ratios to FILE.svg.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Add peer rows timed in the same run: JAX jit on one core (if python3 can import jax,
        /// or after --install-peers), num-dual (when built with --features peers-num-dual) and
        /// echidna (when built with --features peers-echidna).
        #[arg(long)]
        peers: bool,
        /// Create a venv (target/peers-venv, or $FERRAD_PEERS_VENV) with jax for --peers,
        /// then exit (or run the bench if --peers is given too).
        #[arg(long)]
        install_peers: bool,
    },
    /// Differentiate a function written in ferrad-ir text and print the derivative as IR or Rust.
    Diff(diff::DiffArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Diff(args) => diff::run(&args),
        Command::Bench {
            problems,
            n,
            quick,
            json,
            plot,
            no_progress,
            peers,
            install_peers,
        } => {
            if install_peers {
                if let Err(e) = bench::install_peers() {
                    eprintln!("error: --install-peers: {e}");
                    return ExitCode::from(2);
                }
                if !peers {
                    return ExitCode::SUCCESS;
                }
            }
            let opts = bench::BenchOptions {
                problems,
                n,
                quick,
                json,
                plot,
                progress: !no_progress,
                peers,
            };
            match bench::run(&opts) {
                Ok((_, true)) => ExitCode::SUCCESS,
                Ok((records, false)) => {
                    for r in records.iter().filter(|r| !r.agrees()) {
                        eprintln!(
                            "error: {} / {} disagrees with the reference: relative error {:e} > {:e}",
                            r.problem,
                            r.mode,
                            r.error.unwrap_or(f64::NAN),
                            r.tolerance
                        );
                    }
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
