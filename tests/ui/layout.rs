//! The main window's layout (issue 14, seen on a projector): the list of saved connections
//! stacked a long profile editor under it and the tree got a narrow column whose values were
//! cut, at 1440×900 and on a 1280×720 projector. Now the editor is a sheet that opens and
//! closes, the list hides once connected (a toggle brings it back) and the tree takes the
//! width.

use canopy::profiles::Profile;
use canopy::profiles::store::{self, FORMAT_VERSION, ProfilesFile};
use canopy::ui::CanopyApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{create_and_connect, publish_retained, step_until, window_sized};
use crate::common::Broker;

/// A sentence much longer than any tree row, in words.
const LONG_VALUE: &str = "Line three stopped at the packer because the label roll ran out; \
    the operator replaced it and restarted the line, output back to nominal within four minutes \
    and no rejected cartons were counted during the restart sequence of the whole shift";

/// The tree's column at this window size: from the left of its `$SYS` checkbox to the
/// message view, whose heading is the selected topic.
fn tree_width(h: &Harness<'static, CanopyApp>, topic: &str) -> f32 {
    let left = h.get_by_label("Show $SYS").rect().left();
    let right = h.get_by_label(topic).rect().left();
    right - left
}

/// The tree row's value of the long topic (the only label starting like it).
fn shown_value(h: &Harness<'static, CanopyApp>) -> (String, egui::Rect) {
    let node = h
        .query_all_by(|n| n.role() == Role::Label && n.value().is_some_and(|v| v.starts_with("Line three")))
        .next()
        .expect("the long value in the tree");
    (node.value().unwrap_or_default(), node.rect())
}

/// Connects to a mosquitto holding `notes/line3` (the long value), expanded and selected.
fn connected_with_long_value(size: egui::Vec2) -> (Broker, Harness<'static, CanopyApp>) {
    let broker = Broker::start();
    publish_retained(&broker, "notes/line3", LONG_VALUE);
    let mut h = window_sized(broker.dir.path().join("ui-profiles.toml"), size);
    create_and_connect(&mut h, &broker, "Projector");
    step_until(&mut h, "notes/line3 in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("notes/line3").is_some())
    });
    let tab = h.state_mut().active_tab_mut().unwrap();
    let notes = tab.tree.find("notes").unwrap();
    let line3 = tab.tree.find("notes/line3").unwrap();
    tab.view.set_expanded(notes, true);
    tab.select(line3);
    h.run_steps(4);
    (broker, h)
}

/// The value is cut after a word, with an ellipsis, and is at least `min_chars` long.
fn assert_readable(text: &str, min_chars: usize, at: &str) {
    let kept = text
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("{text:?} not cut at {at}"));
    assert!(
        kept.chars().count() >= min_chars,
        "only {} characters of the value at {at}: {text:?}",
        kept.chars().count()
    );
    assert!(LONG_VALUE.starts_with(kept), "{text:?}");
    let next = LONG_VALUE[kept.len()..].chars().next();
    assert!(
        next.is_some_and(char::is_whitespace) || kept.ends_with([',', ';']),
        "cut inside a word at {at}: {text:?}"
    );
}

#[test]
fn once_connected_the_tree_takes_the_width_and_long_values_read_at_a_glance() {
    let size = egui::vec2(1440.0, 900.0);
    let (_broker, mut h) = connected_with_long_value(size);
    // The list is hidden once connected: the tree has most of the window.
    assert!(h.query_by_label("▶ Connect").is_none(), "the list still shows");
    let width = tree_width(&h, "notes/line3");
    assert!(width >= 0.55 * size.x, "tree {width} of {}", size.x);
    let (text, rect) = shown_value(&h);
    assert_readable(&text, 70, "1440 px");
    let column_end = h.get_by_label("notes/line3").rect().left();
    assert!(
        rect.right() <= column_end,
        "value {rect:?} crosses into the message view"
    );
    // The whole value on hover (the message view shows it too: count the places).
    let whole = |h: &Harness<'static, CanopyApp>| {
        h.query_all_by(|n| n.value().is_some_and(|v| v.ends_with("of the whole shift")))
            .count()
    };
    let before = whole(&h);
    h.query_all_by(|n| n.role() == Role::Label && n.value().is_some_and(|v| v.starts_with("Line three")))
        .next()
        .unwrap()
        .hover();
    h.run_steps(60);
    assert_eq!(whole(&h), before + 1, "no hover with the whole value");

    // The toggle brings the list back (the choice is kept until toggled again); the tree still
    // gets half the window and the value stays readable.
    h.get_by_label("Show the saved connections").click();
    h.run_steps(4);
    assert!(
        h.query_by_label("▶ Connect").is_some(),
        "the list did not come back"
    );
    let width = tree_width(&h, "notes/line3");
    assert!(width >= 0.48 * size.x, "tree {width} with the list shown");
    assert_readable(&shown_value(&h).0, 40, "1440 px with the list");
    h.get_by_label("Hide the saved connections").click();
    h.run_steps(3);
    assert!(
        h.query_by_label("▶ Connect").is_none(),
        "the list did not hide again"
    );

    // A projector at 1280×720 and a 1920×1080 screen.
    for (w, h_px, share, chars) in [(1280.0, 720.0, 0.55, 55), (1920.0, 1080.0, 0.65, 100)] {
        h.set_size(egui::vec2(w, h_px));
        h.run_steps(4);
        let width = tree_width(&h, "notes/line3");
        assert!(width >= share * w, "tree {width} of {w}");
        assert_readable(&shown_value(&h).0, chars, &format!("{w} px"));
    }
}

