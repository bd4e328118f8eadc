//! Protobuf schemas in the window, against a real mosquitto: a saved profile with a binding
//! decodes matching payloads into the JSON tree and the charts, a payload that does not decode
//! shows raw bytes with the reason, and a binding added through the Schemas window's action
//! is saved and used at once.

use std::path::PathBuf;

use canopy::model::message::QoS;
use canopy::model::proto::{Binding, ProtoSettings, SchemaState};
use canopy::profiles::profile::Subscription;
use canopy::profiles::store::{ProfilesFile, save};
use canopy::ui::action::Action;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{has_label_containing, publish_retained, step_until, window};
use crate::common::Broker;
use canopy::ui::CanopyApp;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proto")
}

fn encoded(type_name: &str, json: &str) -> Vec<u8> {
    let schema = canopy::model::proto::Schema::compile(&fixtures()).unwrap();
    canopy::model::proto::encode(&schema.message(type_name).unwrap(), json).unwrap()
}

fn select(h: &mut Harness<'static, CanopyApp>, topic: &str) {
    let tab = h.state_mut().active_tab_mut().unwrap();
    let id = tab.tree.find(topic).unwrap();
    tab.select(id);
    h.run_steps(2);
}

#[test]
fn bound_topics_are_decoded_into_the_tree_and_charts_and_bindings_added_in_the_window_are_saved() {
    let broker = Broker::start();
    let reading = |value: f64| {
        encoded(
            "canopy.plant.Reading",
            &format!(
                r#"{{"sensor":"t1","quantity":{{"value":{value},"unit":"CELSIUS"}},"labels":{{"site":"north"}}}}"#
            ),
        )
    };
    publish_retained(&broker, "plant/a/reading", reading(21.5));
    publish_retained(&broker, "plant/b/reading", [0x08, 0x01]);
    publish_retained(
        &broker,
        "plant/a/cmd",
        encoded("canopy.plant.Command", r#"{"target":"pump","enable":true}"#),
    );

    let file = broker.dir.path().join("ui-profiles.toml");
    let mut profile = broker.tcp_profile();
    profile.name = "Plant".into();
    profile.subscriptions = vec![Subscription::new("plant/#", QoS::AtMostOnce)];
    profile.proto = ProtoSettings {
        path: Some(fixtures()),
        bindings: vec![Binding::new("plant/+/reading", "canopy.plant.Reading")],
    };
    save(
        &file,
        &ProfilesFile {
            profiles: vec![profile.clone()],
            ..Default::default()
        },
    )
    .unwrap();
    let mut h = window(file);
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "the topics and the compiled schema", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.tree.find("plant/b/reading").is_some()
                && t.tree.find("plant/a/cmd").is_some()
                && matches!(t.proto, SchemaState::Ready(_))
        })
    });

    select(&mut h, "plant/a/reading");
    step_until(&mut h, "the decoded payload", |h| {
        has_label_containing(h, "Decoded as canopy.plant.Reading")
    });
    // The tree's value column shows the decoded message too, not its bytes.
    {
        let tab = h.state_mut().active_tab_mut().unwrap();
        let id = tab.tree.find("plant/a/reading").unwrap();
        let ancestors: Vec<_> = tab.tree.ancestors(id).collect();
        for a in ancestors {
            tab.view.set_expanded(a, true);
        }
    }
    // Twice: the tree's value column and the topic's history list.
    step_until(&mut h, "the decoded value in the tree and the history", |h| {
        h.query_all_by_label_contains(r#"{"sensor":"t1","quantity":"#)
            .count()
            >= 2
    });
    h.get_by_label("As a tree").click();
    step_until(&mut h, "the decoded fields in the JSON tree", |h| {
        h.query_by_label("\"north\"").is_some() && h.query_by_label("21.5").is_some()
    });
    assert!(h.query_by_label("\"CELSIUS\"").is_some(), "enums by name");

    // A number of the decoded message is charted, from the history and as messages come.
    h.state_mut().act(Action::Plot {
        topic: "plant/a/reading".into(),
        path: vec!["quantity".into(), "value".into()],
    });
    publish_retained(&broker, "plant/a/reading", reading(23.0));
    step_until(&mut h, "two charted points", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.charts.series.first().is_some_and(|s| s.points.len() == 2))
    });
    let values: Vec<f64> = h.state().active_tab().unwrap().charts.series[0]
        .points
        .iter()
        .map(|p| p[1])
        .collect();
    assert_eq!(values, [21.5, 23.0]);

    // Bytes that are not a Reading: the reason, and the raw bytes in hex.
    select(&mut h, "plant/b/reading");
    step_until(&mut h, "the decode error beside the raw bytes", |h| {
        has_label_containing(h, "not a canopy.plant.Reading message") && has_label_containing(h, "08 01")
    });

    // Not bound yet: shown by the schema-less decoders. Bound through the window's action:
    // decoded at once, and saved in the profile.
    select(&mut h, "plant/a/cmd");
    assert!(!has_label_containing(&h, "Decoded as"));
    let mut settings = h.state().active_tab().unwrap().profile.proto.clone();
    settings
        .bindings
        .push(Binding::new("plant/+/cmd", "canopy.plant.Command"));
    h.state_mut().act(Action::SetProto(Box::new(settings)));
    step_until(&mut h, "the command decoded", |h| {
        has_label_containing(h, "Decoded as canopy.plant.Command")
    });
    assert!(h.query_by_label("\"pump\"").is_some(), "its fields in the tree");
    let saved = &h.state().profiles().file.profiles[0].proto;
    assert_eq!(saved.bindings.len(), 2);
    assert_eq!(saved.bindings[1].message_type, "canopy.plant.Command");

    // The Schemas window lists them and says the schema compiled.
    h.get_by_label("📐 Schemas").click();
    h.run_steps(2);
    assert!(has_label_containing(&h, "Compiled: 2 files, 4 message types"));
    assert!(h.query_by_label("plant/+/cmd").is_some());
}

