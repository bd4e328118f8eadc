//! The bars around the panels: the top bar (panel toggles, settings), the notices in a corner, and the
//! tab bar with the recording and replay controls of the active connection.

use std::time::Duration;

use egui::{RichText, Ui};

use super::CanopyApp;
use crate::model::topic_tree::Limits;
use crate::ui::action::Action;
use crate::ui::notices::notice_ui;

/// Width the recording and replay controls need beside the tabs, in points.
const CONTROLS_WIDTH: f32 = 240.0;
/// Width of the notices in the corner, in points.
const NOTICE_WIDTH: f32 = 440.0;

impl CanopyApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("🌳 Canopy").heading().strong());
            ui.separator();
            let label = if self.persisted.show_publish {
                "Hide publish"
            } else {
                "Publish…"
            };
            if ui.button(label).clicked() {
                self.persisted.show_publish = !self.persisted.show_publish;
            }
            let charted = self.tabs.get(self.active).map_or(0, |t| t.charts.series.len());
            if ui
                .selectable_label(self.persisted.show_charts, format!("📈 Charts ({charted})"))
                .on_hover_text("Numbers from payloads over time")
                .clicked()
            {
                self.persisted.show_charts = !self.persisted.show_charts;
            }
            if ui
                .selectable_label(self.persisted.show_search, "🔎 Search")
                .on_hover_text("Search through payloads: text, /regex/ or $.temperature > 80")
                .clicked()
            {
                self.persisted.show_search = !self.persisted.show_search;
            }
            if ui
                .selectable_label(self.persisted.show_timeline, "🕒 Timeline")
                .on_hover_text("Every MQTT packet of this connection, with acknowledgement times")
                .clicked()
            {
                self.persisted.show_timeline = !self.persisted.show_timeline;
            }
            let present = ui
                .button("▶ Present")
                .on_hover_text("Presentation mode: pinned topics as tiles, full screen (F11)");
            if crate::ui::widgets::named(present, "Presentation mode").clicked() {
                actions.push(Action::Present(true));
            }
            if ui
                .selectable_label(self.persisted.show_broker, "📊 Broker")
                .on_hover_text("Clients, message rates, uptime and version from $SYS")
                .clicked()
            {
                self.persisted.show_broker = !self.persisted.show_broker;
            }
            if ui
                .button("📋 Report card")
                .on_hover_text("Probe the broker: versions, features, MQTT 5 limits, latency and throughput")
                .clicked()
            {
                actions.push(Action::RunReportCard);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                theme_buttons_ui(ui);
                ui.menu_button("⚙ Settings", |ui| {
                    let mut limits = self.persisted.limits;
                    if settings_ui(ui, &mut limits) {
                        actions.push(Action::SetLimits(limits));
                    }
                });
                ui.label(
                    RichText::new(format!("zoom {:.0}% (Ctrl +/−)", ui.ctx().zoom_factor() * 100.0)).weak(),
                );
            });
        });
    }

    /// The notices and the clear-retained progress, floating in the bottom-right corner over
    /// the panels so that they come and go without moving anything.
    pub(super) fn notices_ui(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        if self.notices.is_empty() && self.clear_job.is_none() {
            return;
        }
        egui::Area::new(egui::Id::unique("notices"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(NOTICE_WIDTH);
                    if let Some(job) = &self.clear_job {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(format!(
                                "Clearing retained messages at or below {}: {} of {}",
                                job.root,
                                job.done,
                                job.topics.len()
                            ));
                        });
                        ui.add(egui::ProgressBar::new(
                            job.done as f32 / job.topics.len().max(1) as f32,
                        ));
                    }
                    for notice in self.notices.iter() {
                        if notice_ui(ui, notice) {
                            actions.push(Action::DismissNotice(notice.id));
                        }
                    }
                });
            });
    }

    pub(super) fn tabs_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let mut own_line = false;
        ui.horizontal(|ui| {
            // While nothing is open the list is always there: no toggle to offer.
            if self.tabs.iter().any(|t| t.open()) {
                let shown = self.connections_shown();
                let name = if shown {
                    "Hide the saved connections"
                } else {
                    "Show the saved connections"
                };
                let response = ui.selectable_label(shown, "☰").on_hover_text(name);
                if crate::ui::widgets::named(response, name).clicked() {
                    self.persisted.keep_connections_open = !shown;
                }
                ui.separator();
            }
            for (i, tab) in self.tabs.iter().enumerate() {
                let (state, color) = crate::ui::status_bar::describe(tab, ui);
                crate::ui::status_bar::dot(ui, color);
                if ui
                    .selectable_label(i == self.active, tab.profile.name.as_str())
                    .on_hover_text(state)
                    .clicked()
                {
                    self.active = i;
                }
                if tab.open() {
                    if crate::ui::widgets::icon_button(ui, "⏏", &format!("Disconnect {}", tab.profile.name))
                        .clicked()
                    {
                        actions.push(Action::Disconnect(tab.id));
                    }
                } else if crate::ui::widgets::icon_button(ui, "✖", &format!("Close {}", tab.profile.name))
                    .clicked()
                {
                    actions.push(Action::CloseTab(tab.id));
                }
                ui.separator();
            }
            // Recording and replay at the right of the tabs, or on a line of their own when
            // the column is too narrow for both (they overlapped the tab names).
            if ui.available_width() >= CONTROLS_WIDTH {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    self.tab_controls_ui(ui, actions);
                });
            } else {
                own_line = true;
            }
        });
        if own_line {
            // One row high: a layout of its own would centre them in the whole column.
            let row = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
            let layout = egui::Layout::right_to_left(egui::Align::Center);
            ui.allocate_ui_with_layout(row, layout, |ui| self.tab_controls_ui(ui, actions));
        }
    }

    /// Record and replay for the active connection (nothing when there is none).
    fn tab_controls_ui(&self, ui: &mut Ui, actions: &mut Vec<Action>) {
        let Some(tab) = self.tabs.get(self.active) else {
            return;
        };
        match &self.replay {
            Some(job) => {
                if ui.button("⏹ Stop replay").clicked() {
                    actions.push(Action::StopReplay);
                }
                ui.label(format!("Replaying… {} sent", job.progress.sent));
                ui.spinner();
            }
            None => {
                ui.add_enabled_ui(tab.connected(), |ui| {
                    ui.menu_button("⏵ Replay…", |ui| {
                        use crate::model::recording::Speed;
                        ui.label("Publish a recording to this connection:");
                        for (label, speed) in [
                            ("at the recorded pace", Speed::Factor(1.0)),
                            ("10× faster", Speed::Factor(10.0)),
                            ("as fast as possible", Speed::Fastest),
                        ] {
                            if ui.button(label).clicked() {
                                actions.push(Action::StartReplay { path: None, speed });
                                ui.close();
                            }
                        }
                    });
                });
            }
        }
        match &tab.recorder {
            Some(r) => {
                let stop = ui
                    .button(
                        RichText::new(format!("⏹ Stop recording ({})", r.written()))
                            .color(ui.visuals().error_fg_color),
                    )
                    .on_hover_text(format!("Recording to {}", r.path.display()));
                if stop.clicked() {
                    actions.push(Action::StopRecording);
                }
                ui.ctx().request_repaint_after(Duration::from_millis(500));
            }
            None => {
                if ui
                    .add_enabled(tab.open(), egui::Button::new("⏺ Record…"))
                    .on_hover_text("Record everything this connection receives to a file (JSON Lines)")
                    .clicked()
                {
                    actions.push(Action::StartRecording(None));
                }
            }
        }
    }
}

