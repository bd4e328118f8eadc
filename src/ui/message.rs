//! The message view: the selected topic's latest (or chosen) message with its properties,
//! the payload as text / JSON / hex / base64, its history and a diff with the previous one.

use std::collections::BTreeMap;
use std::time::SystemTime;

use egui::{Color32, RichText, Ui};

use super::action::Action;
use super::tab::{ConnectionTab, DEFAULT_PAYLOAD_LIMIT, RenderCache};
use super::widgets;
use crate::model::payload::{self, Decoding};
use crate::model::topic_tree::StoredMessage;
use crate::model::units;
use crate::ui::i18n::tr;

/// Draws the message view for the active connection's selection.
pub fn message_ui(
    ui: &mut Ui,
    tab: &mut ConnectionTab,
    decodings: &mut BTreeMap<String, Decoding>,
    actions: &mut Vec<Action>,
) {
    let Some(id) = tab.view.selected else {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| ui.label(RichText::new(tr!("message.select_topic")).weak()));
        return;
    };
    let topic = tab.tree.full_topic(id);
    let node = tab.tree.node(id);
    // What is shown and copied goes through the redaction; what is acted on is the real topic.
    let redactor = &tab.redactor;
    let shown_topic = redactor.topic(&topic).into_owned();
    ui.horizontal(|ui| {
        ui.label(RichText::new(&shown_topic).monospace().strong());
        if widgets::icon_button(ui, "📋", &tr!("message.copy_topic")).clicked() {
            ui.ctx().copy_text(shown_topic.clone());
        }
    });
    if !node.is_topic() {
        ui.label(tr!(
            "message.below",
            topics = node.subtree_topics(),
            messages = node.subtree_messages()
        ));
        // Wrapped: four buttons do not fit a narrow message column in one line, and a clipped
        // button cannot be pressed.
        ui.horizontal_wrapped(|ui| {
            if ui.button(tr!("message.use_as_publish_topic")).clicked() {
                actions.push(Action::UseTopic(topic.clone()));
            }
            present_subtree_button(ui, &tab.profile.presentation, &topic, actions);
            clear_below_button(ui, id, actions);
            export_menu(ui, id, &topic, actions);
        });
        return;
    }
    if tab.history_index >= node.history_len() {
        tab.history_index = 0;
    }
    let index = tab.history_index;
    let Some(message) = node.message(index) else {
        return;
    };
    let messages_on_topic = node.messages();

    egui::Grid::new("message-meta")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            ui.label("QoS");
            ui.label(message.qos.to_string());
            ui.end_row();
            ui.label(tr!("message.retained"));
            ui.label(if message.retain {
                tr!("message.yes")
            } else {
                tr!("message.no")
            });
            ui.end_row();
            ui.label(tr!("message.size"));
            if message.truncated() {
                ui.label(tr!(
                    "message.size_truncated",
                    size = units::bytes(message.original_len() as u64),
                    kept = units::bytes(message.payload.len() as u64)
                ));
            } else {
                ui.label(units::bytes(message.payload.len() as u64));
            }
            ui.end_row();
            ui.label(tr!("message.received"));
            let ago = SystemTime::now()
                .duration_since(message.received())
                .unwrap_or_default();
            let ago = if ago.as_secs() < 1 {
                tr!("message.just_now").into_owned()
            } else {
                tr!("message.ago", age = widgets::age(ago)).into_owned()
            };
            ui.label(format!("{} ({ago})", widgets::clock(message.received())));
            ui.end_row();
            ui.label(tr!("message.messages"));
            ui.label(tr!("message.on_this_topic", n = messages_on_topic));
            ui.end_row();
        });
    properties_ui(ui, message);
    // Wrapped for the same reason as the subtree buttons: up to five buttons.
    ui.horizontal_wrapped(|ui| {
        if ui.button(tr!("message.publish_here")).clicked() {
            actions.push(Action::UseTopic(topic.clone()));
        }
        if message.retain
            && ui
                .button(tr!("message.clear_retained"))
                .on_hover_text(tr!("message.clear_retained_hover"))
                .clicked()
        {
            actions.push(Action::ClearRetained(topic.clone()));
        }
        if node.has_children() {
            clear_below_button(ui, id, actions);
        }
        export_menu(ui, id, &topic, actions);
        pin_button(ui, &tab.profile.presentation, &topic, actions);
    });
    ui.separator();

    // The decoding chosen for this topic is remembered (Auto is the default and is not stored).
    let mut decoding = decodings.get(&topic).copied().unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!("message.payload"));
        for v in Decoding::ALL {
            if ui.selectable_value(&mut decoding, v, v.label()).clicked() {
                if v == Decoding::Auto {
                    decodings.remove(&topic);
                } else {
                    decodings.insert(topic.clone(), v);
                }
            }
        }
    });
    let hex_per_row = hex_bytes_per_row(ui);
    let key = (
        id,
        messages_on_topic,
        index,
        decoding,
        tab.payload_limit,
        hex_per_row,
    );
    let payload_bytes = shown_payload(redactor, &topic, &message.payload);
    if tab.render_cache.as_ref().map(|c| c.key) != Some(key) {
        let mut rendered = crate::model::proto::state::render(
            &tab.proto,
            &topic,
            &payload_bytes,
            decoding,
            tab.payload_limit,
        );
        if rendered.decoding == Decoding::Hex {
            let shown = &payload_bytes[..rendered.shown.min(payload_bytes.len())];
            rendered.text = payload::hex_dump_width(shown, hex_per_row);
        }
        let rows =
            (rendered.text.len() > payload::ROWS_ABOVE).then(|| payload::row_ranges(&rendered.text, 160));
        tab.render_cache = Some(RenderCache { key, rendered, rows });
    }
    let raw_payload = message.payload.clone();
    let previous = node
        .message(index + 1)
        .map(|m| shown_payload(redactor, &topic, &m.payload));
    let trimmed = node.history_trimmed();
    // A topic bound to a protobuf type lists its history decoded too.
    let decoder = tab.proto.decoder();
    let history: Vec<(SystemTime, usize, String, bool)> = (0..node.history_len())
        .filter_map(|i| node.message(i))
        .map(|m| {
            let decoded = decoder
                .and_then(|d| d.decode(&topic, &m.payload))
                .and_then(Result::ok)
                .map(|(json, _)| json.to_string().into_bytes());
            let bytes = decoded.as_deref().unwrap_or(&m.payload);
            (
                m.received(),
                m.original_len(),
                payload::preview_for(&topic, &redactor.payload(&topic, bytes), 40),
                m.retain,
            )
        })
        .collect();
    let Some(cache) = &tab.render_cache else { return };
    let rendered = &cache.rendered;
    if let Some(note) = &rendered.note {
        widgets::warning(ui, note.clone());
    }
    schema_line_ui(ui, &tab.proto, &topic, decoding);
    if rendered.truncated() {
        ui.horizontal(|ui| {
            widgets::warning(
                ui,
                tr!("message.showing", shown = rendered.shown, total = rendered.total),
            );
            if ui.button(tr!("message.show_more")).clicked() {
                tab.payload_limit = tab.payload_limit.saturating_mul(8);
            }
            if ui.button(tr!("message.save_payload")).clicked() {
                actions.push(Action::SaveFile {
                    what: "Payload",
                    suggested_name: format!("{}.bin", shown_topic.replace('/', "_")),
                    bytes: raw_payload.clone(),
                });
            }
        });
    } else if ui.small_button(tr!("message.copy_payload")).clicked() {
        ui.ctx().copy_text(rendered.text.clone());
    }
    let shown_as = rendered.decoding;
    if let Some(rows) = &cache.rows {
        // Large: only the visible rows are laid out, so any size costs the same per frame.
        large_text_ui(ui, &rendered.text, rows);
        history_ui(ui, &history, trimmed, index, &mut tab.history_index);
        return;
    }
    let text = rendered.text.clone();
    if shown_as == Decoding::Image {
        ui.label(RichText::new(&text).weak());
        let uri = format!("bytes://canopy/{}/{}/{index}.img", tab.id, messages_on_topic);
        if tab.image.as_ref().is_none_or(|(u, _)| *u != uri) {
            let bytes: std::sync::Arc<[u8]> = payload_bytes.to_vec().into();
            if let Some((old, _)) = tab.image.replace((uri.clone(), bytes)) {
                ui.ctx().forget_image(&old);
            }
        }
        let bytes = tab
            .image
            .as_ref()
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| std::sync::Arc::from(&[][..]));
        egui::ScrollArea::both()
            .id_salt("image")
            .max_height(ui.available_height() * 0.55)
            .show(ui, |ui| {
                ui.add(egui::Image::from_bytes(uri, bytes).max_width(ui.available_width()));
            });
    } else {
        if shown_as == Decoding::Json {
            ui.checkbox(&mut tab.json_tree, tr!("message.as_tree"))
                .on_hover_text(tr!("message.as_tree_hover"));
        }
        // From the rendered text: it is the payload for JSON, the decoded message for protobuf.
        let tree = (shown_as == Decoding::Json && tab.json_tree)
            .then(|| serde_json::from_str::<serde_json::Value>(&text).ok())
            .flatten();
        egui::ScrollArea::vertical()
            .id_salt("payload")
            .max_height(ui.available_height() * 0.55)
            .auto_shrink([false, true])
            .show(ui, |ui| match &tree {
                Some(value) => {
                    if let Some(path) = super::json_tree::json_tree_ui(ui, value) {
                        actions.push(Action::Plot {
                            topic: topic.clone(),
                            path,
                        });
                    }
                }
                None if shown_as == Decoding::Hex => hex_rows_ui(ui, &text),
                None => {
                    ui.horizontal(|ui| {
                        let mut shown = text.as_str();
                        ui.add(
                            egui::TextEdit::multiline(&mut shown)
                                .code_editor()
                                .desired_width(ui.available_width() - 40.0)
                                .hint_text(tr!("message.empty_payload")),
                        );
                        if text.trim().parse::<f64>().is_ok()
                            && widgets::icon_button(ui, "📈", &tr!("message.chart_value")).clicked()
                        {
                            actions.push(Action::Plot {
                                topic: topic.clone(),
                                path: Vec::new(),
                            });
                        }
                    });
                }
            });
    }

    history_ui(ui, &history, trimmed, index, &mut tab.history_index);
    if let Some(previous) = previous {
        egui::CollapsingHeader::new(tr!("message.diff"))
            .default_open(false)
            .show(ui, |ui| {
                let render = |bytes: &[u8]| {
                    crate::model::proto::state::render(
                        &tab.proto,
                        &topic,
                        bytes,
                        decoding,
                        DEFAULT_PAYLOAD_LIMIT,
                    )
                    .text
                };
                let (old, new) = (render(&previous), render(&payload_bytes));
                egui::ScrollArea::vertical()
                    .id_salt("diff")
                    .max_height(200.0)
                    .show(ui, |ui| {
                        for (tag, line) in payload::diff_lines(&old, &new) {
                            let color = match tag {
                                '-' => ui.visuals().error_fg_color,
                                '+' => widgets::ok_color(ui),
                                _ => ui.visuals().weak_text_color(),
                            };
                            ui.label(RichText::new(format!("{tag} {line}")).monospace().color(color));
                        }
                    });
            });
    }
}

