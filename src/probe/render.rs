//! The report card as text for a terminal, as a Markdown table to paste into an email, or as
//! JSON (the [`Report`] itself).

use std::fmt::Write as _;

use super::report::{Check, Report, Support};

/// A byte count for people: `512 B`, `64 KiB`, `15.98 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f < KIB {
        format!("{n} B")
    } else if f < KIB * KIB {
        trim(format!("{:.2}", f / KIB)) + " KiB"
    } else {
        trim(format!("{:.2}", f / (KIB * KIB))) + " MiB"
    }
}

/// "16.00" → "16", "15.50" → "15.5".
fn trim(s: String) -> String {
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The short answer of a check: a mark and a word or the number behind it.
fn answer(check: &Check, value: impl Fn(u64) -> String) -> String {
    match (&check.support, check.value) {
        (Support::Supported, Some(v)) => format!("✓ {}", value(v)),
        (Support::Supported, None) => "✓ yes".into(),
        (Support::NotSupported, Some(v)) => format!("✗ {}", value(v)),
        (Support::NotSupported, None) => "✗ no".into(),
        (Support::Unknown(_), _) => "? unknown".into(),
    }
}

/// The rows of the card: item, short answer, detail.
fn rows(report: &Report) -> Vec<[String; 3]> {
    let plain = |v: u64| v.to_string();
    let mut rows = Vec::new();
    let mut row = |item: &str, check: &Check, value: &dyn Fn(u64) -> String| {
        rows.push([item.to_owned(), answer(check, value), check.detail.clone()]);
    };
    row("MQTT 3.1", &report.versions.v3_1, &plain);
    row("MQTT 3.1.1", &report.versions.v3_1_1, &plain);
    row("MQTT 5.0", &report.versions.v5, &plain);
    row("Max QoS granted", &report.max_qos, &|v| format!("QoS {v}"));
    row("Retained messages", &report.retained, &plain);
    row("Wildcard `+`", &report.wildcard_plus, &plain);
    row("Wildcard `#`", &report.wildcard_hash, &plain);
    row("`$SYS` topics", &report.sys_topics, &|v| format!("{v} topics"));
    row("Shared subscriptions", &report.shared_subscriptions, &plain);
    if let Some(m) = &report.mqtt5 {
        let secs = |v: u64| format!("{v} s");
        row("Session expiry (5.0)", &m.session_expiry, &secs);
        row("Subscription ids (5.0)", &m.subscription_identifiers, &plain);
        row("User properties (5.0)", &m.user_properties, &plain);
        row("Topic alias max (5.0)", &m.topic_alias_maximum, &plain);
        row("Wildcards announced (5.0)", &m.wildcard_subscriptions, &plain);
        row("Retain announced (5.0)", &m.retain_available, &plain);
        row("Max QoS announced (5.0)", &m.maximum_qos, &|v| format!("QoS {v}"));
        row("Max packet size (5.0)", &m.maximum_packet_size, &bytes);
        row("Receive maximum (5.0)", &m.receive_maximum, &plain);
        row("Server keep-alive (5.0)", &m.server_keep_alive, &secs);
    }
    row("Largest payload", &report.max_payload, &bytes);
    row("Test messages deleted", &report.cleanup, &plain);
    rows
}

fn latency_rows(report: &Report) -> Vec<[String; 5]> {
    report
        .latency
        .iter()
        .map(|l| {
            [
                format!("QoS {}", l.qos),
                format!("{}/{}", l.received, l.sent),
                format!("{:.2}", l.p50_ms),
                format!("{:.2}", l.p99_ms),
                format!("{:.2}", l.max_ms),
            ]
        })
        .collect()
}

fn throughput_rows(report: &Report) -> Vec<[String; 5]> {
    report
        .throughput
        .iter()
        .map(|t| {
            [
                format!("QoS {}", t.qos),
                format!("{:.0}", t.msgs_per_sec),
                t.delivered.to_string(),
                t.lost.to_string(),
                format!("{:.1}", t.seconds),
            ]
        })
        .collect()
}

const LATENCY_HEAD: [&str; 5] = ["Latency", "back/sent", "p50 ms", "p99 ms", "max ms"];
const THROUGHPUT_HEAD: [&str; 5] = ["Throughput", "msg/s", "delivered", "lost", "seconds"];

fn summary(report: &Report) -> String {
    format!(
        "Broker report card: {} ({}, tested with {}, speed with {}, {:.1} s)",
        report.broker, report.started, report.tested_with, report.speed_tested_with, report.duration_secs
    )
}

/// Columns padded to the widest cell (counted in characters, so ✓ and ✗ line up).
fn aligned<const N: usize>(out: &mut String, head: [&str; N], rows: &[[String; N]]) {
    let mut widths = head.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let last = i + 1 == N;
            if last {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(head.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// For a terminal: aligned columns with ✓ / ✗ / ?.
pub fn text(report: &Report) -> String {
    let mut out = summary(report);
    out.push_str("\n\n");
    aligned(&mut out, ["Item", "Result", "Detail"], &rows(report));
    if !report.latency.is_empty() {
        out.push('\n');
        aligned(&mut out, LATENCY_HEAD, &latency_rows(report));
    }
    if !report.throughput.is_empty() {
        out.push('\n');
        aligned(&mut out, THROUGHPUT_HEAD, &throughput_rows(report));
    }
    out
}

/// A Markdown cell: pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn table<const N: usize>(out: &mut String, head: [&str; N], rows: &[[String; N]]) {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(head.iter().map(|h| cell(h)).collect()));
    out.push_str(&line(head.iter().map(|_| "---".to_owned()).collect()));
    for row in rows {
        out.push_str(&line(row.iter().map(|c| cell(c)).collect()));
    }
}

/// Markdown tables a sales engineer can paste into an email or a report.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("### {}\n\n", cell(&summary(report)));
    table(&mut out, ["Item", "Result", "Detail"], &rows(report));
    if !report.latency.is_empty() {
        out.push('\n');
        table(&mut out, LATENCY_HEAD, &latency_rows(report));
    }
    if !report.throughput.is_empty() {
        out.push('\n');
        table(&mut out, THROUGHPUT_HEAD, &throughput_rows(report));
    }
    let _ = writeln!(
        out,
        "\nAll test messages were published under `{}`.",
        report.scratch_prefix
    );
    out
}

/// The report as pretty-printed JSON.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(16 * 1024 * 1024), "16 MiB");
        assert_eq!(bytes(16_760_832), "15.98 MiB");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn unknown_checks_serialise_with_their_reason() {
        let json = serde_json::to_value(Check::unknown("time limit")).unwrap();
        assert_eq!(json["status"], "unknown");
        assert_eq!(json["reason"], "time limit");
        let json = serde_json::to_value(Check::yes("ok").with_value(2)).unwrap();
        assert_eq!(json["status"], "supported");
        assert_eq!(json["value"], 2);
        assert!(json.get("reason").is_none());
    }
}
