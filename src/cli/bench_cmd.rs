//! `canopy bench load` and `canopy bench publish`: measure the engine and topic tree the window
//! uses, and generate the load to measure them with.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::args::{ConnectionArgs, parse_qos};
use super::{CLI_ID, complain, connect, exit, report_state, routine_event};
use crate::bench::{Workload, peak_rss};
use crate::engine::{Command, Event, PublishOutcome, Token};
use crate::model::message::{OutgoingMessage, QoS};
use crate::model::topic_tree::{Limits, TopicTree};

/// Arguments of `canopy bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which benchmark.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Subscribe and load messages into a topic tree (the window's own engine and tree) until
    /// N have arrived; report the time, the rate, the topics and the peak memory.
    Load(LoadArgs),
    /// Publish a synthetic telemetry load (hierarchical topics, JSON payloads) and report what
    /// was sent.
    Publish(PublishArgs),
}

/// Arguments of `canopy bench load`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct LoadArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Stop once this many messages are in the tree.
    #[arg(short = 'n', long)]
    pub expect: u64,
    /// Topic filter to subscribe to.
    #[arg(short = 't', long = "topic", default_value = "#")]
    pub filter: String,
    /// QoS to subscribe with.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Give up after this many seconds (exit code 6).
    #[arg(short = 'W', long = "timeout", default_value = "600", value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub timeout: Duration,
    /// The history budget in MiB (as in the window's settings).
    #[arg(long, value_name = "MIB", default_value = "256")]
    pub history_budget: usize,
    /// Print the result as one JSON object (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `canopy bench publish`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct PublishArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Number of distinct topics (messages go round them in order).
    #[arg(short = 'T', long, default_value = "10000")]
    pub topics: u64,
    /// Messages per second; 0 sends as fast as the connection takes them.
    #[arg(short = 'R', long, default_value = "0")]
    pub rate: u64,
    /// Stop after this many seconds.
    #[arg(short = 'D', long, value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub duration: Option<Duration>,
    /// Stop after this many messages (default: one per topic when no --duration is given).
    #[arg(short = 'C', long)]
    pub count: Option<u64>,
    /// Publish retained messages (fills a broker with retained topics).
    #[arg(short = 'r', long)]
    pub retain: bool,
    /// Payload size in bytes (JSON padded to this size; the natural document is ~50 bytes).
    #[arg(short = 's', long, default_value = "0")]
    pub size: usize,
    /// QoS to publish with.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// First topic level (`bench/site000/line0/machine00/temperature`).
    #[arg(long, default_value = "bench")]
    pub prefix: String,
    /// Print the result as one JSON object (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// Runs `canopy bench …`.
pub fn run(args: BenchArgs) -> u8 {
    match args.command {
        BenchCommand::Load(args) => load(args),
        BenchCommand::Publish(args) => publish(args),
    }
}