/// "Decoded as pkg.Msg" under the payload selector when the topic is bound to a protobuf type
/// and Auto is chosen (the reason it is not decoded shows as the rendering's note instead).
fn schema_line_ui(ui: &mut Ui, schema: &crate::model::proto::SchemaState, topic: &str, decoding: Decoding) {
    use crate::model::proto::SchemaState;
    let text = match schema {
        _ if decoding != Decoding::Auto => return,
        SchemaState::Ready(decoder) => match decoder.type_for(topic) {
            Some(Ok(desc)) => tr!("message.decoded_as", name = desc.full_name()).into_owned(),
            _ => return,
        },
        SchemaState::Compiling => tr!("message.compiling_schema").into_owned(),
        SchemaState::Off | SchemaState::Failed(_) => return,
    };
    ui.label(RichText::new(text).weak());
}

/// The kept messages of the topic (time, size, retained, preview); a click selects one.
fn history_ui(
    ui: &mut Ui,
    history: &[(SystemTime, usize, String, bool)],
    trimmed: bool,
    index: usize,
    history_index: &mut usize,
) {
    egui::CollapsingHeader::new(tr!("message.history", n = history.len()))
        .default_open(true)
        .show(ui, |ui| {
            if trimmed {
                ui.label(RichText::new(tr!("message.history_trimmed")).weak().small());
            }
            egui::ScrollArea::vertical()
                .id_salt("history")
                .max_height(160.0)
                .show(ui, |ui| {
                    for (i, (when, size, preview, retain)) in history.iter().enumerate() {
                        let label = format!(
                            "{}  {:>9}  {}{}",
                            widgets::clock(*when),
                            units::bytes(*size as u64),
                            if *retain { "R " } else { "" },
                            preview
                        );
                        if ui
                            .selectable_label(i == index, RichText::new(label).monospace())
                            .clicked()
                        {
                            *history_index = i;
                        }
                    }
                });
        });
}

