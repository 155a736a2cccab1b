//! The `gpu-dae` binary: parse the flags, dispatch to a command, map errors to exit codes.

mod commands;
mod reuse;

use std::process::ExitCode;

use clap::Parser;
use gpu_dae::cli::{Cli, Command};
use gpu_dae::train::TrainError;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        // A closed pipe (`gpu-dae bench | head`) is the reader's choice, not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        // Ctrl-C: the run saved a checkpoint; say where, with the shell's status for SIGINT.
        Err(err) if is_interrupt(&err) => {
            eprintln!("gpu-dae: {err:#}");
            ExitCode::from(commands::INTERRUPTED_EXIT as u8)
        }
        Err(err) => {
            eprintln!("gpu-dae: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    quiet_mesa_device_select();
    match cli.command {
        Command::Train(args) => commands::train(&args),
        Command::Bench(args) => commands::bench(&args),
        Command::Encode(args) => reuse::encode(&args),
        Command::Reconstruct(args) => reuse::reconstruct(&args),
        Command::Devices => commands::devices(),
        Command::Reproduce(args) => commands::reproduce(&args),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn is_interrupt(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref::<TrainError>(), Some(TrainError::Interrupted { .. }))
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Mesa's Vulkan device-select layer prints "error: XDG_RUNTIME_DIR is invalid or not set" on
/// every instance creation when that variable is missing (CI, containers, ssh sessions). We list
/// and pick adapters ourselves, so in that case the layer is switched off (`NODEVICE_SELECT=1`)
/// rather than letting spurious "error" lines reach the user.
fn quiet_mesa_device_select() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none()
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        // SAFETY: called at the start of `run`, before this program starts any thread.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}
