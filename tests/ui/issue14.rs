//! Issue 14: the window seen on a projector by someone trying it. Each test is named after
//! what was wrong.

use canopy::ui::CanopyApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{create_and_connect, has_label_containing, publish_retained, step_until, window_sized};
use crate::common::Broker;

/// The size the app opens at (`canopy::ui::run`).
const DEFAULT_SIZE: egui::Vec2 = egui::vec2(1440.0, 900.0);

fn default_window(broker: &Broker) -> Harness<'static, CanopyApp> {
    window_sized(broker.dir.path().join("ui-profiles.toml"), DEFAULT_SIZE)
}

/// [`default_window`] that draws boxes for characters no font has (what a user sees without
/// a CJK font) instead of failing the test.
fn tofu_window(broker: &Broker) -> Harness<'static, CanopyApp> {
    let config = canopy::ui::AppConfig {
        profiles_path: broker.dir.path().join("ui-profiles.toml"),
        load_system_fonts: false,
        use_keyring: false,
        language: Some(canopy::ui::i18n::Language::English),
    };
    Harness::builder()
        .with_size(DEFAULT_SIZE)
        .allow_missing_glyphs()
        .build_eframe(move |cc| CanopyApp::new(cc, config).unwrap())
}

/// Selects `topic` once it is in the tree.
pub(super) fn select(h: &mut Harness<'static, CanopyApp>, topic: &str) {
    step_until(h, topic, |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find(topic).is_some())
    });
    let tab = h.state_mut().active_tab_mut().unwrap();
    let id = tab.tree.find(topic).unwrap();
    tab.select(id);
    h.step();
    h.step();
}

fn current_port(h: &Harness<'static, CanopyApp>) -> u16 {
    h.state().profiles().current().unwrap().port
}

/// Switching the transport put the new transport's default port over the one typed.
#[test]
fn switching_transport_keeps_a_typed_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window_sized(dir.path().join("profiles.toml"), DEFAULT_SIZE);
    h.get_by_label("➕ New").click();
    h.step();
    let apply_url = |h: &mut Harness<'static, CanopyApp>, url: &str| {
        h.get_by_role_and_label(Role::TextInput, "URL")
            .set_text_value_accesskit(url);
        h.step();
        h.get_by_label("Apply").click();
        h.step();
        h.step();
    };
    apply_url(&mut h, "mqtt://broker.example:36453");
    assert_eq!(current_port(&h), 36453);
    h.get_by_label("TLS").click();
    h.step();
    assert_eq!(current_port(&h), 36453, "a typed port survives TCP → TLS");
    h.get_by_label("WebSocket").click();
    h.step();
    assert_eq!(current_port(&h), 36453, "and TLS → WebSocket");

    // A default port follows the transport.
    apply_url(&mut h, "mqtt://broker.example:1883");
    h.get_by_label("TLS").click();
    h.step();
    assert_eq!(current_port(&h), 8883);
    h.get_by_label("TCP").click();
    h.step();
    assert_eq!(current_port(&h), 1883);
}

/// The Local sandbox's editor showed Port 1883 and MQTT 5.0 while the embedded broker ran on
/// a random port and spoke 3.1.1.
#[test]
fn the_sandbox_editor_shows_where_the_sandbox_really_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = window_sized(dir.path().join("fresh/profiles.toml"), DEFAULT_SIZE);
    h.step();
    h.get_by_label_contains("Local sandbox").click();
    h.step();
    h.get_by_label("✏ Edit…").click();
    h.step();
    h.step();
    assert!(h.state().profiles().current().unwrap().sandbox.is_some());
    for field in ["Host", "Proxy"] {
        assert!(
            h.query_by_role_and_label(Role::TextInput, field).is_none(),
            "{field} is the sandbox's own"
        );
    }
    for gone in [
        "Port",
        "1883",
        "5.0",
        "Auto",
        "Session expiry",
        "TLS certificates",
    ] {
        assert!(h.query_by_label(gone).is_none(), "{gone} shown for the sandbox");
    }
    assert!(has_label_containing(&h, "3.1.1 (the only version"));

    h.get_by_label("▶ Connect").click();
    step_until(&mut h, "the sandbox connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    let port = h.state().active_tab().unwrap().profile.port;
    assert_ne!(port, 1883);
    // Connecting closed the editor and hid the list: bring both back.
    h.get_by_label("Show the saved connections").click();
    h.run_steps(2);
    h.get_by_label("✏ Edit…").click();
    step_until(&mut h, "the real port in the editor", |h| {
        has_label_containing(h, &format!("127.0.0.1:{port} (running)"))
    });
}

