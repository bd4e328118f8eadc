//! The window in Simplified Chinese: the locale files agree with each other and with the code,
//! and the main screens draw every character with the bundled font alone (system fonts off).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use canopy::model::message::QoS;
use canopy::profiles::profile::Subscription;
use canopy::ui::action::Action;
use canopy::ui::i18n::{Language, Locale};
use canopy::ui::{AppConfig, CanopyApp};
use egui::epaint::Shape;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::{publish_retained, step_until};
use crate::common::Broker;

/// Every key of a locale file (`table.key`) with its text.
fn locale(code: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("locales/{code}.toml"));
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("{key}: a text is a string, not {other:?}"),
        }
    }
}

/// The `%{name}` placeholders of a text.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.match_indices("%{")
        .filter_map(|(i, _)| text[i + 2..].split_once('}').map(|(name, _)| name))
        .collect()
}

#[test]
fn english_and_chinese_have_the_same_keys_and_placeholders() {
    let en = locale("en");
    let zh = locale("zh-CN");
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in zh-CN.toml: {only_en:?}");
    assert!(only_zh.is_empty(), "missing in en.toml: {only_zh:?}");
    for (key, text) in &en {
        assert_eq!(
            placeholders(text),
            placeholders(&zh[key]),
            "{key}: the two texts fill different placeholders"
        );
    }
}

/// Every `tr!("key"` in the sources.
fn keys_used(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            keys_used(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("tr!(") {
                // `include_str!(` is not a text.
                if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = text[i + 4..].trim_start();
                if let Some(rest) = rest.strip_prefix('"') {
                    let key = rest.split('"').next().unwrap().to_owned();
                    out.insert((key, path.display().to_string()));
                }
            }
        }
    }
}

#[test]
fn every_key_the_code_uses_is_in_the_locale_files() {
    let en = locale("en");
    let mut used = BTreeSet::new();
    keys_used(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut used);
    assert!(
        used.len() > 100,
        "the scan finds the tr! calls ({} found)",
        used.len()
    );
    let missing: Vec<_> = used.iter().filter(|(k, _)| !en.contains_key(k)).collect();
    assert!(missing.is_empty(), "keys used but not in en.toml: {missing:?}");
}

/// The Chinese text of `key`, to find a widget by what a Chinese user reads.
fn zh(key: &str) -> String {
    locale("zh-CN")
        .remove(key)
        .unwrap_or_else(|| panic!("{key} in zh-CN.toml"))
}

