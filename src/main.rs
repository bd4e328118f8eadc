//! `canopy`: with no subcommand opens the explorer window; `pub`/`sub` run headless.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = canopy::cli::Cli::parse();
    match args.command {
        None => {
            canopy::logging::init(canopy::logging::Mode::Window);
            canopy::ui::run()
        }
        Some(command) => {
            canopy::logging::init(canopy::logging::Mode::Cli);
            canopy::cli::run(command)
        }
    }
}
