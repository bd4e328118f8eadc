//! The broker report card in the window against a real mosquitto: one click starts the probe
//! as a background job, Cancel stops it and leaves the broker clean, a quick run shows the
//! card, and the exports write what `canopy probe` would.

use std::time::{Duration, Instant};

use canopy::ui::CanopyApp;
use canopy::ui::action::{Action, CardFormat};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{create_and_connect, has_label_containing, step_until, window_sized};
use crate::common::Broker;

/// Steps until `what` holds, for up to `secs` (a probe outlasts `step_until`'s 20 s).
fn step_for(
    h: &mut Harness<'static, CanopyApp>,
    secs: u64,
    description: &str,
    what: impl Fn(&Harness<'static, CanopyApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !what(h) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {description}; card: {:?}; notices: {:?}",
            h.state().report_card().run,
            h.state().notices()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn report_card_runs_cancels_shows_and_exports() {
    let broker = Broker::start();
    let mut h = window_sized(
        broker.dir.path().join("ui-profiles.toml"),
        egui::vec2(1440.0, 900.0),
    );
    create_and_connect(&mut h, &broker, "Plant");

    // One click starts a full probe in the background; the window keeps drawing its progress.
    h.get_by_label("📋 Report card").click();
    step_until(&mut h, "the probe's first step", |h| {
        has_label_containing(h, &format!("Probing mqtt://127.0.0.1:{}", broker.ports.tcp))
            && has_label_containing(h, "probing MQTT")
    });
    assert!(h.state().report_card().is_running());
    let cancelled_at = Instant::now();
    h.get_by_label("✖ Cancel").click();
    step_until(&mut h, "the cancelled probe to end", |h| {
        has_label_containing(h, "Cancelled. The test messages were deleted.")
    });
    // Between steps: a full probe takes ~12 s, a cancelled one ends within a step's wait.
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(8),
        "cancel took {:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(
        crate::probe::retained_left(&broker),
        "",
        "a cancelled probe left test messages"
    );
    assert!(
        h.state().active_tab().is_some_and(|t| t.connected()),
        "the tab's own connection is untouched"
    );

    // A quick run shows the card.
    h.get_by_label("Quick (about 4 s)").click();
    h.step();
    h.get_by_label("🔁 Run again").click();
    step_for(&mut h, 40, "the report card", |h| {
        h.state().report_card().report().is_some()
    });
    h.step();
    h.step();
    for label in [
        "MQTT 5.0 ✓",
        "MQTT 3.1.1 ✓",
        "MQTT 3.1 ✓",
        "Retained messages: ✓ yes",
        "Max QoS granted: ✓ QoS 2",
        "Session expiry: ✓ 60 s",
        "Latency (round trip)",
        "Throughput",
    ] {
        assert!(h.query_by_label(label).is_some(), "no {label:?} on the card");
    }
    for qos in 0..3 {
        assert!(
            has_label_containing(&h, &format!("QoS {qos}: p50 ")),
            "no latency bar for QoS {qos}"
        );
    }
    assert!(
        has_label_containing(&h, "mosquitto version"),
        "the broker's version is in the header"
    );
    assert!(
        has_label_containing(&h, "Speed tested with MQTT 3.1.1"),
        "the honest note"
    );
    assert!(
        h.state()
            .report_card()
            .card_rect
            .is_some_and(|r| r.width() > 600.0)
    );

    // Copy as Markdown puts the tables on the clipboard.
    h.get_by_label("📋 Copy as Markdown").click();
    // The click lands within a frame or two; the copy is in that frame's output.
    let copied = (0..5).find_map(|_| {
        h.step();
        h.output().platform_output.commands.iter().find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
    });
    assert!(
        copied
            .as_deref()
            .is_some_and(|t| t.contains("| MQTT 5.0 | ✓ yes | accepted |")),
        "{copied:?}"
    );

    // Exports (the file picker bypassed by giving the path): the renderers' Markdown and JSON.
    let md = broker.dir.path().join("card.md");
    let json = broker.dir.path().join("card.json");
    h.state_mut().act(Action::ExportReportCard {
        format: CardFormat::Markdown,
        path: Some(md.clone()),
    });
    h.state_mut().act(Action::ExportReportCard {
        format: CardFormat::Json,
        path: Some(json.clone()),
    });
    step_until(&mut h, "both exports saved", |h| {
        h.query_all_by_label_contains("Report card saved to").count() == 2
    });
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("| MQTT 5.0 | ✓ yes | accepted |"), "{text}");
    assert!(
        text.contains("| Latency | back/sent | p50 ms | p99 ms | max ms |"),
        "{text}"
    );
    assert!(text.contains("| QoS 2 | 50/50 |"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["broker"], format!("mqtt://127.0.0.1:{}", broker.ports.tcp));
    assert_eq!(value["latency"].as_array().map(Vec::len), Some(3));
    assert!(
        value["broker_software"]
            .as_str()
            .unwrap()
            .starts_with("mosquitto version")
    );
}
