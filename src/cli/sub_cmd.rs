//! `canopy sub`: subscribe and print messages.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use super::args::{ConnectionArgs, parse_qos};
use super::trace_out::PacketPrinter;
use super::{complain, connect_traced, exit, routine_event};
use crate::engine::{Event, TraceLevel};
use crate::model::message::{Message, QoS};
use crate::model::proto::{Decoder, ProtoJson};
use crate::model::recording::Line;
use crate::model::search::Query;

/// How `canopy sub` prints messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The payload as is (with `-v`: topic, a space, payload), one message per line.
    Text,
    /// One pretty-printed JSON object per message.
    Json,
    /// One compact JSON object per line.
    Jsonl,
}

/// Arguments of `canopy sub`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct SubArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Topic filter to subscribe to (repeatable).
    #[arg(short = 't', long = "topic", value_name = "FILTER", required = true)]
    pub topics: Vec<String>,
    /// Maximum QoS to request.
    #[arg(short = 'q', long, default_value = "0", value_parser = parse_qos)]
    pub qos: QoS,
    /// Exit after this many messages.
    #[arg(short = 'C', long = "count")]
    pub count: Option<u64>,
    /// Print the topic before the payload (text format).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Output format.
    #[arg(short = 'F', long, value_enum, default_value = "text")]
    pub format: Format,
    /// Report connection and subscription details on stderr.
    #[arg(short = 'd', long)]
    pub debug: bool,
    /// Give up after this many seconds without reaching --count (exit code 6).
    #[arg(short = 'W', long = "timeout", value_name = "SECS", value_parser = super::checks::parse_secs)]
    pub timeout: Option<Duration>,
    /// Write to this file instead of standard output (created or truncated).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only messages whose payload contains this text (ignoring case), or matches it as a
    /// regular expression when written `/…/` (`/…/i` ignores case). Others are not printed
    /// and do not count for --count.
    #[arg(long, value_name = "TEXT|/REGEX/")]
    pub grep: Option<String>,
    /// Only messages whose JSON payload meets a condition: `$.temperature > 80`,
    /// `$.state == alarm`, `$.sensors[0].ok` (present and not false/null).
    #[arg(long = "where", value_name = "CONDITION")]
    pub condition: Option<String>,
    /// Decode payloads with a protobuf schema.
    #[command(flatten)]
    pub proto: super::proto_args::ProtoArgs,
    /// Print every MQTT packet sent and received on stderr, one line each (JSON Lines with
    /// `-F jsonl`), with acknowledgement times; `DUP` marks a retransmission, `SLOW` an
    /// acknowledgement over a second or far above the usual.
    #[arg(long)]
    pub trace_packets: bool,
    /// Reaching --timeout ends the run successfully (`canopy record --duration`).
    #[arg(skip)]
    pub timeout_is_ok: bool,
}

/// Prints one message. With a schema bound to its topic, text output is the decoded JSON (the
/// raw payload, and the reason on stderr, when it does not decode) and JSON output carries it
/// beside the payload (`"protobuf": {"type": …, "json": …}`).
fn print(
    out: &mut impl std::io::Write,
    args: &SubArgs,
    decoder: Option<&Decoder>,
    m: &Message,
) -> std::io::Result<()> {
    let decoded = decoder.and_then(|d| d.decode_json(&m.topic, &m.payload));
    match args.format {
        Format::Text => {
            if args.verbose {
                out.write_all(m.topic.as_bytes())?;
                out.write_all(b" ")?;
            }
            match decoded {
                Some(ProtoJson { json: Some(json), .. }) => out.write_all(json.to_string().as_bytes())?,
                Some(ProtoJson { error, .. }) => {
                    complain(format!("{}: {}", m.topic, error.unwrap_or_default()));
                    out.write_all(&m.payload)?;
                }
                None => out.write_all(&m.payload)?,
            }
            out.write_all(b"\n")
        }
        Format::Json | Format::Jsonl => {
            let mut line = Line::from_message(m);
            line.protobuf = decoded;
            let text = if args.format == Format::Json {
                line.to_json_pretty()
            } else {
                line.to_json()
            };
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")
        }
    }
}