/// Points of the payload column kept for the scroll bar and margins beside hex rows.
const HEX_MARGIN: f32 = 24.0;

/// Bytes per hex row that fit the payload column without wrapping (from the monospace
/// glyph width, so a zoom or another font is followed).
fn hex_bytes_per_row(ui: &Ui) -> usize {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let glyph = ui.ctx().fonts_mut(|f| f.glyph_width(&font, '0'));
    payload::hex_bytes_per_row(ui.available_width() - HEX_MARGIN, glyph)
}

/// A hex dump, one row a label that never wraps (sized by [`hex_bytes_per_row`]).
fn hex_rows_ui(ui: &mut Ui, text: &str) {
    for row in text.lines() {
        ui.add(egui::Label::new(RichText::new(row).monospace()).extend());
    }
}

/// A large text, one monospace row per line (long lines cut), only the visible rows laid out.
fn large_text_ui(ui: &mut Ui, text: &str, rows: &[std::ops::Range<usize>]) {
    if ui.small_button(tr!("message.copy_payload")).clicked() {
        ui.ctx().copy_text(text.to_owned());
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::ScrollArea::both()
        .id_salt("payload-rows")
        .max_height(ui.available_height() * 0.55)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, rows.len(), |ui, visible| {
            for range in &rows[visible] {
                ui.add(egui::Label::new(RichText::new(&text[range.clone()]).monospace()).extend());
            }
        });
}

