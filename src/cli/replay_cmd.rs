//! `canopy record` and `canopy replay`: capture what a broker sends to a file (JSON Lines,
//! see [`crate::model::recording`]) and play it back to any broker at any speed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;

use super::args::{ConnectionArgs, parse_qos};
use super::sub_cmd::{Format, SubArgs};
use super::{CLI_ID, complain, connect, exit, routine_event};
use crate::engine::{Event, PublishOutcome, Token};
use crate::model::message::QoS;
use crate::model::recording::Speed;
use crate::replay::{ReplayControl, ReplayOptions, ReplayProgress};

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
    #[arg(short = 'D', long, value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub duration: Option<Duration>,
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
        grep: None,
        condition: None,
        proto: Default::default(),
        trace_packets: false,
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

/// Runs `canopy replay`: the window's replayer on a thread, outcomes counted here.
pub fn replay(args: ReplayArgs) -> u8 {
    // Check it first: a missing file is reported before connecting, and a FIFO or device
    // is refused (opening a FIFO blocks; `/dev/zero` is one endless line).
    if let Ok(meta) = std::fs::metadata(&args.file)
        && !meta.is_file()
    {
        complain(format!(
            "{} is not a regular file; give a recording written by `canopy record`",
            args.file.display()
        ));
        return exit::USAGE;
    }
    if let Err(e) = std::fs::File::open(&args.file) {
        complain(format!(
            "cannot open {}: {}",
            args.file.display(),
            crate::engine::errors::io_words(&e)
        ));
        return exit::ERROR;
    }
    let mut profile = match args.connection.profile_or_exit() {
        Ok(p) => p,
        Err(code) => return code,
    };
    profile.subscriptions.clear();
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let start = Instant::now();
    let options = ReplayOptions {
        speed: args.speed,
        prefix: args.prefix.clone(),
        qos: args.qos,
        retain: !args.no_retain,
    };
    let control = Arc::new(ReplayControl::default());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<ReplayProgress>();
    let worker = {
        let (engine, control, file) = (session.engine.sender(), control.clone(), args.file.clone());
        std::thread::spawn(move || {
            // The replay is this engine's only publisher: a counter is enough.
            let mut sent = 0;
            let next_token = || {
                sent += 1;
                Token(sent)
            };
            let last = crate::replay::replay(&file, &options, CLI_ID, &engine, &control, next_token, |_| {});
            let _ = done_tx.send(last);
        })
    };
    let (mut outcomes, mut failed) = (0u64, 0u64);
    let mut finished: Option<ReplayProgress> = None;
    let mut code = None;
    while code.is_none() {
        if finished.is_none()
            && let Ok(last) = done_rx.try_recv()
        {
            finished = Some(last);
        }
        if let Some(last) = &finished
            && outcomes >= last.sent
        {
            break;
        }
        let Some(event) = session.engine.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        match event {
            Event::Published { outcome, .. } => {
                outcomes += 1;
                control.outcomes.fetch_add(1, Ordering::Relaxed);
                if let PublishOutcome::Failed(why) = outcome {
                    failed += 1;
                    complain(format!("not delivered: {why}"));
                }
            }
            other => code = routine_event(&session.profile, other),
        }
    }
    control.stop.store(true, Ordering::Relaxed);
    let _ = worker.join();
    let last = finished.or_else(|| done_rx.try_recv().ok()).unwrap_or_default();
    session.close(|_| {});
    if let Some(e) = last.error.as_deref().filter(|e| *e != "stopped") {
        complain(e);
    }
    complain(format!(
        "replayed {} of {} messages in {:.2} s{}",
        outcomes - failed,
        last.sent,
        start.elapsed().as_secs_f64(),
        if last.skipped > 0 {
            format!(" ({} unreadable lines skipped)", last.skipped)
        } else {
            String::new()
        }
    ));
    match code {
        Some(code) => code,
        None if failed > 0 || outcomes < last.sent => exit::PUBLISH,
        None if last.error.is_some() => exit::ERROR,
        None => exit::OK,
    }
}
