//! The headless command line: `canopy pub`, `canopy sub`, `canopy demo`, `canopy bench`,
//! `canopy probe`..., on the same engine and profiles as the window.

mod args;
mod bench_cmd;
mod checks;
mod clear_cmd;
mod demo_cmd;
#[cfg(test)]
mod fuzz;
mod password;
mod probe_cmd;
mod proto_args;
mod pub_cmd;
mod replay_cmd;
mod sub_cmd;
mod template_cmd;
mod trace_out;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

pub use args::ConnectionArgs;

use crate::engine::{Command, ConnectionId, ConnectionState, Engine, Event};
use crate::profiles::Profile;

/// Exit codes a script can rely on.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A runtime error (reading a file, writing output).
    pub const ERROR: u8 = 1;
    /// Bad arguments or settings (also used by the argument parser).
    pub const USAGE: u8 = 2;
    /// The connection could not be made or was lost for good.
    pub const CONNECTION: u8 = 3;
    /// A message was not delivered.
    pub const PUBLISH: u8 = 4;
    /// A subscription was refused or its filter is invalid.
    pub const SUBSCRIBE: u8 = 5;
    /// `--timeout` expired before the expected messages arrived.
    pub const TIMEOUT: u8 = 6;
}

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "canopy",
    version,
    about = "Canopy — a fast MQTT explorer. Without a subcommand, opens the window.",
    after_help = "Exit codes: 0 ok, 1 error, 2 bad arguments or settings, 3 connection failed, \
                  4 message not delivered, 5 subscription refused, 6 timed out."
)]
pub struct Cli {
    /// What to do; nothing opens the explorer window.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Publish messages and wait until the broker has them.
    Pub(pub_cmd::PubArgs),
    /// Subscribe and print messages.
    Sub(sub_cmd::SubArgs),
    /// Publish demo traffic (a plant and smart-home topic tree) to any broker.
    Demo(demo_cmd::DemoArgs),
    /// Benchmarks: `bench load` (engine + topic tree throughput and memory), `bench publish`
    /// (a load generator).
    Bench(bench_cmd::BenchArgs),
    /// Delete the retained messages under topic filters (publishes empty retained messages).
    ClearRetained(clear_cmd::ClearArgs),
    /// Record everything received to a file (JSON Lines with timestamps).
    Record(replay_cmd::RecordArgs),
    /// Replay a recording to a broker at the recorded pace, faster, or as fast as possible.
    Replay(replay_cmd::ReplayArgs),
    /// A broker report card: versions, features, largest payload, latency and throughput,
    /// tested on a scratch topic prefix that is emptied afterwards.
    Probe(probe_cmd::ProbeArgs),
}

/// Runs a subcommand and returns the process exit code.
pub fn run(command: CliCommand) -> ExitCode {
    let code = match command {
        CliCommand::Pub(args) => pub_cmd::run(args),
        CliCommand::Sub(args) => sub_cmd::run(args),
        CliCommand::Demo(args) => demo_cmd::run(args),
        CliCommand::Bench(args) => bench_cmd::run(args),
        CliCommand::ClearRetained(args) => clear_cmd::run(args),
        CliCommand::Record(args) => replay_cmd::record(args),
        CliCommand::Replay(args) => replay_cmd::replay(args),
        CliCommand::Probe(args) => probe_cmd::run(args),
    };
    ExitCode::from(code)
}

/// Prints an error on stderr in the CLI's style. Never panics (`eprintln!` does when stderr
/// is closed or full); when stderr itself fails there is nowhere left to report it.
pub(crate) fn complain(message: impl std::fmt::Display) {
    use std::io::Write as _;
    writeln!(std::io::stderr().lock(), "canopy: {message}").ok();
}

/// Writes one line to standard output and flushes it. A write error (a full disk,
/// `/dev/full`) is reported and becomes [`exit::ERROR`]; output must never be lost silently.
pub(crate) fn print_line(line: impl std::fmt::Display) -> Result<(), u8> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| {
        complain(format!("cannot write to standard output: {e}"));
        exit::ERROR
    })
}

/// Checks a profile before connecting and prints its warnings (`--insecure`, MQTT 5-only
/// options on 3.1.1). A setting that cannot work is [`exit::USAGE`].
pub(crate) fn preflight(profile: &Profile) -> Result<(), u8> {
    checks::check_profile(profile).map_err(|e| {
        complain(e);
        exit::USAGE
    })?;
    for warning in checks::warnings(profile) {
        complain(warning);
    }
    Ok(())
}

/// A connected engine for a CLI command.
pub(crate) struct Session {
    pub engine: Engine,
    pub profile: Profile,
    /// The version the broker accepted and, when it was not the first tried, why.
    pub version: crate::profiles::profile::MqttVersion,
    pub negotiation: Option<String>,
}