#[test]
fn the_editor_opens_for_the_selected_profile_closes_and_its_edits_are_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let profile = |name: &str| Profile {
        name: name.to_owned(),
        ..Profile::default()
    };
    let file = ProfilesFile {
        version: FORMAT_VERSION,
        profiles: vec![profile("Alpha"), profile("Bravo")],
    };
    store::save(&path, &file).unwrap();
    let mut h = window_sized(path.clone(), egui::vec2(1440.0, 900.0));
    h.step();
    let name_field =
        |h: &Harness<'static, CanopyApp>| h.query_by_role_and_label(Role::TextInput, "Name").is_some();
    assert!(!name_field(&h), "the editor is open before anyone asked");

    h.get_by_label_contains("Bravo  ·").click();
    h.step();
    h.get_by_label("✏ Edit…").click();
    h.run_steps(2);
    assert!(name_field(&h), "Edit did not open the editor");
    assert!(
        h.query_by_label("✏ Bravo").is_some(),
        "the sheet names another profile"
    );
    h.get_by_role_and_label(Role::TextInput, "Group")
        .set_text_value_accesskit("Plants");
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Host")
        .set_text_value_accesskit("broker.plant.example");
    h.step();
    // Nothing was lost on the way into the sheet: the TLS pickers, the password choice.
    h.get_by_label("TLS certificates").click();
    h.get_by_label("Authentication").click();
    h.run_steps(2);
    assert_eq!(
        h.get_all_by_label("Browse…").count(),
        3,
        "a TLS file picker is missing"
    );
    assert!(
        h.query_by_label("Save password").is_some(),
        "the password choice is missing"
    );
    h.get_by_label("Close the editor").click();
    h.run_steps(2);
    assert!(!name_field(&h), "✖ did not close the editor");

    step_until(&mut h, "the edit in the profiles file", |_| {
        store::load(&path)
            .ok()
            .and_then(|f| f.profiles.into_iter().find(|p| p.name == "Bravo"))
            .is_some_and(|p| p.group == "Plants" && p.host == "broker.plant.example")
    });
    let saved = store::load(&path).unwrap();
    let alpha = saved.profiles.iter().find(|p| p.name == "Alpha").unwrap();
    assert_eq!((alpha.group.as_str(), alpha.host.as_str()), ("", "localhost"));
}

#[test]
fn first_run_at_1280_offers_the_sandbox_in_the_middle_and_one_click_shows_a_live_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window_sized(dir.path().join("fresh/profiles.toml"), egui::vec2(1280.0, 720.0));
    h.step();
    assert!(h.query_by_role_and_label(Role::TextInput, "Name").is_none());
    let start = h.get_by_label("▶ Start the built-in sandbox").rect();
    assert!(
        start.left() > 250.0 && start.bottom() < 720.0,
        "offer at {start:?}"
    );
    h.get_by_label("▶ Start the built-in sandbox").click();
    step_until(&mut h, "demo topics in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.connected() && t.tree.topic_count() > 10)
    });
    h.run_steps(3);
    assert!(h.query_by_label("plant").is_some(), "no plant row");
    assert!(h.query_by_label("▶ Start the built-in sandbox").is_none());
}

#[test]
fn with_no_saved_connection_the_window_offers_to_add_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    let empty = ProfilesFile {
        version: FORMAT_VERSION,
        profiles: Vec::new(),
    };
    store::save(&path, &empty).unwrap();
    let mut h = window_sized(path, egui::vec2(1280.0, 720.0));
    h.step();
    assert!(h.query_by_label("There is no saved connection yet.").is_some());
    assert!(h.query_by_label("➕ New connection").is_some());
    h.get_by_label("Add the built-in sandbox").click();
    h.run_steps(3);
    let profiles = &h.state().profiles().file.profiles;
    assert_eq!(profiles.len(), 1);
    assert!(profiles[0].sandbox.is_some(), "{:?}", profiles[0].name);
    assert!(
        h.query_by_label_contains("Local sandbox  ·").is_some(),
        "not in the list"
    );
    assert!(h.query_by_label("▶ Start the built-in sandbox").is_some());
}
