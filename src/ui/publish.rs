//! The publish panel: topic, payload (with JSON validation), QoS, retain, MQTT 5 properties,
//! Ctrl+Enter, the outcome, and recent publishes to send again.

use bytes::Bytes;
use egui::{Key, Modifiers, RichText, Ui};

use super::action::Action;
use super::widgets;
use crate::engine::{PublishOutcome, Token};
use crate::model::message::{OutgoingMessage, Properties, QoS};
use crate::model::template::{Encoding, Template, parse_hex};
use crate::model::topic::validate_topic_name;
use crate::ui::i18n::tr;

/// How the payload editor treats its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PayloadKind {
    /// Plain text.
    #[default]
    Text,
    /// JSON, validated before sending.
    Json,
    /// Hex digits (spaces and `:` allowed between bytes): for binary payloads.
    Hex,
}

/// The publish panel's state.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PublishState {
    /// Topic to publish to.
    pub topic: String,
    /// Payload text.
    pub payload: String,
    /// Text or JSON.
    pub kind: PayloadKind,
    /// QoS.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// MQTT 5 content type.
    pub content_type: String,
    /// MQTT 5 response topic.
    pub response_topic: String,
    /// MQTT 5 correlation data (text).
    pub correlation_data: String,
    /// MQTT 5 message expiry in seconds (0 = none).
    pub expiry_secs: u32,
    /// MQTT 5 user properties.
    pub user_properties: Vec<(String, String)>,
    /// Recently published messages, newest first.
    #[serde(skip)]
    pub recent: Vec<Recent>,
    /// Name for "Save as template".
    pub template_name: String,
    /// Messages a saved template sends (0 is taken as 1).
    pub repeat_count: u32,
    /// Milliseconds between them.
    pub repeat_interval_ms: u64,
    /// The last publish's token and outcome (None while waiting).
    #[serde(skip)]
    pub last: Option<(Token, Option<PublishOutcome>)>,
    /// A file chosen as the payload: its bytes are sent as they are, instead of the editor's
    /// text (not remembered between runs).
    #[serde(skip)]
    pub file: Option<PayloadFile>,
}

/// A payload read from a file (binary safe, at most one MQTT packet's worth).
#[derive(Debug, Clone)]
pub struct PayloadFile {
    /// The file's name, for the panel.
    pub name: String,
    /// Its contents.
    pub bytes: Bytes,
}

/// A message published earlier.
#[derive(Debug, Clone)]
pub struct Recent {
    /// What was sent.
    pub message: OutgoingMessage,
    /// How it ended.
    pub outcome: Option<PublishOutcome>,
    /// The token it was sent with.
    pub token: Token,
}

impl PublishState {
    /// The message described by the editor, or why it cannot be sent.
    pub fn message(&self) -> Result<OutgoingMessage, String> {
        validate_topic_name(&self.topic).map_err(|e| format!("topic: {e}"))?;
        if self.file.is_none() && self.kind == PayloadKind::Json && !self.payload.trim().is_empty() {
            serde_json::from_str::<serde_json::Value>(&self.payload).map_err(|e| format!("JSON: {e}"))?;
        }
        let payload = match (&self.file, self.kind) {
            (Some(file), _) => file.bytes.clone(),
            (None, PayloadKind::Hex) => {
                Bytes::from(parse_hex(&self.payload).map_err(|e| format!("hex: {e}"))?)
            }
            (None, PayloadKind::Text | PayloadKind::Json) => Bytes::from(self.payload.clone()),
        };
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        Ok(OutgoingMessage {
            topic: self.topic.clone(),
            payload,
            qos: self.qos,
            retain: self.retain,
            properties: Properties {
                content_type: opt(&self.content_type),
                response_topic: opt(&self.response_topic),
                correlation_data: opt(&self.correlation_data).map(Bytes::from),
                message_expiry_interval: (self.expiry_secs > 0).then_some(self.expiry_secs),
                user_properties: self
                    .user_properties
                    .iter()
                    .filter(|(k, _)| !k.is_empty())
                    .cloned()
                    .collect(),
                ..Properties::default()
            },
        })
    }

