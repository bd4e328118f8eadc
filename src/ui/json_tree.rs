//! A JSON payload as a collapsible tree; numbers carry a 📈 button that charts them.

use crate::ui::i18n::tr;
use egui::{Color32, RichText, Ui};
use serde_json::Value;

/// Draws `value`; returns the path of a number whose 📈 was clicked. Right-click a value to
/// copy it or its JSON path (`$.a.b[0]`).
pub fn json_tree_ui(ui: &mut Ui, value: &Value) -> Option<Vec<String>> {
    let mut picked = None;
    let mut path = Vec::new();
    let mut indices = Vec::new();
    node(ui, None, value, (&mut path, &mut indices), &mut picked);
    picked
}

/// Keys and indices from the root, and whether each is an array index.
type Path<'a> = (&'a mut Vec<String>, &'a mut Vec<bool>);

fn node(ui: &mut Ui, key: Option<&str>, value: &Value, path: Path<'_>, picked: &mut Option<Vec<String>>) {
    let (path, indices) = path;
    let name = key.map(|k| format!("{k}: ")).unwrap_or_default();
    match value {
        Value::Object(map) => {
            let header = format!("{name}{{…}} {}", tr!("json.keys", n = map.len()));
            egui::CollapsingHeader::new(RichText::new(header).monospace())
                .id_salt(("json", path.join("\u{1f}")))
                .default_open(path.len() < 3)
                .show(ui, |ui| {
                    for (k, v) in map {
                        path.push(k.clone());
                        indices.push(false);
                        node(ui, Some(k), v, (&mut *path, &mut *indices), picked);
                        path.pop();
                        indices.pop();
                    }
                });
        }
        Value::Array(items) => {
            let header = format!("{name}[…] {}", tr!("json.items", n = items.len()));
            egui::CollapsingHeader::new(RichText::new(header).monospace())
                .id_salt(("json", path.join("\u{1f}")))
                .default_open(path.len() < 3 && items.len() <= 50)
                .show(ui, |ui| {
                    for (i, v) in items.iter().enumerate().take(1000) {
                        path.push(i.to_string());
                        indices.push(true);
                        node(ui, Some(&i.to_string()), v, (&mut *path, &mut *indices), picked);
                        path.pop();
                        indices.pop();
                    }
                    if items.len() > 1000 {
                        ui.label(tr!("json.more", n = items.len() - 1000));
                    }
                });
        }
        leaf => {
            ui.horizontal(|ui| {
                let (text, color) = match leaf {
                    Value::String(s) => (format!("{s:?}"), Color32::from_rgb(200, 140, 60)),
                    Value::Number(n) => (n.to_string(), Color32::from_rgb(80, 160, 220)),
                    Value::Bool(b) => (b.to_string(), Color32::from_rgb(160, 110, 220)),
                    _ => ("null".into(), Color32::GRAY),
                };
                ui.label(RichText::new(name).monospace());
                // Built only when hovered or copied, not for every leaf every frame.
                let json_path = || crate::model::export::json_path(path, |i| indices[i]);
                ui.label(RichText::new(&text).monospace().color(color))
                    .on_hover_ui(|ui| {
                        ui.label(json_path());
                    })
                    .context_menu(|ui| {
                        if ui.button(tr!("json.copy_value")).clicked() {
                            ui.ctx().copy_text(text.clone());
                            ui.close();
                        }
                        if ui.button(tr!("json.copy_path")).clicked() {
                            ui.ctx().copy_text(json_path());
                            ui.close();
                        }
                    });
                let numeric = matches!(leaf, Value::Number(_) | Value::Bool(_));
                if numeric
                    && super::widgets::named(
                        ui.small_button("📈").on_hover_ui(|ui| {
                            // The path is built only when hovered: every visible leaf has one.
                            ui.label(tr!("json.chart_path", path = json_path()));
                        }),
                        &tr!("json.chart_value"),
                    )
                    .clicked()
                {
                    *picked = Some(path.clone());
                }
            });
        }
    }
}