fn properties_ui(ui: &mut Ui, m: &StoredMessage) {
    let p = m.properties();
    if p.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(tr!("message.properties"))
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("props")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    let mut row = |k: &str, v: String| {
                        ui.label(RichText::new(k).color(Color32::GRAY));
                        ui.label(RichText::new(v).monospace());
                        ui.end_row();
                    };
                    if let Some(v) = &p.content_type {
                        row(&tr!("message.content_type"), v.clone());
                    }
                    if let Some(v) = p.payload_format_indicator {
                        row(
                            &tr!("message.payload_format"),
                            if v == 1 { "UTF-8".into() } else { "bytes".into() },
                        );
                    }
                    if let Some(v) = p.message_expiry_interval {
                        row(&tr!("message.message_expiry"), format!("{v} s"));
                    }
                    if let Some(v) = &p.response_topic {
                        row(&tr!("message.response_topic"), v.clone());
                    }
                    if let Some(v) = &p.correlation_data {
                        row(&tr!("message.correlation_data"), payload::preview(v, 60));
                    }
                    if let Some(v) = p.topic_alias {
                        row(&tr!("message.topic_alias"), v.to_string());
                    }
                    if !p.subscription_identifiers.is_empty() {
                        let ids: Vec<String> = p
                            .subscription_identifiers
                            .iter()
                            .map(ToString::to_string)
                            .collect();
                        row(&tr!("message.subscription_ids"), ids.join(", "));
                    }
                    for (k, v) in &p.user_properties {
                        row(k, v.clone());
                    }
                });
        });
}