    /// The editor's message as a template named `name` (variables are kept as written).
    pub fn to_template(&self, name: String, count: u32, interval_ms: u64) -> Template {
        Template {
            name,
            topic: self.topic.clone(),
            payload: self.payload.clone(),
            encoding: match self.kind {
                PayloadKind::Text => Encoding::Text,
                PayloadKind::Json => Encoding::Json,
                PayloadKind::Hex => Encoding::Hex,
            },
            qos: self.qos,
            retain: self.retain,
            content_type: self.content_type.clone(),
            response_topic: self.response_topic.clone(),
            user_properties: self.user_properties.clone(),
            count,
            interval_ms,
            ..Template::default()
        }
    }

    /// Puts a template into the editor (its variables as written).
    pub fn load_template(&mut self, t: &Template) {
        self.topic.clone_from(&t.topic);
        self.payload.clone_from(&t.payload);
        self.kind = match t.encoding {
            Encoding::Text => PayloadKind::Text,
            Encoding::Json => PayloadKind::Json,
            Encoding::Hex => PayloadKind::Hex,
        };
        self.qos = t.qos;
        self.retain = t.retain;
        self.content_type.clone_from(&t.content_type);
        self.response_topic.clone_from(&t.response_topic);
        self.user_properties.clone_from(&t.user_properties);
    }

    /// Records the outcome of a publish.
    pub fn outcome(&mut self, token: Token, outcome: PublishOutcome) {
        if let Some((t, o)) = &mut self.last
            && *t == token
        {
            *o = Some(outcome.clone());
        }
        if let Some(r) = self.recent.iter_mut().find(|r| r.token == token) {
            r.outcome = Some(outcome);
        }
    }

    /// Remembers a publish just sent.
    pub fn sent(&mut self, token: Token, message: OutgoingMessage) {
        self.last = Some((token, None));
        self.recent.insert(
            0,
            Recent {
                message,
                outcome: None,
                token,
            },
        );
        self.recent.truncate(20);
    }

    fn load(&mut self, m: &OutgoingMessage) {
        self.topic.clone_from(&m.topic);
        self.payload = String::from_utf8_lossy(&m.payload).into_owned();
        self.qos = m.qos;
        self.retain = m.retain;
        self.content_type = m.properties.content_type.clone().unwrap_or_default();
        self.response_topic = m.properties.response_topic.clone().unwrap_or_default();
        self.correlation_data = m
            .properties
            .correlation_data
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        self.expiry_secs = m.properties.message_expiry_interval.unwrap_or(0);
        self.user_properties.clone_from(&m.properties.user_properties);
    }
}

fn outcome_ui(ui: &mut Ui, outcome: Option<&PublishOutcome>) {
    match outcome {
        None => {
            ui.label(RichText::new(tr!("publish.sending")).weak());
        }
        Some(PublishOutcome::Sent) => widgets::success(ui, tr!("publish.sent")),
        Some(PublishOutcome::Acknowledged) => widgets::success(ui, tr!("publish.acked")),
        Some(PublishOutcome::Failed(why)) => widgets::error(ui, why.clone()),
    }
}