/// The filter's ✖ pushed the topic counts out of the tree's column (clipped at 1440 px).
#[test]
fn the_tree_header_fits_its_column_with_the_clear_button() {
    let broker = Broker::start();
    publish_retained(&broker, "plant/line1/temp", "21.5");
    let mut h = default_window(&broker);
    create_and_connect(&mut h, &broker, "Header");
    select(&mut h, "plant/line1/temp");
    h.get_by_role_and_label(Role::TextInput, "Filter")
        .set_text_value_accesskit("plant");
    h.step();
    h.step();
    for width in [DEFAULT_SIZE.x, 1100.0] {
        h.set_size(egui::vec2(width, DEFAULT_SIZE.y));
        for _ in 0..3 {
            h.step();
        }
        // The message panel starts where the tree's column ends.
        let column_end = h.get_by_label("plant/line1/temp").rect().left();
        let filter = h.get_by_role_and_label(Role::TextInput, "Filter").rect();
        let clear = h.get_by_label("Clear the filter").rect();
        let counts = h.get_by_label_contains(" topics · ").rect();
        for (what, rect) in [("filter", filter), ("✖", clear), ("counts", counts)] {
            assert!(
                rect.right() <= column_end && rect.left() >= 0.0,
                "{what} {rect:?} crosses the column's end {column_end} at {width} px"
            );
        }
        assert!(clear.left() >= filter.right(), "✖ beside the field");
    }
}

/// Hex rows wrapped onto two lines in the message view of the default window.
#[test]
fn hex_rows_are_one_line_each_in_the_default_window() {
    let broker = Broker::start();
    let blob: Vec<u8> = (0..=255u8).rev().collect();
    publish_retained(&broker, "bin/blob", &blob);
    let mut h = default_window(&broker);
    create_and_connect(&mut h, &broker, "Hex");
    select(&mut h, "bin/blob");
    // Binary: Auto shows it as hex.
    let view = h
        .state()
        .active_tab()
        .unwrap()
        .render_cache
        .as_ref()
        .unwrap()
        .rendered
        .decoding;
    assert_eq!(view, canopy::model::payload::Decoding::Hex);
    let is_hex_row = |text: &str| {
        text.len() > 10 && text[..8].bytes().all(|b| b.is_ascii_hexdigit()) && &text[8..10] == "  "
    };
    let rows: Vec<(String, egui::Rect)> = h
        .query_all_by(move |n| n.role() == Role::Label && n.value().is_some_and(|v| is_hex_row(&v)))
        .map(|n| (n.value().unwrap(), n.rect()))
        .collect();
    assert!(rows.len() > 1, "the hex dump is not drawn as one label per row");
    let per_row = usize::from_str_radix(&rows[1].0[..8], 16).unwrap();
    assert!([8, 16, 32].contains(&per_row), "{per_row} bytes a row");
    assert_eq!(rows.len(), blob.len() / per_row);
    let font = egui::TextStyle::Monospace.resolve(&h.ctx.global_style());
    let line = h.ctx.fonts_mut(|f| f.row_height(&font));
    for (text, rect) in &rows {
        assert!(
            rect.height() < 1.5 * line,
            "{text:?} is {} high (a line is {line})",
            rect.height()
        );
    }
}

/// CJK payloads drew empty boxes without a word about the missing font; now a notice names
/// the package, once.
#[test]
fn cjk_text_without_a_cjk_font_is_explained_once() {
    let broker = Broker::start();
    let mut h = tofu_window(&broker);
    create_and_connect(&mut h, &broker, "CJK");
    let told = |h: &Harness<'static, CanopyApp>| {
        h.state()
            .notices()
            .iter()
            .filter(|n| n.text.contains("fonts-noto-cjk"))
            .map(|n| n.repeats)
            .sum::<u32>()
    };
    publish_retained(&broker, "plant/line1/temp", "21.5");
    select(&mut h, "plant/line1/temp");
    assert_eq!(told(&h), 0, "no CJK yet");
    // Common Chinese is drawn by the bundled font: nothing to tell.
    publish_retained(&broker, "工厂/温度", "温度 21.5 °C");
    step_until(&mut h, "the Chinese topic", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("工厂/温度").is_some())
    });
    assert_eq!(told(&h), 0, "the bundled font draws common Chinese");
    publish_retained(&broker, "ライン/温度", "稼働中");
    step_until(&mut h, "the missing-font notice", |h| told(h) > 0);
    for (i, text) in ["ラインの状態: 稼働中", "온도 22.0"].iter().enumerate() {
        publish_retained(&broker, &format!("cjk/{i}"), text);
    }
    step_until(&mut h, "the later CJK messages", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("cjk/1").is_some())
    });
    assert_eq!(told(&h), 1, "told once: {:?}", h.state().notices());
}