fn clear_below_button(ui: &mut Ui, id: crate::model::topic_tree::NodeId, actions: &mut Vec<Action>) {
    if ui
        .button(tr!("message.clear_below"))
        .on_hover_text(tr!("message.clear_below_hover"))
        .clicked()
    {
        actions.push(Action::ClearRetainedBelow(id));
    }
}

fn export_menu(ui: &mut Ui, id: crate::model::topic_tree::NodeId, topic: &str, actions: &mut Vec<Action>) {
    use crate::model::export::Format;
    ui.menu_button(tr!("message.export"), |ui| {
        let name = topic.replace('/', "_");
        for (label, subtree, format) in [
            (tr!("message.export_history_jsonl"), false, Format::JsonLines),
            (tr!("message.export_history_csv"), false, Format::Csv),
            (tr!("message.export_latest_jsonl"), true, Format::JsonLines),
            (tr!("message.export_latest_csv"), true, Format::Csv),
        ] {
            if ui.button(label).clicked() {
                actions.push(Action::ExportMessages {
                    node: id,
                    subtree,
                    format,
                    suggested_name: format!(
                        "{name}{}.{}",
                        if subtree { "-latest" } else { "-history" },
                        format.extension()
                    ),
                });
                ui.close();
            }
        }
    });
}

/// The payload as shown: through the redaction (a copy only when something was hidden).
fn shown_payload(
    redactor: &crate::model::redact::Redactor,
    topic: &str,
    payload: &bytes::Bytes,
) -> bytes::Bytes {
    match redactor.payload(topic, payload) {
        std::borrow::Cow::Borrowed(_) => payload.clone(),
        std::borrow::Cow::Owned(hidden) => bytes::Bytes::from(hidden),
    }
}

/// tr!("message.pin") (or unpin) for a topic of the active connection.
fn pin_button(
    ui: &mut Ui,
    presentation: &crate::model::present::Presentation,
    topic: &str,
    actions: &mut Vec<Action>,
) {
    let pinned = presentation.is_pinned(topic);
    let (label, hint) = if pinned {
        (tr!("message.unpin"), tr!("message.unpin_hover"))
    } else {
        (tr!("message.pin"), tr!("message.pin_hover"))
    };
    if ui.button(label).on_hover_text(hint).clicked() {
        let mut changed = presentation.clone();
        if pinned {
            changed.pinned.retain(|t| t.topic != topic);
        } else {
            changed.pinned.push(crate::model::present::Tile::new(topic));
        }
        actions.push(Action::SetPresentation(Box::new(changed)));
    }
}

/// tr!("message.present_subtree"): every topic below becomes a tile.
fn present_subtree_button(
    ui: &mut Ui,
    presentation: &crate::model::present::Presentation,
    topic: &str,
    actions: &mut Vec<Action>,
) {
    if presentation.subtree == topic {
        return;
    }
    if ui
        .button(tr!("message.present_subtree"))
        .on_hover_text(tr!("message.present_subtree_hover"))
        .clicked()
    {
        let mut changed = presentation.clone();
        changed.subtree = topic.to_owned();
        actions.push(Action::SetPresentation(Box::new(changed)));
    }
}
