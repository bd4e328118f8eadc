//! Searching through payloads in the window, against a real mosquitto.

use canopy::model::message::QoS;
use canopy::profiles::profile::Subscription;
use canopy::ui::action::Action;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use super::{app, has_label_containing, publish_retained, step_until};
use crate::common::Broker;

#[test]
fn a_json_condition_finds_the_hot_topics_and_a_click_shows_one() {
    let broker = Broker::start();
    publish_retained(&broker, "plant/a/temp", r#"{"temperature": 50}"#);
    publish_retained(&broker, "plant/b/temp", r#"{"temperature": 85.5}"#);
    publish_retained(&broker, "home/c/temp", r#"{"temperature": "99"}"#);
    publish_retained(&broker, "home/d/note", "alarm: too hot");
    let mut h = app(&broker);
    let mut profile = broker.tcp_profile();
    profile.subscriptions = vec![Subscription::new("#", QoS::AtMostOnce)];
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "the topics in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("home/d/note").is_some() && t.tree.find("plant/b/temp").is_some())
    });
    h.get_by_label("🔎 Search").click();
    h.run_steps(2);
    // The field takes the keyboard when the window opens: typing goes straight in.
    h.event(egui::Event::Text("$.temperature > 8".into()));
    h.run_steps(2);
    let typed = h.state().active_tab().map(|t| t.search.text.clone());
    assert_eq!(
        typed.as_deref(),
        Some("$.temperature > 8"),
        "typed text reached the field"
    );
    h.get_by_role_and_label(Role::TextInput, "Find")
        .set_text_value_accesskit("$.temperature > 80");
    step_until(&mut h, "two matches", |h| has_label_containing(h, "2 matches"));
    assert!(h.query_by_label("plant/b/temp").is_some());
    assert!(
        h.query_by_label("home/c/temp").is_some(),
        "a number sent as text compares"
    );
    assert!(h.query_by_label("plant/a/temp").is_none());
    h.get_by_label("plant/b/temp").click();
    step_until(&mut h, "the hit selected in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.view.selected.is_some() && t.view.selected == t.tree.find("plant/b/temp"))
    });
    // A regular expression, and a mistake explained.
    h.get_by_role_and_label(Role::TextInput, "Find")
        .set_text_value_accesskit("/^ALARM/i");
    step_until(&mut h, "one match", |h| has_label_containing(h, "1 match"));
    assert!(h.query_by_label("home/d/note").is_some());
    h.get_by_role_and_label(Role::TextInput, "Find")
        .set_text_value_accesskit("/(/");
    step_until(&mut h, "the regex error", |h| {
        has_label_containing(h, "regular expression")
    });
}

/// Found on the live demo in the release window: once a matched topic received a newer value,
/// the hit showed (and a click selected) the newer value, which did not match.
#[test]
fn a_hit_on_a_live_topic_keeps_showing_the_message_that_matched() {
    let broker = Broker::start();
    publish_retained(&broker, "car/1/status", r#"{"battery": 30}"#);
    let mut h = app(&broker);
    let mut profile = broker.tcp_profile();
    profile.subscriptions = vec![Subscription::new("#", QoS::AtMostOnce)];
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "the topic", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("car/1/status").is_some())
    });
    h.get_by_label("🔎 Search").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Find")
        .set_text_value_accesskit("$.battery < 40");
    step_until(&mut h, "one match", |h| has_label_containing(h, "1 match"));
    publish_retained(&broker, "car/1/status", r#"{"battery": 77}"#);
    step_until(&mut h, "the hit marked as replaced", |h| {
        has_label_containing(h, "since replaced")
    });
    assert!(
        has_label_containing(&h, r#"{"battery": 30}"#),
        "the preview is the match"
    );
    assert!(!has_label_containing(&h, r#"{"battery": 77}"#));
    h.get_by_label("car/1/status").click();
    step_until(&mut h, "the matched message selected", |h| {
        h.state().active_tab().is_some_and(|t| t.history_index == 1)
    });
    // Searching again looks at the current values: nothing matches any more.
    h.get_by_label("↻ Search again").click();
    step_until(&mut h, "no match", |h| has_label_containing(h, "0 matches"));
}