impl Session {
    /// "mqtt://host:1883 with MQTT 3.1.1 (the broker refused MQTT 5.0)", for `-d`.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("{} with {}", self.profile.url(), self.version.label());
        if let Some(why) = &self.negotiation {
            text.push_str(&format!(" ({why})"));
        }
        text
    }
}

/// The connection id the CLI uses (it opens one connection).
pub(crate) const CLI_ID: ConnectionId = ConnectionId(1);

/// Starts the engine and waits for the first connection. On the first attempt failing, gives
/// up at once unless `retry` is set (then follows the profile's reconnect policy).
pub(crate) fn connect(profile: Profile, retry: bool) -> Result<Session, u8> {
    connect_traced(profile, retry, crate::engine::TraceLevel::Off, |_| {})
}

/// [`connect`] reporting packets at `trace` level: `on_event` sees every event that arrives
/// while connecting (the CONNECT / CONNACK trace among them).
pub(crate) fn connect_traced(
    profile: Profile,
    retry: bool,
    trace: crate::engine::TraceLevel,
    mut on_event: impl FnMut(&Event),
) -> Result<Session, u8> {
    preflight(&profile)?;
    let profile = crate::sandbox::resolve(profile).map_err(|e| {
        complain(format!("the sandbox broker could not start: {e}"));
        exit::ERROR
    })?;
    let engine = Engine::start(Arc::new(|| {})).map_err(|e| {
        complain(format!("cannot start the engine: {e}"));
        exit::ERROR
    })?;
    let mut options = profile.connect_options();
    options.trace = trace;
    engine.send(Command::Connect {
        id: CLI_ID,
        options: Box::new(options),
    });
    loop {
        let Some(event) = engine.recv_timeout(Duration::from_secs(3600)) else {
            complain("the engine stopped");
            return Err(exit::ERROR);
        };
        on_event(&event);
        if let Event::State { state, .. } = event {
            match state {
                ConnectionState::Connected {
                    version, negotiation, ..
                } => {
                    return Ok(Session {
                        engine,
                        profile,
                        version,
                        negotiation,
                    });
                }
                ConnectionState::Failed { reason } => {
                    complain(format!("cannot connect to {}: {reason}", profile.url()));
                    let code = if reason.kind == crate::engine::ErrorKind::Settings {
                        exit::USAGE
                    } else {
                        exit::CONNECTION
                    };
                    return Err(code);
                }
                ConnectionState::Reconnecting {
                    attempt,
                    next_in,
                    last_error,
                    ..
                } => {
                    if !retry {
                        complain(format!("cannot connect to {}: {last_error}", profile.url()));
                        return Err(exit::CONNECTION);
                    }
                    complain(format!(
                        "cannot connect ({last_error}); attempt {} in {:.1} s",
                        profile.reconnect.attempt_label(attempt),
                        next_in.as_secs_f64()
                    ));
                }
                ConnectionState::Connecting | ConnectionState::Disconnected => {}
            }
        }
    }
}

impl Session {
    /// Disconnects gracefully, waiting for the final state (bounded).
    pub(crate) fn close(self, mut on_event: impl FnMut(Event)) {
        self.engine.send(Command::Disconnect { id: CLI_ID });
        let deadline = Instant::now() + Duration::from_secs(8);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.engine.recv_timeout(left) {
                Some(Event::State { state, .. }) if state.is_final() => break,
                Some(other) => on_event(other),
                None => break,
            }
        }
    }
}

/// Handles what every command treats alike: state changes are reported, errors printed.
/// Returns the exit code when the connection is gone for good.
pub(crate) fn routine_event(profile: &Profile, event: Event) -> Option<u8> {
    match event {
        Event::State { state, .. } => {
            report_state(profile, &state);
            state.is_final().then_some(exit::CONNECTION)
        }
        Event::Error { message, .. } => {
            complain(message);
            None
        }
        _ => None,
    }
}

/// Describes a state change on stderr (used while a command runs).
pub(crate) fn report_state(profile: &Profile, state: &ConnectionState) {
    match state {
        ConnectionState::Reconnecting {
            attempt,
            next_in,
            last_error,
            ..
        } => complain(format!(
            "connection lost ({last_error}); reconnecting, attempt {} in {:.1} s",
            profile.reconnect.attempt_label(*attempt),
            next_in.as_secs_f64()
        )),
        ConnectionState::Connected { session_present, .. } => complain(format!(
            "reconnected to {}{}",
            profile.url(),
            if *session_present {
                " (session resumed)"
            } else {
                ""
            }
        )),
        ConnectionState::Failed { reason } => complain(format!("connection failed: {reason}")),
        ConnectionState::Connecting | ConnectionState::Disconnected => {}
    }
}
