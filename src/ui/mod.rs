//! The desktop window (egui).

use std::process::ExitCode;

/// Opens the explorer window and runs until it is closed.
pub fn run() -> ExitCode {
    eprintln!("canopy: the window is not built yet; use `canopy pub` or `canopy sub`");
    ExitCode::from(2)
}