/// The last frame's text shapes: each section's text with its font.
fn drawn(h: &Harness<'static, CanopyApp>) -> Vec<(String, egui::FontId)> {
    fn walk(shape: &Shape, out: &mut Vec<(String, egui::FontId)>) {
        match shape {
            Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            Shape::Text(text) => {
                let job = &text.galley.job;
                for section in &job.sections {
                    let range = section.byte_range.start.0..section.byte_range.end.0;
                    let part = job.text[range].to_owned();
                    out.push((part, section.format.font_id.clone()));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

/// The characters of the last frame's text that no loaded font has (egui would draw them as
/// boxes), with the text they were in.
fn missing_glyphs(h: &Harness<'static, CanopyApp>) -> BTreeMap<char, String> {
    let mut out = BTreeMap::new();
    for (text, font) in drawn(h) {
        for c in text.chars().filter(|c| !c.is_control()) {
            if !h.ctx.fonts_mut(|f| f.has_glyph(&font, c)) {
                out.entry(c).or_insert_with(|| text.clone());
            }
        }
    }
    out
}

/// Steps twice (menus and windows appear a frame late), then checks that the screen shows
/// `expected` and that every character drawn has a glyph.
fn assert_all_glyphs(h: &mut Harness<'static, CanopyApp>, screen: &str, expected: &str) {
    h.step();
    h.step();
    let text: String = drawn(h).into_iter().map(|(t, _)| t).collect();
    assert!(text.contains(expected), "{screen}: “{expected}” is not drawn");
    let missing = missing_glyphs(h);
    assert!(missing.is_empty(), "{screen}: no glyph for {missing:?}");
}

fn chinese_window(profiles: std::path::PathBuf) -> Harness<'static, CanopyApp> {
    chinese_window_with(profiles, Harness::builder())
}

fn chinese_window_with(
    profiles: std::path::PathBuf,
    builder: egui_kittest::HarnessBuilder<CanopyApp>,
) -> Harness<'static, CanopyApp> {
    let config = AppConfig {
        profiles_path: profiles,
        // The bundled font alone must do.
        load_system_fonts: false,
        use_keyring: false,
        language: Some(Language::SimplifiedChinese),
    };
    builder
        .with_size(egui::vec2(1440.0, 900.0))
        .build_eframe(move |cc| CanopyApp::new(cc, config).unwrap())
}

#[test]
fn the_glyph_check_finds_a_character_no_font_has() {
    // Korean is in no font the window loads without system fonts: the check must see it, or
    // the test below proves nothing. (kittest's own policy would panic at the first missing
    // glyph; allowed here so that this check is the one that finds it.)
    let dir = tempfile::tempdir().unwrap();
    let builder = Harness::builder().allow_missing_glyphs();
    let mut h = chinese_window_with(dir.path().join("profiles.toml"), builder);
    h.step();
    h.state_mut().open_offline("온도", Vec::new());
    h.step();
    h.step();
    let missing = missing_glyphs(&h);
    assert!(missing.contains_key(&'온'), "{missing:?}");
}

#[test]
fn the_main_screens_in_chinese_have_every_glyph() {
    let broker = Broker::start();
    publish_retained(&broker, "工厂/车间1/温度", r#"{"温度": 21.5, "单位": "°C"}"#);
    publish_retained(&broker, "plant/line1/press", "压力正常");
    let dir = tempfile::tempdir().unwrap();
    let mut h = chinese_window(dir.path().join("fresh/profiles.toml"));
    h.step();
    assert_eq!(h.state().locale(), Locale::ZhCn);

    // First run: the welcome text and the saved connections.
    assert_all_glyphs(&mut h, "welcome", &zh("welcome.title"));

    // Settings, with the language switch.
    h.get_by_label(&zh("top.settings")).click();
    assert_all_glyphs(&mut h, "settings", &zh("settings.history"));
    assert!(h.query_by_label("简体中文").is_some() && h.query_by_label("English").is_some());
    h.key_press(egui::Key::Escape);
    h.step();

    // The profile editor.
    h.get_by_label(&zh("profiles.new")).click();
    assert_all_glyphs(&mut h, "profile editor", &zh("editor.saved_as_you_type"));
    h.get_by_label(&zh("editor.close")).click();
    h.step();

    // Connected: tree, message view, publish, subscriptions, status bar.
    let mut profile = broker.tcp_profile();
    profile.subscriptions = vec![Subscription::new("#", QoS::AtMostOnce)];
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "the topics in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.connected() && t.tree.find("工厂/车间1/温度").is_some())
    });
    h.get_by_label(&zh("top.publish")).click();
    h.step();
    let node = h
        .state()
        .active_tab()
        .unwrap()
        .tree
        .find("plant/line1/press")
        .unwrap();
    h.state_mut().active_tab_mut().unwrap().view.selected = Some(node);
    assert_all_glyphs(&mut h, "connected with publish", "压力正常");
    assert_all_glyphs(&mut h, "connected with publish", &zh("publish.recent"));
    assert_all_glyphs(
        &mut h,
        "connected with publish",
        &zh("status.topics").replace("%{n}", "2"),
    );

    // Search.
    h.get_by_label(&zh("top.search")).click();
    assert_all_glyphs(&mut h, "search", &zh("search.find"));

    // A dialog: clearing the retained messages below a node asks first.
    h.state_mut().act(Action::ClearRetainedBelow(node));
    assert_all_glyphs(&mut h, "clear retained dialog", &zh("dialogs.clear_title"));
}

#[test]
fn the_language_switch_in_settings_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = super::window(dir.path().join("profiles.toml"));
    h.step();
    assert_eq!(h.state().locale(), Locale::En, "the tests' window is English");
    h.get_by_label("⚙ Settings").click();
    h.run_steps(3);
    h.get_by_label("简体中文").click();
    h.step();
    h.step();
    assert_eq!(h.state().locale(), Locale::ZhCn);
    assert!(
        h.query_by_label(&zh("top.settings")).is_some(),
        "the top bar is in Chinese"
    );
    assert!(h.query_by_label("⚙ Settings").is_none());
    assert!(
        h.query_by_label(&zh("welcome.title")).is_some(),
        "and the welcome"
    );
}
