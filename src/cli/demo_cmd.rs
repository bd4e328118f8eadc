//! `canopy demo`: realistic demo traffic for any broker.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;

use super::args::ConnectionArgs;
use super::{complain, exit};

/// Arguments of `canopy demo`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct DemoArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Messages per second.
    #[arg(long, default_value = "50")]
    pub rate: u32,
    /// Stop after this many live messages (default: run until interrupted).
    #[arg(short = 'C', long)]
    pub count: Option<u64>,
}

/// Runs `canopy demo`.
pub fn run(args: DemoArgs) -> u8 {
    let profile = match args.connection.profile_or_exit() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let profile = match crate::sandbox::resolve(profile) {
        Ok(p) => p,
        Err(e) => {
            complain(e);
            return exit::ERROR;
        }
    };
    if let Err(code) = super::preflight(&profile) {
        return code;
    }
    complain(format!(
        "publishing demo traffic to {} at {} msg/s",
        profile.url(),
        args.rate
    ));
    let failed = std::sync::Mutex::new(None);
    crate::demo::run(
        profile,
        args.rate,
        args.count,
        Arc::new(AtomicBool::new(false)),
        |e| {
            complain(&e);
            if let Ok(mut f) = failed.lock() {
                *f = Some(e);
            }
        },
    );
    match failed.lock().map(|f| f.is_some()) {
        Ok(false) => exit::OK,
        _ => exit::CONNECTION,
    }
}
