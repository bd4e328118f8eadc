//! `canopy pub`: publish messages and wait until the broker has them.

use std::collections::HashSet;
use std::io::BufRead as _;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;

use super::args::{ConnectionArgs, parse_qos};
use super::{CLI_ID, Session, complain, connect, exit, report_state};
use crate::engine::{Command, Event, PublishOutcome};
use crate::model::message::{OutgoingMessage, Properties, QoS};
use crate::model::topic::validate_topic_name;

/// Arguments of `canopy pub`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["message", "file", "lines", "null_message"])))]
pub struct PubArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Topic to publish to.
    #[arg(short = 't', long)]
    pub topic: String,
    /// The payload.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Send the contents of a file as one message (binary safe).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send one message per line of standard input.
    #[arg(short = 'l', long)]
    pub lines: bool,
    /// Send an empty payload (with -r: deletes the retained message).
    #[arg(short = 'n', long = "null-message")]
    pub null_message: bool,
    /// QoS.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Ask the broker to retain the message.
    #[arg(short = 'r', long)]
    pub retain: bool,
    /// MQTT 5 user property `key=value` (repeatable).
    #[arg(long = "user-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub user_properties: Vec<(String, String)>,
    /// MQTT 5 content type.
    #[arg(long)]
    pub content_type: Option<String>,
    /// MQTT 5 response topic.
    #[arg(long)]
    pub response_topic: Option<String>,
    /// MQTT 5 correlation data (UTF-8 text).
    #[arg(long)]
    pub correlation_data: Option<String>,
    /// MQTT 5 message expiry interval in seconds.
    #[arg(long)]
    pub message_expiry: Option<u32>,
    /// MQTT 5: declare the payload UTF-8 text (payload format indicator 1).
    #[arg(long)]
    pub utf8_payload: bool,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

/// Publishes at most this many messages ahead of their outcomes (bounds memory for `-l`).
const WINDOW: usize = 1000;

struct Publisher {
    session: Session,
    template: OutgoingMessage,
    outstanding: HashSet<u64>,
    next_token: u64,
    failures: u64,
    lost: bool,
}

impl Publisher {
    fn send(&mut self, payload: Bytes) {
        let mut message = self.template.clone();
        message.payload = payload;
        self.next_token += 1;
        self.outstanding.insert(self.next_token);
        self.session.engine.send(Command::Publish {
            id: CLI_ID,
            token: self.next_token,
            message: Box::new(message),
        });
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Published { token, outcome, .. } => {
                self.outstanding.remove(&token);
                if let PublishOutcome::Failed(why) = outcome {
                    self.failures += 1;
                    complain(format!("message {token} not delivered: {why}"));
                }
            }
            Event::State { state, .. } => {
                report_state(&self.session.profile, &state);
                if state.is_final() {
                    self.lost = true;
                }
            }
            Event::Error { message, .. } => complain(message),
            _ => {}
        }
    }

    /// Processes events until at most `limit` publishes are outstanding.
    fn wait_until(&mut self, limit: usize) {
        while self.outstanding.len() > limit && !self.lost {
            match self
                .session
                .engine
                .recv_timeout(std::time::Duration::from_secs(3600))
            {
                Some(event) => self.handle(event),
                None => break,
            }
        }
    }
}

/// Runs `canopy pub`.
pub fn run(args: PubArgs) -> u8 {
    if let Err(e) = validate_topic_name(&args.topic) {
        complain(format!("invalid topic `{}`: {e}", args.topic));
        return exit::USAGE;
    }
    let profile = match args.connection.profile_or_exit() {
        Ok(mut p) => {
            p.subscriptions.clear();
            p
        }
        Err(code) => return code,
    };
    let single: Option<Bytes> = if let Some(m) = &args.message {
        Some(Bytes::from(m.clone()))
    } else if let Some(path) = &args.file {
        match std::fs::read(path) {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(e) => {
                complain(format!(
                    "cannot read {}: {}",
                    path.display(),
                    crate::engine::errors::io_words(&e)
                ));
                return exit::ERROR;
            }
        }
    } else if args.null_message {
        Some(Bytes::new())
    } else {
        None
    };
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let template = OutgoingMessage {
        topic: args.topic.clone(),
        payload: Bytes::new(),
        qos: args.qos,
        retain: args.retain,
        properties: Properties {
            payload_format_indicator: args.utf8_payload.then_some(1),
            message_expiry_interval: args.message_expiry,
            response_topic: args.response_topic.clone(),
            correlation_data: args.correlation_data.clone().map(Bytes::from),
            user_properties: args.user_properties.clone(),
            content_type: args.content_type.clone(),
            ..Properties::default()
        },
    };
    let mut publisher = Publisher {
        session,
        template,
        outstanding: HashSet::new(),
        next_token: 0,
        failures: 0,
        lost: false,
    };
    let mut read_error = false;
    match single {
        Some(payload) => publisher.send(payload),
        None => {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(line) => publisher.send(Bytes::from(line)),
                    Err(e) => {
                        complain(format!("cannot read standard input: {e}"));
                        read_error = true;
                        break;
                    }
                }
                publisher.wait_until(WINDOW);
                if publisher.lost {
                    break;
                }
            }
        }
    }
    publisher.wait_until(0);
    let Publisher {
        session,
        mut outstanding,
        mut failures,
        lost,
        ..
    } = publisher;
    session.close(|event| {
        if let Event::Published { token, outcome, .. } = event {
            outstanding.remove(&token);
            if let PublishOutcome::Failed(why) = outcome {
                failures += 1;
                complain(format!("message {token} not delivered: {why}"));
            }
        }
    });
    if failures > 0 || !outstanding.is_empty() {
        exit::PUBLISH
    } else if lost {
        exit::CONNECTION
    } else if read_error {
        exit::ERROR
    } else {
        exit::OK
    }
}
