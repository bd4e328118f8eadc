//! `canopy pub`: publish messages and wait until the broker has them.

use std::collections::HashSet;
use std::io::{BufRead as _, Read as _};
use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;

use super::args::{ConnectionArgs, parse_qos};
use super::{CLI_ID, Session, complain, connect, exit, report_state};
use crate::engine::{Command, Event, PublishOutcome, Token};
use crate::model::message::{OutgoingMessage, Properties, QoS};
use crate::model::topic::validate_topic_name;

/// Arguments of `canopy pub`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["message", "file", "stdin_message", "lines", "null_message", "template"])))]
pub struct PubArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Topic to publish to (a template brings its own).
    #[arg(
        short = 't',
        long,
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    pub topic: Option<String>,
    /// The payload.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Send the contents of a file as one message (binary safe).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send all of standard input as one message (binary safe).
    #[arg(short = 's', long = "stdin-message")]
    pub stdin_message: bool,
    /// Send one message per line of standard input (lines are bytes, not necessarily UTF-8;
    /// a trailing CR is removed).
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
    /// Publish a template saved in the profile given with --profile: its topic, payload and
    /// options, with its variables ({{seq}}, {{now}}, {{random 20..30}}...) filled in per
    /// message.
    #[arg(long, value_name = "NAME", requires = "profile")]
    pub template: Option<String>,
    /// With --template: how many messages (default: the template's count).
    #[arg(long, requires = "template")]
    pub count: Option<u32>,
    /// With --template: seconds between messages (default: the template's interval).
    #[arg(long, value_name = "SECONDS", requires = "template")]
    pub interval: Option<f64>,
    /// Encode the JSON payload (each line with -l) as protobuf.
    #[command(flatten)]
    pub proto: super::proto_args::ProtoArgs,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

/// Publishes at most this many messages ahead of their outcomes (bounds memory for `-l`).
const WINDOW: usize = 1000;

pub(super) struct Publisher {
    session: Session,
    template: OutgoingMessage,
    /// Publishes whose outcome has not come back; the command ends when this is empty.
    outstanding: HashSet<Token>,
    next_token: u64,
    failures: u64,
    lost: bool,
}

impl Publisher {
    /// A publisher on a connected session; `template` gives every field but the payload to
    /// [`Publisher::send`].
    pub(super) fn new(session: Session, template: OutgoingMessage) -> Self {
        Self {
            session,
            template,
            outstanding: HashSet::new(),
            next_token: 0,
            failures: 0,
            lost: false,
        }
    }

    /// Whether the connection ended for good.
    pub(super) fn lost(&self) -> bool {
        self.lost
    }

    fn send(&mut self, payload: Bytes) {
        let mut message = self.template.clone();
        message.payload = payload;
        self.send_message(message);
    }

