//! `glassbox`: compile a model, run it, prove its outputs and verify proofs from the command line.
//!
//! Exit codes: 0 success (for `verify`: the proof is valid), 1 the proof is invalid, 2 a usage,
//! input or I/O error (unreadable file, malformed digest or input JSON, a model that does not
//! compile).

/// `println!` that ignores a closed stdout (e.g. `glassbox run ... | head`) instead of panicking.
macro_rules! say {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cmd;
mod embedded;
mod files;
mod progress;
mod summary;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// STARK proofs that a committed quantized ML model produced given outputs.
#[derive(Parser)]
#[command(name = "glassbox", version, about, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON on stdout (and no progress spinners).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Quantize an ONNX model into a `.gbm` artifact and print its digest.
    Compile(cmd::compile::Args),
    /// Run the quantized model on inputs (no proof).
    Run(cmd::run::Args),
    /// Prove the model's outputs on inputs.
    Prove(cmd::prove::Args),
    /// Verify a proof against a published model digest.
    Verify(cmd::verify::Args),
    /// Merge the shards of a batch proven on several machines (`prove --shard I/N`).
    Bundle(cmd::bundle::Args),
    /// Describe an ONNX model, a `.gbm` artifact or a `.gbp` proof.
    Inspect(cmd::inspect::Args),
    /// Compile, prove and verify the embedded digits model end to end.
    Demo(cmd::demo::Args),
    /// Measure proving and verification on fixture models.
    Bench(cmd::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    files::install_interrupt_handler();
    let json = cli.json;
    let result = match &cli.command {
        Command::Compile(a) => a.run(json),
        Command::Run(a) => a.run(json),
        Command::Prove(a) => a.run(json),
        Command::Verify(a) => a.run(json),
        Command::Bundle(a) => a.run(json),
        Command::Inspect(a) => a.run(json),
        Command::Demo(a) => a.run(json),
        Command::Bench(a) => a.run(json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