/// JSON written in the publish panel for a bound topic goes out encoded (the panel says so
/// before sending), and a subscriber without Canopy receives protobuf bytes.
#[test]
fn json_published_from_the_panel_to_a_bound_topic_goes_out_encoded() {
    use canopy::model::proto::Schema;
    use egui::accesskit::Role;
    let broker = Broker::start();
    let mut profile = broker.tcp_profile();
    profile.proto = ProtoSettings {
        path: Some(fixtures()),
        bindings: vec![Binding::new("plant/+/cmd", "canopy.plant.Command")],
    };
    let mut h = super::app(&broker);
    h.state_mut().act(Action::Connect(Box::new(profile.clone())));
    step_until(&mut h, "connected with the compiled schema", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.connected() && matches!(t.proto, SchemaState::Ready(_)))
    });
    let mut watcher = crate::common::Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("plant/#", QoS::AtLeastOnce)];
    watcher.connect(8, p);
    watcher.wait_subscribed(8, 1);
    h.get_by_label("Publish…").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("plant/a/cmd");
    h.get_by_role_and_label(Role::MultilineTextInput, "Payload")
        .set_text_value_accesskit(r#"{"target": "pump", "enable": true}"#);
    h.run_steps(2);
    assert!(has_label_containing(&h, "encoded as canopy.plant.Command"));
    h.get_by_label("📤 Publish").click();
    // QoS 0: the outcome is "sent"; a few frames apply the action and hand it to the engine.
    h.run_steps(5);
    watcher.wait_messages(8, "plant/a/cmd", 1);
    let bytes = watcher.messages(8)[0].payload.clone();
    let schema = Schema::compile(&fixtures()).unwrap();
    let json = canopy::model::proto::decode(&schema.message("canopy.plant.Command").unwrap(), &bytes);
    let json = json.expect("protobuf bytes on the wire");
    assert_eq!(json["target"], "pump");
    assert_eq!(json["enable"], true);
}