    /// Queues one message; its outcome is counted by [`Publisher::finish`].
    pub(super) fn send_message(&mut self, message: OutgoingMessage) {
        self.next_token += 1;
        let token = Token(self.next_token);
        self.outstanding.insert(token);
        self.session.engine.send(Command::Publish {
            id: CLI_ID,
            token,
            message: Box::new(message),
        });
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Published { token, outcome, .. } => {
                self.outstanding.remove(&token);
                if let PublishOutcome::Failed(why) = outcome {
                    self.failures += 1;
                    complain(format!("message {} not delivered: {why}", token.0));
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

    /// Processes the events that have come, without waiting.
    pub(super) fn poll(&mut self) {
        while let Some(event) = self.session.engine.try_recv() {
            self.handle(event);
        }
    }

    /// Processes events until at most `limit` publishes are outstanding.
    pub(super) fn wait_until(&mut self, limit: usize) {
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

/// The payload given once (`-m`, `-f`, `-s`, `-n`), read before connecting: a file that
/// cannot be read or a payload that cannot fit one MQTT packet is refused with the connection
/// never opened. `Ok(None)` means `-l`.
fn single_payload(args: &PubArgs, max: usize) -> Result<Option<Bytes>, u8> {
    use crate::fsutil::{PAYLOAD_LIMIT, ReadError, read_capped};
    let payload = if let Some(m) = &args.message {
        Bytes::from(m.clone())
    } else if let Some(path) = &args.file {
        match read_capped(path, PAYLOAD_LIMIT, "a payload") {
            Ok(bytes) => Bytes::from(bytes),
            Err(e @ ReadError::Io { .. }) => {
                complain(e);
                return Err(exit::ERROR);
            }
            // Not a regular file or too large: the argument is wrong, not the system.
            Err(e) => {
                complain(e);
                return Err(exit::USAGE);
            }
        }
    } else if args.stdin_message {
        let mut bytes = Vec::new();
        let read = std::io::stdin()
            .lock()
            .take(PAYLOAD_LIMIT + 1)
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            complain(format!("cannot read standard input: {e}"));
            return Err(exit::ERROR);
        }
        Bytes::from(bytes)
    } else if args.null_message {
        Bytes::new()
    } else {
        return Ok(None);
    };
    if payload.len() > max {
        let what = match (&args.file, args.stdin_message) {
            (Some(path), _) => format!("the payload file {}", path.display()),
            (None, true) => "the payload from standard input".to_owned(),
            (None, false) => "the payload (-m)".to_owned(),
        };
        complain(super::checks::payload_too_large(&what, payload.len(), max));
        return Err(exit::USAGE);
    }
    Ok(Some(payload))
}

/// Why `-l` stopped reading.
enum LineError {
    /// A line does not fit one MQTT message.
    TooLong,
    /// Standard input failed (already reported).
    Unreadable,
}

/// Reads the next line of `input` as bytes (without `\n` or a final `\r`), or `None` at the
/// end. Reads at most `max + 2` bytes, so that an endless line (`/dev/zero`) is caught: a
/// line longer than `max` is [`LineError::TooLong`].
fn next_line(input: &mut impl std::io::BufRead, max: usize) -> Result<Option<Vec<u8>>, LineError> {
    let mut line = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    match input.take(limit).read_until(b'\n', &mut line) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) => {
            complain(format!("cannot read standard input: {e}"));
            return Err(LineError::Unreadable);
        }
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() > max {
        return Err(LineError::TooLong);
    }
    Ok(Some(line))
}

/// Runs `canopy pub`.
pub fn run(args: PubArgs) -> u8 {
    if let Some(name) = &args.template {
        return super::template_cmd::run(&args, name);
    }
    let Some(topic) = args.topic.clone() else {
        complain("a topic (-t) is needed");
        return exit::USAGE;
    };
    if let Err(e) = validate_topic_name(&topic) {
        complain(format!("invalid topic `{}`: {e}", topic.escape_debug()));
        return exit::USAGE;
    }
    let profile = match args.connection.profile_or_exit() {
        Ok(mut p) => {
            p.subscriptions.clear();
            p
        }
        Err(code) => return code,
    };
    let properties = Properties {
        payload_format_indicator: args.utf8_payload.then_some(1),
        message_expiry_interval: args.message_expiry,
        response_topic: args.response_topic.clone(),
        correlation_data: args.correlation_data.clone().map(Bytes::from),
        user_properties: args.user_properties.clone(),
        content_type: args.content_type.clone(),
        ..Properties::default()
    };
    if let Some(topic) = &properties.response_topic
        && let Err(e) = validate_topic_name(topic)
    {
        complain(format!("invalid response topic `{}`: {e}", topic.escape_debug()));
        return exit::USAGE;
    }
    // Compiled before connecting: a schema that does not compile is a usage error.
    let decoder = match args.proto.decoder(&profile.proto, &topic) {
        Ok(d) => d,
        Err(e) => {
            complain(e);
            return exit::USAGE;
        }
    };
    let encode = |payload: Bytes| -> Result<Bytes, String> {
        let Some(decoder) = &decoder else {
            return Ok(payload);
        };
        let json = std::str::from_utf8(&payload).map_err(|_| "the payload is not UTF-8 JSON".to_owned())?;
        match decoder.encode(&topic, json) {
            Some(result) => result.map(Bytes::from).map_err(|e| e.to_string()),
            None => Ok(payload),
        }
    };
    // Counted as MQTT 5 (properties take room) unless 3.1.1 is asked for: the safe side.
    let v5 = profile.version.allows_v5();
    let max = super::checks::max_payload(&topic, &properties, v5);
    let single = match single_payload(&args, max).map(|p| p.map(&encode).transpose()) {
        Ok(Ok(single)) => single,
        Ok(Err(e)) => {
            complain(e);
            return exit::USAGE;
        }
        Err(code) => return code,
    };
    if let Some(warning) =
        super::checks::v5_only_warning(profile.version, &super::checks::v5_publish_options(&properties))
    {
        complain(warning);
    }
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let template = OutgoingMessage {
        topic: topic.clone(),
        payload: Bytes::new(),
        qos: args.qos,
        retain: args.retain,
        properties,
    };
    let mut publisher = Publisher::new(session, template);
    let mut read_error = None;
    match single {
        Some(payload) => publisher.send(payload),
        None => {
            let mut stdin = std::io::stdin().lock();
            let mut number = 0u64;
            loop {
                number += 1;
                match next_line(&mut stdin, max) {
                    Ok(Some(line)) => match encode(Bytes::from(line)) {
                        Ok(payload) => publisher.send(payload),
                        Err(e) => {
                            complain(format!("line {number} of standard input: {e}"));
                            read_error = Some(exit::USAGE);
                            break;
                        }
                    },
                    Ok(None) => break,
                    Err(LineError::TooLong) => {
                        complain(format!(
                            "line {number} of standard input is longer than the largest MQTT \
                             message to this topic ({max} bytes); stopped there"
                        ));
                        read_error = Some(exit::USAGE);
                        break;
                    }
                    Err(LineError::Unreadable) => {
                        read_error = Some(exit::ERROR);
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
    publisher.finish(read_error)
}

impl Publisher {
    /// Waits for every outcome, disconnects gracefully and gives the exit code: undelivered
    /// messages first, then a lost connection, then `read_error` (the input was bad).
    pub(super) fn finish(mut self, read_error: Option<u8>) -> u8 {
        self.wait_until(0);
        let Publisher {
            session,
            mut outstanding,
            mut failures,
            lost,
            ..
        } = self;
        session.close(|event| {
            if let Event::Published { token, outcome, .. } = event {
                outstanding.remove(&token);
                if let PublishOutcome::Failed(why) = outcome {
                    failures += 1;
                    complain(format!("message {} not delivered: {why}", token.0));
                }
            }
        });
        if failures > 0 || !outstanding.is_empty() {
            exit::PUBLISH
        } else if lost {
            exit::CONNECTION
        } else if let Some(code) = read_error {
            code
        } else {
            exit::OK
        }
    }
}
