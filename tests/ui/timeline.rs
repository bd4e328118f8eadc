//! The protocol timeline window against a real mosquitto: rows appear, the type filter
//! narrows them, the export writes JSON Lines.

use canopy::model::message::QoS;
use canopy::model::timeline::PacketKind;
use canopy::profiles::profile::Subscription;
use canopy::ui::action::Action;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use super::{app, has_label_containing, publish_retained, step_until};
use crate::common::Broker;

#[test]
fn the_timeline_shows_packets_filters_by_type_and_exports_jsonl() {
    let broker = Broker::start();
    publish_retained(&broker, "tl/a", "1");
    publish_retained(&broker, "tl/b", "2");
    let mut h = app(&broker);
    let mut profile = broker.tcp_profile();
    profile.subscriptions = vec![Subscription::new("tl/#", QoS::AtLeastOnce)];
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "connected and subscribed", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("tl/b").is_some())
    });
    // Opened after connecting: the control packets are there already.
    h.get_by_label("🕒 Timeline").click();
    step_until(&mut h, "the CONNACK row", |h| {
        has_label_containing(h, "accepted, session present")
    });
    let subscribe_rows = h.state().active_tab().map_or(0, |t| {
        t.timeline
            .timeline
            .rows()
            .iter()
            .filter(|r| r.entry.kind == PacketKind::Subscribe && r.entry.topic.as_deref() == Some("tl/#"))
            .count()
    });
    assert_eq!(subscribe_rows, 1, "the SUBSCRIBE row names its filter");
    assert!(
        h.query_all_by_label("tl/#").count() >= 2,
        "shown beside the subscription list's"
    );
    // Now every packet is traced: a publish from the window's own connection shows up.
    publish_retained(&broker, "tl/c", "3");
    step_until(&mut h, "the PUBLISH of tl/c traced", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.timeline
                .timeline
                .rows()
                .iter()
                .any(|r| r.entry.topic.as_deref() == Some("tl/c"))
        })
    });
    h.run_steps(3);
    assert!(
        h.query_by_label("tl/c").is_some(),
        "its row is shown (the list sticks to the bottom)"
    );
    let count = |h: &egui_kittest::Harness<'static, canopy::ui::CanopyApp>| {
        h.state()
            .active_tab()
            .map_or(0, |t| t.timeline.timeline.rows().len())
    };
    assert!(
        count(&h) >= 6,
        "CONNECT, CONNACK, SUBSCRIBE, SUBACK, PUBLISH, PUBACK at least"
    );

    // Hiding PUBLISH removes its rows (the toggle shares its name with the row's type).
    let publishes =
        |h: &egui_kittest::Harness<'static, canopy::ui::CanopyApp>| h.query_all_by_label("PUBLISH").count();
    let before = publishes(&h);
    assert!(before >= 2, "the toggle and at least one row");
    h.query_all_by_label("PUBLISH").next().unwrap().click();
    h.run_steps(2);
    assert_eq!(publishes(&h), 1, "only the toggle is left");
    assert!(h.query_by_label("tl/c").is_none());
    assert!(
        !h.state()
            .active_tab()
            .unwrap()
            .timeline
            .filter
            .shows(PacketKind::Publish)
    );

    // Topic filter: only rows naming tl/c (none while PUBLISH is hidden).
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("tl/");
    h.run_steps(2);
    assert!(
        has_label_containing(&h, "2 of "),
        "SUBSCRIBE and SUBACK name tl/#"
    );

    // Export (the picker bypassed by giving the path): the filtered rows as JSON Lines.
    let path = broker.dir.path().join("timeline.jsonl");
    let id = h.state().active_tab().unwrap().id;
    h.state_mut().act(Action::ExportTimeline {
        tab: id,
        path: Some(path.clone()),
    });
    step_until(&mut h, "the export written", |_| path.exists());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l["topic"].as_str().is_some_and(|t| t.contains("tl/"))),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "SUBACK" && l["details"] == "granted QoS 1"),
        "{text}"
    );
}
