//! The `gpu-dae` binary: parse the flags, dispatch to a command, map errors to exit codes.

mod commands;

use std::process::ExitCode;

use clap::Parser;
use gpu_dae::cli::{Cli, Command};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        // A closed pipe (`gpu-dae bench | head`) is the reader's choice, not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gpu-dae: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Train(args) => commands::train(&args),
        Command::Bench(args) => commands::bench(&args),
        Command::Devices => commands::devices(),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
