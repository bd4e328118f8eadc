//! Publish templates and hex payloads in the window, against a real mosquitto.

use canopy::model::message::QoS;
use canopy::profiles::profile::Subscription;
use canopy::profiles::store::{self, FORMAT_VERSION, ProfilesFile};
use canopy::ui::action::Action;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use super::{app, step_until};
use crate::common::{Broker, Client};

#[test]
fn a_template_is_saved_in_the_profile_and_sent_with_its_variables() {
    let broker = Broker::start();
    let path = broker.dir.path().join("ui-profiles.toml");
    let mut profile = broker.tcp_profile();
    profile.name = "Templates".into();
    store::save(
        &path,
        &ProfilesFile {
            version: FORMAT_VERSION,
            profiles: vec![profile.clone()],
        },
    )
    .unwrap();
    let mut h = app(&broker);
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    let mut watcher = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("tpl/#", QoS::AtLeastOnce)];
    watcher.connect(7, p);
    watcher.wait_subscribed(7, 1);

    h.get_by_label("Publish…").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("tpl/{{seq}}");
    h.get_by_label("JSON").click();
    h.step();
    h.get_by_role_and_label(Role::MultilineTextInput, "Payload")
        .set_text_value_accesskit(r#"{"n": {{seq}}, "t": {{random 20.0..30.0}}}"#);
    h.get_by_label_contains("Templates (").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Template name")
        .set_text_value_accesskit("reading");
    h.get_by_label("Messages").set_value_accesskit(3.0);
    h.get_by_label("Interval").set_value_accesskit(10.0);
    h.run_steps(2);
    h.get_by_label("💾 Save as template").click();
    step_until(&mut h, "the template in the saved profile", |h| {
        h.state().profiles().file.profiles[0].templates.len() == 1
    });
    step_until(&mut h, "the template written to the profiles file", |_| {
        store::open(&path).file.profiles[0]
            .templates
            .first()
            .is_some_and(|t| t.name == "reading" && t.count == 3 && t.interval_ms == 10)
    });
    step_until(&mut h, "the template listed", |h| {
        h.query_by_label("▶ Send").is_some()
    });
    h.get_by_label("▶ Send").click();
    h.step();
    watcher.wait_messages(7, "tpl/3", 1);
    let got: Vec<(String, serde_json::Value)> = watcher
        .messages(7)
        .iter()
        .map(|m| (m.topic.clone(), serde_json::from_slice(&m.payload).unwrap()))
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    for (i, (topic, v)) in got.iter().enumerate() {
        assert_eq!(topic, &format!("tpl/{}", i + 1));
        assert_eq!(v["n"], i + 1);
        assert!((20.0..=30.0).contains(&v["t"].as_f64().unwrap()), "{v}");
    }
}

#[test]
fn a_hex_payload_is_sent_as_bytes_and_bad_hex_is_refused() {
    let broker = Broker::start();
    let mut h = app(&broker);
    h.state_mut().act(Action::Connect(Box::new(broker.tcp_profile())));
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    let mut watcher = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("bin/#", QoS::AtLeastOnce)];
    watcher.connect(8, p);
    watcher.wait_subscribed(8, 1);
    h.get_by_label("Publish…").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("bin/x");
    h.get_by_label("Hex").click();
    h.step();
    h.get_by_role_and_label(Role::MultilineTextInput, "Payload")
        .set_text_value_accesskit("00 ff:10 7f 0");
    h.run_steps(2);
    assert!(
        super::has_label_containing(&h, "9 hex digits"),
        "odd hex is explained"
    );
    h.get_by_role_and_label(Role::MultilineTextInput, "Payload")
        .set_text_value_accesskit("00 ff:10 7f");
    h.run_steps(2);
    h.get_by_label("📤 Publish").click();
    step_until(&mut h, "the publish outcome", |h| {
        super::has_label_containing(h, "acknowledged") || super::has_label_containing(h, "sent")
    });
    watcher.wait_messages(8, "bin/x", 1);
    assert_eq!(&watcher.messages(8)[0].payload[..], &[0x00, 0xff, 0x10, 0x7f]);
}

/// A file's bytes as the payload, byte for byte (zeros and all); a folder is refused in words
/// and the editor comes back.
#[test]
fn a_file_is_sent_as_the_payload_byte_for_byte() {
    let broker = Broker::start();
    let mut h = app(&broker);
    h.state_mut().act(Action::Connect(Box::new(broker.tcp_profile())));
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    let mut watcher = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("file/#", QoS::AtLeastOnce)];
    watcher.connect(8, p);
    watcher.wait_subscribed(8, 1);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let path = broker.dir.path().join("payload.bin");
    std::fs::write(&path, &bytes).unwrap();

    h.get_by_label("Publish…").click();
    h.step();
    h.state_mut()
        .act(Action::LoadPayloadFile(broker.dir.path().to_path_buf()));
    step_until(&mut h, "the folder refused", |h| {
        super::has_label_containing(h, "not a regular file")
    });
    h.state_mut().act(Action::LoadPayloadFile(path));
    step_until(&mut h, "the file as the payload", |h| {
        super::has_label_containing(h, "payload.bin (68.36 KiB)")
    });
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("file/x");
    h.run_steps(2);
    h.get_by_label("📤 Publish").click();
    h.run_steps(5);
    watcher.wait_messages(8, "file/x", 1);
    assert_eq!(&watcher.messages(8)[0].payload[..], &bytes[..]);
    h.get_by_label("✖ Back to the editor").click();
    h.run_steps(2);
    assert!(
        h.query_by_role_and_label(Role::MultilineTextInput, "Payload")
            .is_some()
    );
}