/// The history limits; returns whether they changed.
fn settings_ui(ui: &mut Ui, limits: &mut Limits) -> bool {
    const MIB: usize = 1024 * 1024;
    let mut changed = false;
    ui.label(RichText::new("Message history").strong());
    egui::Grid::new("settings").num_columns(2).show(ui, |ui| {
        let mut budget = limits.history_budget / MIB;
        ui.label("Memory budget");
        if ui
            .add(egui::DragValue::new(&mut budget).range(0..=65536).suffix(" MiB"))
            .on_hover_text("All topics' history together; the oldest is dropped first past it")
            .changed()
        {
            limits.history_budget = budget * MIB;
            changed = true;
        }
        ui.end_row();
        ui.label("Messages per topic");
        changed |= ui
            .add(egui::DragValue::new(&mut limits.history_per_topic).range(1..=100_000))
            .changed();
        ui.end_row();
        let mut cap = limits.history_payload_cap / 1024;
        ui.label("Payload kept in history");
        if ui
            .add(egui::DragValue::new(&mut cap).range(1..=262_144).suffix(" KiB"))
            .on_hover_text("Longer payloads are kept whole as the latest value, cut in history")
            .changed()
        {
            limits.history_payload_cap = cap * 1024;
            changed = true;
        }
        ui.end_row();
    });
    ui.label(
        RichText::new("The latest message of every topic is always kept whole.")
            .weak()
            .small(),
    );
    changed
}

/// System / dark / light, as egui's own theme buttons but with names a screen reader can
/// speak (egui's are the bare emoji).
fn theme_buttons_ui(ui: &mut Ui) {
    use egui::ThemePreference as T;
    let current = ui.ctx().options(|o| o.theme_preference);
    // Right to left: the last is drawn first.
    for (value, icon, name) in [
        (T::Light, "☀", "Light theme"),
        (T::Dark, "🌙", "Dark theme"),
        (T::System, "💻", "Follow the system theme"),
    ] {
        let response = ui.selectable_label(current == value, icon).on_hover_text(name);
        if crate::ui::widgets::named(response, name).clicked() {
            ui.ctx().set_theme(value);
        }
    }
}
