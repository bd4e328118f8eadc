//! Small widgets shared by the panels: labelled inputs (accessible by name), formatting.

use std::time::{Duration, SystemTime};

use egui::{Color32, RichText, Ui};

use crate::model::message::QoS;
use crate::ui::i18n::tr;

/// A small button showing only an icon, with `name` as its tooltip and as the name screen
/// readers and UI automation see (an emoji alone is not speakable).
pub fn icon_button(ui: &mut Ui, icon: &str, name: &str) -> egui::Response {
    named(ui.small_button(icon).on_hover_text(name), name)
}

/// Gives an icon-only button the accessible name `name`.
pub fn named(response: egui::Response, name: &str) -> egui::Response {
    let enabled = response.enabled();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, name));
    response
}

/// A label and a single-line text input, linked for screen readers and tests.
pub fn text_field(ui: &mut Ui, label: &str, value: &mut String) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .add(egui::TextEdit::singleline(value).desired_width(f32::INFINITY))
        .labelled_by(l.id);
    ui.end_row();
    r
}

/// Like [`text_field`] for an optional value (empty means `None`).
pub fn optional_text_field(ui: &mut Ui, label: &str, value: &mut Option<String>) -> egui::Response {
    let mut text = value.clone().unwrap_or_default();
    let r = text_field(ui, label, &mut text);
    if r.changed() {
        *value = if text.is_empty() { None } else { Some(text) };
    }
    r
}

/// A password input (masked) with a label.
pub fn password_field(ui: &mut Ui, label: &str, value: &mut Option<String>) -> egui::Response {
    let l = ui.label(label);
    let mut text = value.clone().unwrap_or_default();
    let r = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .password(true)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    if r.changed() {
        *value = if text.is_empty() { None } else { Some(text) };
    }
    ui.end_row();
    r
}

/// A label and a numeric drag value.
pub fn number_field<N: egui::emath::Numeric>(
    ui: &mut Ui,
    label: &str,
    value: &mut N,
    range: std::ops::RangeInclusive<N>,
    suffix: &str,
) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .add(egui::DragValue::new(value).range(range).suffix(suffix))
        .labelled_by(l.id);
    ui.end_row();
    r
}

/// A QoS selector (0 / 1 / 2) with an accessible name.
pub fn qos_selector(ui: &mut Ui, id_salt: impl std::hash::Hash + std::fmt::Debug, qos: &mut QoS) -> bool {
    let before = *qos;
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(format!("QoS {qos}"))
        .width(70.0)
        .show_ui(ui, |ui| {
            for q in QoS::ALL {
                ui.selectable_value(qos, q, format!("QoS {q}"));
            }
        });
    before != *qos
}

/// A short, friendly age: "now", "4 s", "3 min", "2 h", "5 d".
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    if s < 1 {
        tr!("age.now").into_owned()
    } else if s < 60 {
        tr!("age.seconds", n = s).into_owned()
    } else if s < 3600 {
        tr!("age.minutes", n = s / 60).into_owned()
    } else if s < 86_400 {
        tr!("age.hours", n = s / 3600).into_owned()
    } else {
        tr!("age.days", n = s / 86_400).into_owned()
    }
}

/// A local wall-clock time with milliseconds.
pub fn clock(t: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = t.into();
    local.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// A compact count: 999, 12.3k, 4.5M.
pub fn count(n: u64) -> String {
    if n < 10_000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

/// A warning line (yellow/orange, readable in both themes).
pub fn warning(ui: &mut Ui, text: impl Into<String>) {
    let color = ui.visuals().warn_fg_color;
    wrapped(ui, RichText::new(format!("⚠ {}", text.into())).color(color));
}

/// A label that wraps within the space left (also inside grids, which do not wrap by default).
pub fn wrapped(ui: &mut Ui, text: RichText) {
    let width = ui.available_width().max(120.0);
    ui.scope(|ui| {
        ui.set_max_width(width);
        ui.add(egui::Label::new(text).wrap());
    });
}

/// An error line.
pub fn error(ui: &mut Ui, text: impl Into<String>) {
    let color = ui.visuals().error_fg_color;
    wrapped(ui, RichText::new(format!("✖ {}", text.into())).color(color));
}

/// A success line.
pub fn success(ui: &mut Ui, text: impl Into<String>) {
    ui.label(RichText::new(format!("✔ {}", text.into())).color(ok_color(ui)));
}

/// The green used for good states.
pub fn ok_color(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(110, 200, 120)
    } else {
        Color32::from_rgb(20, 130, 40)
    }
}

/// A picker for MQTT 5 retain handling; returns whether it changed.
pub fn retain_handling_selector(
    ui: &mut Ui,
    id_salt: impl std::hash::Hash + std::fmt::Debug,
    value: &mut crate::profiles::profile::RetainHandling,
) -> bool {
    let mut changed = false;
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(value.label())
        .show_ui(ui, |ui| {
            for choice in crate::profiles::profile::RetainHandling::ALL {
                changed |= ui.selectable_value(value, choice, choice.label()).changed();
            }
        });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(age(Duration::from_millis(10)), "now");
        assert_eq!(age(Duration::from_secs(75)), "1 min");
        assert_eq!(count(12_345), "12.3k");
    }
}
