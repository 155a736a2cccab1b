//! The `gpu-dae` binary: parse the flags, dispatch to a command, map errors to exit codes.

mod commands;

use std::process::ExitCode;

use clap::Parser;
use gpu_dae::cli::{Cli, Command};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
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