/// Runs `canopy sub`.
pub fn run(args: SubArgs) -> u8 {
    let filters = match payload_filters(&args) {
        Ok(f) => f,
        Err(e) => {
            complain(e);
            return exit::USAGE;
        }
    };
    let profile = match args.connection.subscribing_profile(&args.topics, args.qos) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Compiled before connecting: a schema that does not compile is a usage error.
    let decoder = match args.proto.decoder(&profile.proto, "#") {
        Ok(d) => d,
        Err(e) => {
            complain(e);
            return exit::USAGE;
        }
    };
    let mut printer = args
        .trace_packets
        .then(|| PacketPrinter::new(args.format == Format::Jsonl));
    let level = if args.trace_packets {
        TraceLevel::Packets
    } else {
        TraceLevel::Off
    };
    let traced = |printer: &mut Option<PacketPrinter>, e: &Event| {
        if let Some(p) = printer.as_mut() {
            p.event(e);
        }
    };
    let session = match connect_traced(profile, args.connection.retry, level, |e| traced(&mut printer, e)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.debug {
        complain(format!("connected to {}", session.describe()));
    }
    let sink: Box<dyn std::io::Write> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                complain(format!(
                    "cannot create {}: {}",
                    path.display(),
                    crate::engine::errors::io_words(&e)
                ));
                session.close(|e| traced(&mut printer, &e));
                return exit::ERROR;
            }
        },
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, sink);
    let code = receive(
        &args,
        &filters,
        decoder.as_ref(),
        &session,
        &mut out,
        &mut printer,
    );
    // The last flush can fail too (a full disk): then the output is incomplete and the run
    // failed, whatever it was going to say.
    let code = match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe && code != exit::ERROR => {
            complain(format!("cannot write {}: {e}", output_name(&args)));
            exit::ERROR
        }
        _ => code,
    };
    drop(out);
    session.close(|e| traced(&mut printer, &e));
    code
}

/// The output in messages: the file, or standard output.
fn output_name(args: &SubArgs) -> String {
    args.output
        .as_ref()
        .map_or_else(|| "standard output".to_owned(), |p| p.display().to_string())
}

/// The payload filters of --grep and --where, read before connecting.
fn payload_filters(args: &SubArgs) -> Result<Vec<Query>, String> {
    let mut filters = Vec::new();
    if let Some(text) = &args.grep {
        let query = if text.trim_start().starts_with('$') {
            // `$` begins a JSON condition in the window's search; here it is only text.
            Query::parse(&regex_escape_text(text))
        } else {
            Query::parse(text)
        };
        filters.extend(query.map_err(|e| format!("--grep: {e}"))?);
    }
    if let Some(text) = &args.condition {
        if !text.trim_start().starts_with('$') {
            return Err(format!(
                "--where `{text}`: a condition starts with $, e.g. '$.temperature > 80'"
            ));
        }
        filters.extend(Query::parse(text).map_err(|e| format!("--where: {e}"))?);
    }
    Ok(filters)
}

/// Text to search for as it is, even when it looks like a JSON path.
fn regex_escape_text(text: &str) -> String {
    format!("/{}/i", regex::escape(text))
}

/// Receives and prints until done; returns the exit code. Every write error but a closed pipe
/// (`| head`, a normal end) is reported and is [`exit::ERROR`].
fn receive(
    args: &SubArgs,
    filters: &[Query],
    decoder: Option<&Decoder>,
    session: &super::Session,
    out: &mut impl std::io::Write,
    printer: &mut Option<PacketPrinter>,
) -> u8 {
    // `parse_secs` bounds the timeout, so this cannot overflow; `checked_add` all the same.
    let deadline = args.timeout.and_then(|t| Instant::now().checked_add(t));
    let write_failed = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return exit::OK;
        }
        complain(format!("cannot write {}: {e}", output_name(args)));
        exit::ERROR
    };
    let mut received: u64 = 0;
    let mut pending_subacks = 1usize;
    'outer: loop {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        if deadline.is_some() && wait.is_zero() {
            if args.timeout_is_ok {
                complain(format!("recorded {received} messages"));
                break exit::OK;
            }
            complain(format!("timed out after {received} messages"));
            break exit::TIMEOUT;
        }
        let Some(event) = session.engine.recv_timeout(wait) else {
            continue;
        };
        if let Some(p) = printer.as_mut() {
            p.event(&event);
        }
        match event {
            Event::Messages { messages, .. } => {
                // Only what our own filters match (some brokers send more, unasked), and what
                // --grep / --where keep.
                let wanted = |m: &&Message| m.subscribed && filters.iter().all(|q| q.matches(&m.payload));
                for m in messages.iter().filter(wanted) {
                    if let Err(e) = print(out, args, decoder, m) {
                        break 'outer write_failed(e);
                    }
                    received += 1;
                    if args.count.is_some_and(|c| received >= c) {
                        if let Err(e) = out.flush() {
                            break 'outer write_failed(e);
                        }
                        if args.timeout_is_ok {
                            complain(format!("recorded {received} messages"));
                        }
                        break 'outer exit::OK;
                    }
                }
                if let Err(e) = out.flush() {
                    break write_failed(e);
                }
            }
            Event::Subscribed { results, .. } => {
                for r in &results {
                    if let (true, Ok(qos)) = (args.debug, &r.granted) {
                        complain(format!("subscribed to `{}` (granted QoS {qos})", r.filter));
                    }
                    if let Err(why) = &r.granted {
                        complain(format!("subscription to `{}` refused: {why}", r.filter));
                        if pending_subacks > 0 {
                            break 'outer exit::SUBSCRIBE;
                        }
                    }
                }
                pending_subacks = pending_subacks.saturating_sub(1);
            }
            other => {
                if let Some(code) = routine_event(&session.profile, other) {
                    break code;
                }
            }
        }
    }
}
