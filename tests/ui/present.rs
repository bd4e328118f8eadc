//! Presentation mode against a real mosquitto: a topic pinned from the message view becomes a
//! tile with the value a publish carried; redaction rules typed in presentation mode hide a
//! topic level and a JSON field in the tile, the tree and the message view; tiles and rules
//! are saved in the profiles file and come back in a new window.

use canopy::model::present::Tile;
use canopy::model::redact::Rule;
use canopy::ui::CanopyApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::issue14::select;
use super::{create_and_connect, has_label_containing, publish_retained, step_until, window};
use crate::common::Broker;

const TOPIC: &str = "site/berlin/customer/acme/oven/temperature";

/// Adds a redaction rule through the presentation's menu (opened unless it is).
fn add_rule(h: &mut Harness<'static, CanopyApp>, rule: &str) {
    if h.query_by_role_and_label(Role::TextInput, "New rule").is_none() {
        h.get_by_label_contains("Redaction").click();
        h.step();
        h.step();
    }
    h.get_by_role_and_label(Role::TextInput, "New rule")
        .set_text_value_accesskit(rule);
    h.step();
    h.get_by_label("Add").click();
    h.step();
    h.step();
}

fn no_label_contains(h: &Harness<'static, CanopyApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_none()
}

#[test]
fn a_pinned_topic_is_a_tile_and_redaction_hides_a_level_and_a_field_everywhere() {
    let broker = Broker::start();
    publish_retained(
        &broker,
        TOPIC,
        r#"{"value":180.5,"unit":"°C","serial":"SN-4711","door":"closed"}"#,
    );
    let profiles_path = broker.dir.path().join("present-profiles.toml");
    let mut h = window(profiles_path.clone());
    create_and_connect(&mut h, &broker, "Plant demo");

    // Pin from the message view.
    select(&mut h, TOPIC);
    h.get_by_label("📌 Pin to presentation").click();
    step_until(&mut h, "the pin saved in the tab's profile", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.profile.presentation.is_pinned(TOPIC))
    });
    h.step();
    assert!(h.query_by_label("📌 Unpin").is_some());

    // Enter presentation mode with the button; the tile shows the value and unit.
    h.get_by_label("Presentation mode").click();
    step_until(&mut h, "the tile's value", |h| {
        h.state().presenting() && h.query_by_label("180.5").is_some()
    });
    assert!(h.query_by_label("°C").is_some());
    assert!(h.query_by_label("temperature").is_some(), "the tile's title");
    assert!(
        has_label_containing(&h, "serial SN-4711"),
        "the other fields below the value"
    );
    assert!(has_label_containing(&h, "site/berlin/customer/acme/oven"));

    // A new publish reaches the tile.
    publish_retained(&broker, TOPIC, r#"{"value":181.25,"serial":"SN-4711"}"#);
    step_until(&mut h, "the new value in the tile", |h| {
        h.query_by_label("181.25").is_some()
    });

    // Redaction typed in presentation mode: a topic level and a JSON field.
    add_rule(&mut h, "site/+/#");
    add_rule(&mut h, "serial");
    step_until(&mut h, "the tile redacted", |h| {
        has_label_containing(h, "site/•••/customer/acme/oven") && has_label_containing(h, "serial •••")
    });
    assert!(no_label_contains(&h, "berlin"), "the hidden level shows nowhere");
    assert!(no_label_contains(&h, "SN-4711"), "the hidden field shows nowhere");
    // A rule that is not one is explained, not added.
    add_rule(&mut h, "site/x/#");
    assert!(has_label_containing(&h, "hides nothing"));
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(h.state().presenting(), "Esc closes the menu first");

    // Esc leaves; the tree and the message view are redacted too.
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(!h.state().presenting());
    let tab = h.state_mut().active_tab_mut().unwrap();
    let site = tab.tree.find("site").unwrap();
    tab.view.set_expanded(site, true);
    let berlin = tab.tree.find("site/berlin").unwrap();
    tab.view.set_expanded(berlin, true);
    step_until(&mut h, "the hidden level in the tree", |h| {
        h.query_by_label("•••").is_some()
    });
    assert!(h.query_by_label("customer").is_some(), "the level below is shown");
    assert!(has_label_containing(
        &h,
        "site/•••/customer/acme/oven/temperature"
    ));
    assert!(no_label_contains(&h, "berlin"));
    assert!(
        h.query_all_by_value("SN-4711").next().is_none()
            && h.query_by_value("{\n  \"value\": 181.25,\n  \"serial\": \"•••\"\n}")
                .is_some(),
        "the payload shown with the field hidden"
    );

    // F11 enters again; switching redaction off shows everything.
    h.key_press(egui::Key::F11);
    h.step();
    assert!(h.state().presenting());
    h.get_by_label_contains("Redaction").click();
    h.step();
    h.step();
    h.get_by_label_contains("Hide what these rules match").click();
    step_until(&mut h, "the real values back", |h| {
        has_label_containing(h, "serial SN-4711")
    });
    h.get_by_label_contains("Hide what these rules match").click();
    step_until(&mut h, "hidden again", |h| has_label_containing(h, "serial •••"));
    h.key_press(egui::Key::Escape);
    h.step();
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(!h.state().presenting());

    // Saved in the profiles file; a new window finds them.
    step_until(&mut h, "the profiles file to hold the tile and the rules", |_| {
        std::fs::read_to_string(&profiles_path)
            .is_ok_and(|t| t.contains("[[profiles.presentation.pinned]]") && t.contains("field = \"serial\""))
    });
    drop(h);
    let h = window(profiles_path);
    let saved = h
        .state()
        .profiles()
        .file
        .profiles
        .iter()
        .find(|p| p.name == "Plant demo")
        .unwrap()
        .presentation
        .clone();
    assert_eq!(saved.pinned, vec![Tile::new(TOPIC)]);
    assert_eq!(
        saved.redaction,
        vec![Rule::Topic("site/+/#".into()), Rule::Field("serial".into())]
    );
    assert!(saved.redact);
}
