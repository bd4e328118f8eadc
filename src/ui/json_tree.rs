//! A JSON payload as a collapsible tree; numbers carry a 📈 button that charts them.

use egui::{Color32, RichText, Ui};
use serde_json::Value;

/// Draws `value`; returns the path of a number whose 📈 was clicked.
pub fn json_tree_ui(ui: &mut Ui, value: &Value) -> Option<Vec<String>> {
    let mut picked = None;
    let mut path = Vec::new();
    node(ui, None, value, &mut path, &mut picked);
    picked
}

fn node(
    ui: &mut Ui,
    key: Option<&str>,
    value: &Value,
    path: &mut Vec<String>,
    picked: &mut Option<Vec<String>>,
) {
    let name = key.map(|k| format!("{k}: ")).unwrap_or_default();
    match value {
        Value::Object(map) => {
            let header = format!("{name}{{…}} {} keys", map.len());
            egui::CollapsingHeader::new(RichText::new(header).monospace())
                .id_salt(("json", path.join("\u{1f}")))
                .default_open(path.len() < 3)
                .show(ui, |ui| {
                    for (k, v) in map {
                        path.push(k.clone());
                        node(ui, Some(k), v, path, picked);
                        path.pop();
                    }
                });
        }
        Value::Array(items) => {
            let header = format!("{name}[…] {} items", items.len());
            egui::CollapsingHeader::new(RichText::new(header).monospace())
                .id_salt(("json", path.join("\u{1f}")))
                .default_open(path.len() < 3 && items.len() <= 50)
                .show(ui, |ui| {
                    for (i, v) in items.iter().enumerate().take(1000) {
                        path.push(i.to_string());
                        node(ui, Some(&i.to_string()), v, path, picked);
                        path.pop();
                    }
                    if items.len() > 1000 {
                        ui.label(format!("… {} more", items.len() - 1000));
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
                ui.label(RichText::new(text).monospace().color(color));
                let numeric = matches!(leaf, Value::Number(_) | Value::Bool(_));
                if numeric
                    && ui
                        .small_button("📈")
                        .on_hover_text(format!("Chart {} over time", path.join(" › ")))
                        .clicked()
                {
                    *picked = Some(path.clone());
                }
            });
        }
    }
}