/// Draws the publish panel. `connected` enables the Publish button; `v5` shows properties;
/// `bound` is the protobuf type the topic is bound to (the JSON payload is encoded with it).
pub fn publish_ui(
    ui: &mut Ui,
    state: &mut PublishState,
    connected: bool,
    v5: bool,
    bound: Option<&str>,
    actions: &mut Vec<Action>,
) {
    let ready = state.message();
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        egui::Grid::new("publish-grid")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                widgets::text_field(ui, &tr!("publish.topic"), &mut state.topic);
                ui.label(tr!("publish.options"));
                ui.horizontal(|ui| {
                    widgets::qos_selector(ui, "publish-qos", &mut state.qos);
                    ui.checkbox(&mut state.retain, tr!("publish.retain"));
                    ui.separator();
                    ui.selectable_value(&mut state.kind, PayloadKind::Text, tr!("publish.text"));
                    ui.selectable_value(&mut state.kind, PayloadKind::Json, "JSON");
                    ui.selectable_value(&mut state.kind, PayloadKind::Hex, "Hex")
                        .on_hover_text(tr!("publish.hex_hover"));
                    if ui
                        .small_button(tr!("publish.file"))
                        .on_hover_text(tr!("publish.file_hover"))
                        .clicked()
                    {
                        actions.push(Action::PickPayloadFile);
                    }
                    if state.kind == PayloadKind::Json
                        && ui.small_button(tr!("publish.format")).clicked()
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&state.payload)
                        && let Ok(pretty) = serde_json::to_string_pretty(&v)
                    {
                        state.payload = pretty;
                    }
                });
                ui.end_row();
            });
        // Taken before the editor sees it, so Ctrl+Enter does not also insert a newline.
        let shortcut = ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter));
        if let Some(type_name) = bound {
            // Said before sending: what goes out is not the text typed but its encoding.
            ui.label(RichText::new(tr!("publish.encoded_as", name = type_name)).weak());
        }
        let l = ui.label(tr!("publish.payload"));
        if let Some(file) = &state.file {
            // A file's bytes go out as they are: no editor to show them in.
            let mut clear = false;
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(tr!(
                        "publish.file_payload",
                        name = file.name,
                        size = crate::model::units::bytes(file.bytes.len() as u64)
                    ))
                    .strong(),
                );
                clear = ui.small_button(tr!("publish.file_clear")).clicked();
            });
            if clear {
                state.file = None;
            }
        } else {
            // A fixed id: the line above it comes and goes with the topic, and an id counted from
            // the layout would change with it, losing the cursor and what was being typed.
            let editor = egui::TextEdit::multiline(&mut state.payload)
                .id_salt("publish-payload")
                .code_editor()
                .desired_rows(5)
                .desired_width(f32::INFINITY)
                .hint_text(tr!("publish.payload_hint"));
            ui.add(editor).labelled_by(l.id);
        }
        ui.horizontal(|ui| {
            let can = connected && ready.is_ok();
            let button = ui.add_enabled(
                can,
                egui::Button::new(RichText::new(tr!("publish.publish")).strong()),
            );
            let button = if connected {
                button.on_hover_text("Ctrl+Enter")
            } else {
                button.on_disabled_hover_text(tr!("publish.connect_first"))
            };
            if (button.clicked() || (shortcut && can))
                && let Ok(message) = &ready
            {
                actions.push(Action::Publish(message.clone()));
            }
            match &ready {
                Err(e) if !state.topic.is_empty() || state.kind != PayloadKind::Text => {
                    widgets::error(ui, e.clone())
                }
                _ => {
                    if let Some((_, outcome)) = &state.last {
                        outcome_ui(ui, outcome.as_ref());
                    }
                }
            }
        });

        let ui = &mut cols[1];
        if v5 {
            egui::CollapsingHeader::new(tr!("publish.properties"))
                .default_open(false)
                .show(ui, |ui| {
                    egui::Grid::new("publish-props").num_columns(2).show(ui, |ui| {
                        widgets::text_field(ui, &tr!("publish.content_type"), &mut state.content_type);
                        widgets::text_field(ui, &tr!("publish.response_topic"), &mut state.response_topic);
                        widgets::text_field(
                            ui,
                            &tr!("publish.correlation_data"),
                            &mut state.correlation_data,
                        );
                        widgets::number_field(
                            ui,
                            &tr!("publish.message_expiry"),
                            &mut state.expiry_secs,
                            0..=u32::MAX,
                            " s",
                        );
                    });
                    ui.label(tr!("publish.user_properties"));
                    let mut remove = None;
                    for (i, (k, v)) in state.user_properties.iter_mut().enumerate() {
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(k)
                                    .hint_text(tr!("publish.key"))
                                    .desired_width(90.0),
                            );
                            ui.add(
                                egui::TextEdit::singleline(v)
                                    .hint_text(tr!("publish.value"))
                                    .desired_width(120.0),
                            );
                            if widgets::icon_button(ui, "✖", &tr!("publish.remove_user_property")).clicked()
                            {
                                remove = Some(i);
                            }
                        });
                    }
                    if let Some(i) = remove {
                        state.user_properties.remove(i);
                    }
                    if ui.small_button(tr!("publish.add_user_property")).clicked() {
                        state.user_properties.push((String::new(), String::new()));
                    }
                });
        }
        ui.label(RichText::new(tr!("publish.recent")).strong());
        egui::ScrollArea::vertical()
            .id_salt("recent")
            .max_height(120.0)
            .show(ui, |ui| {
                if state.recent.is_empty() {
                    ui.label(RichText::new(tr!("publish.nothing_yet")).weak());
                }
                let mut load = None;
                let mut resend = None;
                for (i, r) in state.recent.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if widgets::icon_button(ui, "↻", &tr!("publish.send_again")).clicked() {
                            resend = Some(r.message.clone());
                        }
                        let text = format!(
                            "{} · {}",
                            r.message.topic,
                            crate::model::payload::preview(&r.message.payload, 30)
                        );
                        if ui
                            .selectable_label(false, RichText::new(text).monospace())
                            .on_hover_text(tr!("publish.load"))
                            .clicked()
                        {
                            load = Some(i);
                        }
                        match &r.outcome {
                            Some(PublishOutcome::Failed(_)) => {
                                ui.label(RichText::new("✖").color(ui.visuals().error_fg_color));
                            }
                            Some(_) => {
                                ui.label(RichText::new("✔").color(widgets::ok_color(ui)));
                            }
                            None => {}
                        }
                    });
                }
                if let Some(i) = load {
                    let m = state.recent[i].message.clone();
                    state.load(&m);
                }
                if let Some(m) = resend
                    && connected
                {
                    actions.push(Action::Publish(m));
                }
            });
    });
}