fn load(args: LoadArgs) -> u8 {
    let profile = match args
        .connection
        .subscribing_profile(std::slice::from_ref(&args.filter), args.qos)
    {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut tree = TopicTree::with_limits(Limits {
        history_budget: args.history_budget.saturating_mul(1024 * 1024),
        ..Limits::default()
    });
    let start = Instant::now();
    let deadline = start + args.timeout;
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut first: Option<Instant> = None;
    let code = loop {
        if tree.total_messages() >= args.expect {
            break exit::OK;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            complain(format!(
                "timed out with {} of {} messages",
                tree.total_messages(),
                args.expect
            ));
            break exit::TIMEOUT;
        }
        let Some(event) = session.engine.recv_timeout(left) else {
            continue;
        };
        match event {
            Event::Messages { messages, .. } => {
                let now = Instant::now();
                first.get_or_insert(now);
                // Only what our own filters match (some brokers send more, unasked).
                tree.insert_all(messages.into_iter().filter(|m| m.subscribed), now);
            }
            Event::Subscribed { results, .. } => {
                if let Some(Err(why)) = results.first().map(|r| &r.granted) {
                    complain(format!("subscription refused: {why}"));
                    break exit::SUBSCRIBE;
                }
            }
            other => {
                if let Some(code) = routine_event(&session.profile, other) {
                    break code;
                }
            }
        }
    };
    let elapsed = start.elapsed();
    let loading = first.map_or(Duration::ZERO, |f| f.elapsed());
    let messages = tree.total_messages();
    let topics = tree.topic_count();
    let rss = peak_rss().unwrap_or(0);
    let rate = messages as f64 / elapsed.as_secs_f64().max(1e-9);
    let mut printed = Ok(());
    if args.json {
        printed = printed.and_then(|()| {
            super::print_line(format!(
                "{}",
                serde_json::json!({
                    "messages": messages,
                    "topics": topics,
                    "nodes": tree.node_count(),
                    "seconds": elapsed.as_secs_f64(),
                    "seconds_from_first_message": loading.as_secs_f64(),
                    "messages_per_second": rate,
                    "peak_rss_bytes": rss,
                    "history_bytes": tree.history_bytes(),
                    "history_evicted": tree.history_evicted(),
                    "complete": code == exit::OK,
                })
            ))
        });
    } else {
        printed = printed.and_then(|()| {
            super::print_line(format!(
                "loaded {} messages on {} topics in {:.3} s ({} msg/s; {:.3} s from the first message)",
                messages,
                topics,
                elapsed.as_secs_f64(),
                rate.round(),
                loading.as_secs_f64()
            ))
        });
        printed = printed.and_then(|()| {
            super::print_line(format!(
                "peak RSS {:.1} MiB ({} bytes per topic); history {:.1} MiB, {} entries evicted",
                rss as f64 / 1048576.0,
                rss / u64::from(topics.max(1)),
                tree.history_bytes() as f64 / 1048576.0,
                tree.history_evicted()
            ))
        });
    }
    // Measured; now leave without waiting for the tree to be freed page by page.
    std::mem::forget(tree);
    session.close(|_| {});
    printed.err().unwrap_or(code)
}

/// Publishes handed to the engine and not yet reported on, at most.
const PUBLISH_WINDOW: u64 = 20_000;

fn publish(args: PublishArgs) -> u8 {
    let mut profile = match args.connection.profile_or_exit() {
        Ok(p) => p,
        Err(code) => return code,
    };
    profile.subscriptions.clear();
    if let Err(e) = crate::model::topic::validate_topic_name(&args.prefix) {
        complain(format!("invalid prefix `{}`: {e}", args.prefix));
        return exit::USAGE;
    }
    // A size no MQTT packet can carry would only end in a lost connection (or, near
    // `usize::MAX`, an allocation failure): refuse it as an argument error.
    let max = super::checks::max_payload(
        &format!("{}/{}", args.prefix, "x".repeat(64)),
        &Default::default(),
        true,
    );
    if args.size > max {
        complain(format!(
            "--size {} is larger than the largest MQTT message ({max} bytes)",
            args.size
        ));
        return exit::USAGE;
    }
    let workload = Workload::new(args.topics, args.size).with_prefix(&args.prefix);
    let count = match (args.count, args.duration) {
        (Some(c), _) => c,
        (None, Some(_)) => u64::MAX,
        (None, None) => workload.topics(),
    };
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let start = Instant::now();
    let end = args.duration.map(|d| start + d);
    let (mut sent, mut done, mut failed, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut lost = false;
    let handle = |event: Event, done: &mut u64, failed: &mut u64, lost: &mut bool| match event {
        Event::Published { outcome, .. } => {
            *done += 1;
            if let PublishOutcome::Failed(why) = outcome {
                *failed += 1;
                if *failed <= 5 {
                    complain(format!("not delivered: {why}"));
                }
            }
        }
        Event::State { state, .. } => {
            report_state(&session.profile, &state);
            *lost |= state.is_final();
        }
        Event::Error { message, .. } => complain(message),
        _ => {}
    };
    while sent < count && !lost {
        let now = Instant::now();
        if end.is_some_and(|e| now >= e) {
            break;
        }
        let allowed = if args.rate == 0 {
            count
        } else {
            ((now - start).as_secs_f64() * args.rate as f64) as u64 + 1
        };
        let mut budget = 512;
        while sent < count.min(allowed) && sent - done < PUBLISH_WINDOW && budget > 0 {
            let payload = workload.payload(sent);
            bytes += payload.len() as u64;
            session.engine.send(Command::Publish {
                id: CLI_ID,
                token: Token(sent),
                message: Box::new(OutgoingMessage {
                    topic: workload.topic(sent),
                    payload,
                    qos: args.qos,
                    retain: args.retain,
                    properties: Default::default(),
                }),
            });
            sent += 1;
            budget -= 1;
        }
        while let Some(event) = session.engine.try_recv() {
            handle(event, &mut done, &mut failed, &mut lost);
        }
        let waiting = sent - done >= PUBLISH_WINDOW || sent >= allowed.min(count);
        if waiting
            && !lost
            && let Some(event) = session.engine.recv_timeout(Duration::from_millis(1))
        {
            handle(event, &mut done, &mut failed, &mut lost);
        }
    }
    while done < sent && !lost {
        match session.engine.recv_timeout(Duration::from_secs(30)) {
            Some(event) => handle(event, &mut done, &mut failed, &mut lost),
            None => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let profile = session.profile.clone();
    session.close(|event| {
        if let Event::Published { outcome, .. } = event {
            done += 1;
            if let PublishOutcome::Failed(_) = outcome {
                failed += 1;
            }
        }
    });
    let delivered = done - failed;
    let mut printed = Ok(());
    if args.json {
        printed = printed.and_then(|()| {
            super::print_line(format!(
                "{}",
                serde_json::json!({
                    "sent": sent,
                    "delivered": delivered,
                    "failed": failed + (sent - done),
                    "topics": workload.topics().min(sent),
                    "payload_bytes": bytes,
                    "seconds": elapsed,
                    "messages_per_second": sent as f64 / elapsed,
                })
            ))
        });
    } else {
        printed = printed.and_then(|()| super::print_line(format!(
            "published {sent} messages ({:.1} MiB of payload) on {} topics to {} in {elapsed:.3} s ({} msg/s); {} not delivered",
            bytes as f64 / 1048576.0,
            workload.topics().min(sent),
            profile.url(),
            (sent as f64 / elapsed).round(),
            sent - delivered
        )));
    }
    if let Err(code) = printed {
        code
    } else if delivered < sent {
        exit::PUBLISH
    } else if lost {
        exit::CONNECTION
    } else {
        exit::OK
    }
}
