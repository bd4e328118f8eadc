//! A timeline row as one JSON object (JSON Lines export, `canopy sub -F jsonl
//! --trace-packets`) and as one line of text (`canopy sub --trace-packets`).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::Row;

/// Milliseconds since `started` (0 without a start), with microseconds.
fn relative_ms(row: &Row, started: Option<SystemTime>) -> f64 {
    started
        .and_then(|s| row.entry.at.duration_since(s).ok())
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn ms(d: Duration) -> f64 {
    // Rounded to the microsecond: more digits are noise and make the lines long.
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// One row as a JSON object on one line (no newline). Fields that do not apply are left out;
/// `slow` and `dup` only appear when true, so a `grep '"slow"'` finds the ones that stand out.
pub fn jsonl_line(row: &Row, started: Option<SystemTime>) -> String {
    let e = &row.entry;
    let mut o = Map::new();
    let unix_ms = e.at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    o.insert("time_ms".into(), json!(unix_ms));
    o.insert(
        "t_ms".into(),
        json!((relative_ms(row, started) * 1000.0).round() / 1000.0),
    );
    o.insert("dir".into(), json!(e.direction.word()));
    o.insert("type".into(), json!(e.kind.name()));
    if e.pkid != 0 {
        o.insert("pkid".into(), json!(e.pkid));
    }
    if let Some(topic) = &e.topic {
        o.insert("topic".into(), json!(topic));
    }
    if let Some(qos) = e.qos {
        o.insert("qos".into(), json!(qos.level()));
    }
    if let Some(size) = e.size {
        o.insert("size".into(), json!(size));
    }
    if e.retain {
        o.insert("retain".into(), Value::Bool(true));
    }
    if e.dup {
        o.insert("dup".into(), Value::Bool(true));
    }
    if !e.details.is_empty() {
        o.insert("details".into(), json!(e.details));
    }
    if let Some(l) = row.latency {
        o.insert("latency_ms".into(), json!(ms(l)));
    }
    if row.slow {
        o.insert("slow".into(), Value::Bool(true));
    }
    Value::Object(o).to_string()
}

/// One row as a line of text for a terminal: time since connect, arrow, type, then what
/// applies. Marker words `DUP` and `SLOW` make retransmissions and slow acknowledgements
/// easy to grep.
pub fn text_line(row: &Row, started: Option<SystemTime>) -> String {
    let e = &row.entry;
    let mut line = format!(
        "{:>10.3} ms {} {:<11}",
        relative_ms(row, started),
        e.direction.arrow(),
        e.kind.name()
    );
    // Writing to a String cannot fail.
    if e.pkid != 0 {
        let _ = write!(line, " pkid={}", e.pkid);
    }
    if let Some(qos) = e.qos {
        let _ = write!(line, " qos={}", qos.level());
    }
    if let Some(topic) = &e.topic {
        let _ = write!(line, " topic={topic}");
    }
    if let Some(size) = e.size {
        let _ = write!(line, " size={size}");
    }
    if e.retain {
        line.push_str(" retain");
    }
    if !e.details.is_empty() {
        let _ = write!(line, " {}", e.details);
    }
    if let Some(l) = row.latency {
        let _ = write!(line, " latency={:.3}ms", ms(l));
    }
    if e.dup {
        line.push_str(" DUP");
    }
    if row.slow {
        line.push_str(" SLOW");
    }
    line
}