/// MQTT 5 requests sent from the panel and the replies matched to them.
pub fn requests_ui(ui: &mut Ui, requests: &crate::model::requests::Requests) {
    egui::CollapsingHeader::new(tr!("publish.requests", n = requests.list.len()))
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("requests")
                .max_height(140.0)
                .show(ui, |ui| {
                    for r in requests.list.iter().rev() {
                        let correlation = r
                            .correlation
                            .as_ref()
                            .map(|c| {
                                tr!(
                                    "publish.correlation",
                                    data = crate::model::payload::preview(c, 24)
                                )
                                .into_owned()
                            })
                            .unwrap_or_default();
                        let replies = match r.replies.len() {
                            0 => tr!("publish.waiting_reply"),
                            1 => tr!("publish.one_reply"),
                            n => tr!("publish.replies", n = n),
                        };
                        ui.label(tr!(
                            "publish.request_line",
                            time = super::widgets::clock(r.sent),
                            topic = r.topic,
                            response_topic = r.response_topic,
                            correlation = correlation,
                            replies = replies
                        ));
                        for reply in &r.replies {
                            ui.label(
                                egui::RichText::new(tr!(
                                    "publish.reply_line",
                                    time = super::widgets::clock(reply.received),
                                    payload = crate::model::payload::preview(&reply.payload, 80)
                                ))
                                .monospace(),
                            );
                        }
                    }
                });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_validates_topic_and_json() {
        let mut s = PublishState {
            topic: "a/+".into(),
            ..Default::default()
        };
        assert!(s.message().unwrap_err().contains("wildcard"));
        s.topic = "a/b".into();
        s.kind = PayloadKind::Json;
        s.payload = "{bad".into();
        assert!(s.message().unwrap_err().starts_with("JSON"));
        s.payload = "{\"ok\":true}".into();
        s.user_properties = vec![("k".into(), "v".into()), (String::new(), "ignored".into())];
        s.expiry_secs = 10;
        let m = s.message().unwrap();
        assert_eq!(m.properties.user_properties.len(), 1);
        assert_eq!(m.properties.message_expiry_interval, Some(10));
    }
}
