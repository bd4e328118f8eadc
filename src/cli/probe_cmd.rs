//! `canopy probe`: the broker report card (see [`crate::probe`]) on the terminal, as
//! Markdown or as JSON.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::args::ConnectionArgs;
use super::{complain, exit, preflight, print_line};
use crate::probe::{self, ProbeError, ProbeOptions};

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns with ✓ / ✗ for a terminal.
    Text,
    /// Markdown tables, to paste into an email or a report.
    Md,
    /// The whole report as JSON.
    Json,
}

/// Arguments of `canopy probe`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct ProbeArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Report format.
    #[arg(short = 'F', long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to this file instead of standard output (created or truncated).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A few seconds instead of about twenty: fewer messages, 1 s bursts, payloads to 1 MiB.
    #[arg(long)]
    pub quick: bool,
    /// Messages per QoS for the latency figures (default 200, 50 with --quick).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub messages: Option<u32>,
    /// Seconds of each throughput burst (default 3, 1 with --quick).
    #[arg(long, value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub seconds: Option<Duration>,
    /// Largest payload to try, in bytes (default 16 MiB, 1 MiB with --quick).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=268_435_455))]
    pub max_payload: Option<u64>,
    /// No progress lines on standard error.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl ProbeArgs {
    pub(super) fn options(&self) -> ProbeOptions {
        let mut options = if self.quick {
            ProbeOptions::quick()
        } else {
            ProbeOptions::default()
        };
        if let Some(n) = self.messages {
            options.messages = n;
        }
        if let Some(secs) = self.seconds {
            options.burst = secs;
            // A longer burst must not eat the time of the steps after it.
            options.time_limit += secs.saturating_sub(ProbeOptions::default().burst) * 2;
        }
        if let Some(bytes) = self.max_payload {
            options.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        options
    }
}

/// Runs `canopy probe`.
pub fn run(args: ProbeArgs) -> u8 {
    let profile = match args.connection.profile_or_exit() {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = preflight(&profile) {
        return code;
    }
    let profile = match crate::sandbox::resolve(profile) {
        Ok(p) => p,
        Err(e) => {
            complain(format!("the sandbox broker could not start: {e}"));
            return exit::ERROR;
        }
    };
    let quiet = args.quiet;
    let report = match probe::run(&profile, &args.options(), |step| {
        if !quiet {
            complain(step);
        }
    }) {
        Ok(report) => report,
        Err(e @ ProbeError::Connect { .. }) => {
            complain(&e);
            return match e {
                ProbeError::Connect { reason, .. } if reason.kind == crate::engine::ErrorKind::Settings => {
                    exit::USAGE
                }
                _ => exit::CONNECTION,
            };
        }
        Err(e) => {
            complain(e);
            return exit::ERROR;
        }
    };
    let text = match args.format {
        Format::Text => probe::render::text(&report),
        Format::Md => probe::render::markdown(&report),
        Format::Json => match probe::render::json(&report) {
            Ok(json) => json,
            Err(e) => {
                complain(format!("cannot write the report as JSON: {e}"));
                return exit::ERROR;
            }
        },
    };
    match &args.output {
        Some(path) => match std::fs::write(path, text.as_bytes()) {
            Ok(()) => exit::OK,
            Err(e) => {
                complain(format!(
                    "cannot write {}: {}",
                    path.display(),
                    crate::engine::errors::io_words(&e)
                ));
                exit::ERROR
            }
        },
        None => match print_line(text.trim_end()) {
            Ok(()) => exit::OK,
            Err(code) => code,
        },
    }
}
