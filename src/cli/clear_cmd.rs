//! `canopy clear-retained`: delete the retained messages under a topic filter.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use clap::Args;

use super::args::ConnectionArgs;
use super::{CLI_ID, complain, connect, exit, routine_event};
use crate::engine::{Command, Event, PublishOutcome, Token};
use crate::model::message::QoS;

/// Arguments of `canopy clear-retained`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct ClearArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Topic filter whose retained messages go (repeatable), e.g. `plant/line1/#`.
    #[arg(short = 't', long = "topic", value_name = "FILTER", required = true)]
    pub topics: Vec<String>,
    /// Only list the retained topics that would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds without a new retained message after which the list is taken as complete.
    #[arg(long, default_value = "1.0", value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub quiet: Duration,
    /// Print every topic deleted (or, with --dry-run, found).
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Runs `canopy clear-retained`.
pub fn run(args: ClearArgs) -> u8 {
    let profile = match args
        .connection
        .subscribing_profile(&args.topics, QoS::AtLeastOnce)
    {
        Ok(p) => p,
        Err(code) => return code,
    };
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The broker sends the retained messages right after the subscription; collect them
    // until none has come for a while.
    let quiet = args.quiet.max(Duration::from_millis(50));
    let mut found = BTreeSet::new();
    let mut last_news = Instant::now();
    let mut subscribed = false;
    let mut unasked = 0u64;
    let mut code = None;
    while code.is_none() {
        let left = (last_news + quiet).saturating_duration_since(Instant::now());
        if subscribed && left.is_zero() {
            break;
        }
        let Some(event) = session.engine.recv_timeout(left.max(Duration::from_millis(10))) else {
            continue;
        };
        match event {
            Event::Messages { messages, .. } => {
                for m in messages {
                    // Only what our own filters match: some brokers push other retained
                    // messages unasked, and deleting those would destroy data.
                    if !m.subscribed {
                        unasked += 1;
                        continue;
                    }
                    if m.retain && !m.payload.is_empty() && found.insert(m.topic) {
                        last_news = Instant::now();
                    }
                }
            }
            Event::Subscribed { results, .. } => {
                for r in &results {
                    if let Err(why) = &r.granted {
                        complain(format!("subscription to `{}` refused: {why}", r.filter));
                        code = Some(exit::SUBSCRIBE);
                    }
                }
                subscribed = true;
                last_news = Instant::now();
            }
            other => code = routine_event(&session.profile, other),
        }
    }
    if let Some(code) = code {
        session.close(|_| {});
        return code;
    }
    if unasked > 0 {
        complain(format!(
            "ignored {unasked} messages the broker sent outside the given filters (left untouched)"
        ));
    }
    if found.is_empty() && args.topics.iter().any(|t| t.contains(['+', '#'])) {
        complain(
            "note: no retained messages found. Some brokers (RabbitMQ) do not deliver retained \
             messages to wildcard subscriptions; give exact topics (-t a/b/c) instead",
        );
    }
    if args.dry_run {
        let printed = found.iter().try_for_each(super::print_line);
        session.close(|_| {});
        if let Err(code) = printed {
            return code;
        }
        complain(format!(
            "{} retained messages found (dry run: nothing deleted)",
            found.len()
        ));
        return exit::OK;
    }
    // Unsubscribe first, so that our own deletions are not echoed back.
    session.engine.send(Command::Unsubscribe {
        id: CLI_ID,
        filters: args.topics.clone(),
    });
    let topics: Vec<String> = found.into_iter().collect();
    for (token, topic) in topics.iter().enumerate() {
        session.engine.send(Command::ClearRetained {
            id: CLI_ID,
            token: Token(token as u64),
            topic: topic.clone(),
        });
    }
    let (mut done, mut failed) = (0usize, 0usize);
    let mut lost = false;
    let mut write_error = None;
    while done < topics.len() && !lost {
        let Some(event) = session.engine.recv_timeout(Duration::from_secs(60)) else {
            break;
        };
        match event {
            Event::Published { token, outcome, .. } => {
                done += 1;
                let topic = usize::try_from(token.0)
                    .ok()
                    .and_then(|i| topics.get(i))
                    .map_or("?", String::as_str);
                match outcome {
                    PublishOutcome::Failed(why) => {
                        failed += 1;
                        complain(format!("`{topic}` not cleared: {why}"));
                    }
                    _ if args.verbose && write_error.is_none() => {
                        write_error = super::print_line(topic).err();
                    }
                    _ => {}
                }
            }
            other => lost |= routine_event(&session.profile, other).is_some(),
        }
    }
    session.close(|_| {});
    let missing = topics.len() - done;
    complain(format!(
        "cleared {} of {} retained messages",
        done - failed,
        topics.len()
    ));
    if failed + missing > 0 {
        exit::PUBLISH
    } else {
        write_error.unwrap_or(exit::OK)
    }
}
