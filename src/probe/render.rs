//! The report card as text for a terminal, as a Markdown table to paste into an email, or as
//! JSON (the [`Report`] itself).

use std::fmt::Write as _;

use super::report::{Check, Report, Support};

use crate::model::units::bytes;

/// Which part of the report card an item belongs to (the window groups them by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Protocol versions and the QoS granted.
    Protocol,
    /// Retained messages, wildcards, `$SYS`, shared subscriptions.
    Features,
    /// What an MQTT 5 broker announced or did (only when it speaks MQTT 5).
    Mqtt5,
    /// The largest payload.
    Size,
    /// Whether the test messages were deleted.
    Cleanup,
}

/// One line of the report card, as every renderer shows it.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// Where it goes.
    pub section: Section,
    /// What was checked, without the section's suffix ("Session expiry", not "… (5.0)").
    pub name: &'static str,
    /// The answer and what was seen.
    pub check: &'a Check,
    /// The number behind the answer in words ("QoS 2", "16 MiB", "60 s"), if there is one.
    pub value: Option<String>,
}

impl Item<'_> {
    /// The name as the text and Markdown tables show it: MQTT 5 items say so.
    pub fn table_name(&self) -> String {
        match self.section {
            Section::Mqtt5 => format!("{} (5.0)", self.name),
            _ => self.name.to_owned(),
        }
    }

    /// The short answer: a mark and a word or the number behind it ("✓ QoS 2", "✗ no").
    pub fn answer(&self) -> String {
        format!("{} {}", mark(&self.check.support), self.short())
    }

    /// The answer without its mark: the number in words, else yes / no / unknown.
    pub fn short(&self) -> String {
        match (&self.check.support, &self.value) {
            (Support::Unknown(_), _) => "unknown".into(),
            (_, Some(v)) => v.clone(),
            (Support::Supported, None) => "yes".into(),
            (Support::NotSupported, None) => "no".into(),
        }
    }
}

/// ✓, ✗ or ?.
pub fn mark(support: &Support) -> &'static str {
    match support {
        Support::Supported => "✓",
        Support::NotSupported => "✗",
        Support::Unknown(_) => "?",
    }
}

fn item<'a>(
    section: Section,
    name: &'static str,
    check: &'a Check,
    value: impl Fn(u64) -> String,
) -> Item<'a> {
    Item {
        section,
        name,
        check,
        value: check.value.map(value),
    }
}

/// Every line of the report card, in the order the tables list them.
pub fn items(report: &Report) -> Vec<Item<'_>> {
    use Section::{Cleanup, Features, Mqtt5, Protocol, Size};
    let plain = |v: u64| v.to_string();
    let qos = |v: u64| format!("QoS {v}");
    let secs = |v: u64| format!("{v} s");
    let mut items = vec![
        item(Protocol, "MQTT 3.1", &report.versions.v3_1, plain),
        item(Protocol, "MQTT 3.1.1", &report.versions.v3_1_1, plain),
        item(Protocol, "MQTT 5.0", &report.versions.v5, plain),
        item(Protocol, "Max QoS granted", &report.max_qos, qos),
        item(Features, "Retained messages", &report.retained, plain),
        item(Features, "Wildcard `+`", &report.wildcard_plus, plain),
        item(Features, "Wildcard `#`", &report.wildcard_hash, plain),
        item(Features, "`$SYS` topics", &report.sys_topics, |v| {
            format!("{v} topics")
        }),
        item(
            Features,
            "Shared subscriptions",
            &report.shared_subscriptions,
            plain,
        ),
    ];
    if let Some(m) = &report.mqtt5 {
        items.extend([
            item(Mqtt5, "Session expiry", &m.session_expiry, secs),
            item(Mqtt5, "Subscription ids", &m.subscription_identifiers, plain),
            item(Mqtt5, "User properties", &m.user_properties, plain),
            item(Mqtt5, "Topic alias max", &m.topic_alias_maximum, plain),
            item(Mqtt5, "Wildcards announced", &m.wildcard_subscriptions, plain),
            item(Mqtt5, "Retain announced", &m.retain_available, plain),
            item(Mqtt5, "Max QoS announced", &m.maximum_qos, qos),
            item(Mqtt5, "Max packet size", &m.maximum_packet_size, bytes),
            item(Mqtt5, "Receive maximum", &m.receive_maximum, plain),
            item(Mqtt5, "Server keep-alive", &m.server_keep_alive, secs),
        ]);
    }
    items.push(item(Size, "Largest payload", &report.max_payload, bytes));
    items.push(item(Cleanup, "Test messages deleted", &report.cleanup, plain));
    items
}

/// The rows of the tables: item, short answer, detail.
fn rows(report: &Report) -> Vec<[String; 3]> {
    items(report)
        .iter()
        .map(|i| [i.table_name(), i.answer(), i.check.detail.clone()])
        .collect()
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
    let software = report
        .broker_software
        .as_ref()
        .map(|s| format!(", {s}"))
        .unwrap_or_default();
    format!(
        "Broker report card: {}{software} ({}, tested with {}, speed with {}, {:.1} s)",
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
