//! `canopy record` and `canopy replay`: capture what a broker sends to a file (JSON Lines,
//! see [`crate::model::recording`]) and play it back to any broker at any speed.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use super::args::{ConnectionArgs, parse_qos};
use super::sub_cmd::{Format, SubArgs};
use super::{CLI_ID, complain, connect, exit, routine_event};
use crate::engine::{Command, Event, PublishOutcome};
use crate::model::message::QoS;
use crate::model::recording::{Speed, parse_line, to_outgoing};

/// Arguments of `canopy record`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RecordArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The file to record to (JSON Lines; created or truncated).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    /// Topic filters to record (repeatable).
    #[arg(short = 't', long = "topic", value_name = "FILTER", default_value = "#")]
    pub topics: Vec<String>,
    /// Maximum QoS to subscribe with.
    #[arg(short = 'q', long, default_value = "1", value_parser = parse_qos)]
    pub qos: QoS,
    /// Stop after this many messages.
    #[arg(short = 'C', long)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(short = 'D', long, value_name = "SECS")]
    pub duration: Option<f64>,
}

/// Runs `canopy record`.
pub fn record(args: RecordArgs) -> u8 {
    super::sub_cmd::run(SubArgs {
        connection: args.connection,
        topics: args.topics,
        qos: args.qos,
        count: args.count,
        verbose: false,
        format: Format::Jsonl,
        debug: true,
        timeout: args.duration,
        output: Some(args.output),
        timeout_is_ok: true,
    })
}

/// Arguments of `canopy replay`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct ReplayArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The recording (JSON Lines, as written by `canopy record` or `canopy sub -F jsonl`).
    pub file: PathBuf,
    /// `1` plays at the recorded pace, `10x` ten times faster, `max` as fast as possible.
    #[arg(short = 's', long, default_value = "1")]
    pub speed: Speed,
    /// Publish under this prefix (`replay` turns `a/b` into `replay/a/b`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Publish with this QoS instead of the recorded one.
    #[arg(short = 'q', long, value_parser = parse_qos)]
    pub qos: Option<QoS>,
    /// Leave the retain flags out (by default they are replayed as recorded).
    #[arg(long)]
    pub no_retain: bool,
}

/// Runs `canopy replay`.
pub fn replay(args: ReplayArgs) -> u8 {
    let file = match std::fs::File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            complain(format!(
                "cannot open {}: {}",
                args.file.display(),
                crate::engine::errors::io_words(&e)
            ));
            return exit::ERROR;
        }
    };
    let mut profile = match args.connection.profile() {
        Ok(p) => p,
        Err(e) => {
            complain(e);
            return exit::USAGE;
        }
    };
    profile.subscriptions.clear();
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let start = Instant::now();
    let mut first: Option<SystemTime> = None;
    let (mut sent, mut done, mut failed, mut bad) = (0u64, 0u64, 0u64, 0u64);
    let mut code = None;
    let handle = |event: Event, done: &mut u64, failed: &mut u64| match event {
        Event::Published { outcome, .. } => {
            *done += 1;
            if let PublishOutcome::Failed(why) = outcome {
                *failed += 1;
                complain(format!("not delivered: {why}"));
            }
            None
        }
        other => routine_event(&session.profile, other),
    };
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                complain(format!("cannot read {}: {e}", args.file.display()));
                code = Some(exit::ERROR);
                break;
            }
        };
        let message = match parse_line(&line) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                bad += 1;
                complain(format!("{}:{}: skipped: {e}", args.file.display(), number + 1));
                continue;
            }
        };
        let due = start
            + args
                .speed
                .due(*first.get_or_insert(message.received), message.received);
        // Wait for the message's time, handling outcomes meanwhile; keep at most 10,000 in
        // flight so a fast replay does not queue the whole file in memory.
        loop {
            let now = Instant::now();
            let wait = due.saturating_duration_since(now);
            if wait.is_zero() && sent - done < 10_000 {
                break;
            }
            let wait = if wait.is_zero() {
                Duration::from_millis(50)
            } else {
                wait
            };
            if let Some(event) = session.engine.recv_timeout(wait) {
                code = handle(event, &mut done, &mut failed);
                if code.is_some() {
                    break;
                }
            }
        }
        if code.is_some() {
            break;
        }
        let mut out = to_outgoing(message);
        if let Some(prefix) = &args.prefix {
            out.topic = format!("{}/{}", prefix.trim_end_matches('/'), out.topic);
        }
        if let Some(qos) = args.qos {
            out.qos = qos;
        }
        out.retain &= !args.no_retain;
        session.engine.send(Command::Publish {
            id: CLI_ID,
            token: sent,
            message: Box::new(out),
        });
        sent += 1;
    }
    while code.is_none() && done < sent {
        match session.engine.recv_timeout(Duration::from_secs(30)) {
            Some(event) => code = handle(event, &mut done, &mut failed),
            None => break,
        }
    }
    session.close(|_| {});
    eprintln!(
        "canopy: replayed {} of {sent} messages in {:.2} s{}",
        done - failed,
        start.elapsed().as_secs_f64(),
        if bad > 0 {
            format!(" ({bad} unreadable lines skipped)")
        } else {
            String::new()
        }
    );
    match code {
        Some(code) => code,
        None if failed > 0 || done < sent => exit::PUBLISH,
        None => exit::OK,
    }
}
