//! `canopy`: with no subcommand opens the explorer window; `pub`/`sub` run headless.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = canopy::cli::Cli::parse();
    match args.command {
        None => canopy::ui::run(),
        Some(command) => canopy::cli::run(command),
    }
}
