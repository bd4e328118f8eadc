//! The bars around the panels: the top bar (panel toggles, settings), the notices in a corner, and the
//! tab bar with the recording and replay controls of the active connection.

use std::time::Duration;

use egui::{RichText, Ui};

use super::CanopyApp;
use crate::model::topic_tree::Limits;
use crate::ui::action::Action;
use crate::ui::i18n::{Language, tr};
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
                tr!("top.hide_publish")
            } else {
                tr!("top.publish")
            };
            if ui.button(label).clicked() {
                self.persisted.show_publish = !self.persisted.show_publish;
            }
            let charted = self.tabs.get(self.active).map_or(0, |t| t.charts.series.len());
            if ui
                .selectable_label(self.persisted.show_charts, tr!("top.charts", n = charted))
                .on_hover_text(tr!("top.charts_hover"))
                .clicked()
            {
                self.persisted.show_charts = !self.persisted.show_charts;
            }
            if ui
                .selectable_label(self.persisted.show_schemas, tr!("top.schemas"))
                .on_hover_text(tr!("top.schemas_hover"))
                .clicked()
            {
                self.persisted.show_schemas = !self.persisted.show_schemas;
            }
            if ui
                .selectable_label(self.persisted.show_search, tr!("top.search"))
                .on_hover_text(tr!("top.search_hover"))
                .clicked()
            {
                self.persisted.show_search = !self.persisted.show_search;
            }
            if ui
                .selectable_label(self.persisted.show_timeline, tr!("top.timeline"))
                .on_hover_text(tr!("top.timeline_hover"))
                .clicked()
            {
                self.persisted.show_timeline = !self.persisted.show_timeline;
            }
            let present = ui
                .button(tr!("top.present"))
                .on_hover_text(tr!("top.present_hover"));
            if crate::ui::widgets::named(present, &tr!("top.present_name")).clicked() {
                actions.push(Action::Present(true));
            }
            if ui
                .selectable_label(self.persisted.show_broker, tr!("top.broker"))
                .on_hover_text(tr!("top.broker_hover"))
                .clicked()
            {
                self.persisted.show_broker = !self.persisted.show_broker;
            }
            if ui
                .button(tr!("top.report_card"))
                .on_hover_text(tr!("top.report_card_hover"))
                .clicked()
            {
                actions.push(Action::RunReportCard);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                theme_buttons_ui(ui);
                ui.menu_button(tr!("top.settings"), |ui| {
                    let mut language = self.persisted.language;
                    if language_ui(ui, &mut language) {
                        actions.push(Action::SetLanguage(language));
                    }
                    ui.separator();
                    let mut limits = self.persisted.limits;
                    if settings_ui(ui, &mut limits) {
                        actions.push(Action::SetLimits(limits));
                    }
                });
                let zoom = format!("{:.0}", ui.ctx().zoom_factor() * 100.0);
                ui.label(RichText::new(tr!("top.zoom", percent = zoom)).weak());
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
                            ui.label(tr!(
                                "notices.clearing",
                                root = job.root,
                                done = job.done,
                                total = job.topics.len()
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
                    tr!("tabs.hide_connections")
                } else {
                    tr!("tabs.show_connections")
                };
                let response = ui.selectable_label(shown, "☰").on_hover_text(&*name);
                if crate::ui::widgets::named(response, &name).clicked() {
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
                    if crate::ui::widgets::icon_button(
                        ui,
                        "⏏",
                        &tr!("tabs.disconnect", name = tab.profile.name),
                    )
                    .clicked()
                    {
                        actions.push(Action::Disconnect(tab.id));
                    }
                } else if crate::ui::widgets::icon_button(
                    ui,
                    "✖",
                    &tr!("tabs.close", name = tab.profile.name),
                )
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
                if ui.button(tr!("tabs.stop_replay")).clicked() {
                    actions.push(Action::StopReplay);
                }
                ui.label(tr!("tabs.replaying", sent = job.progress.sent));
                ui.spinner();
            }
            None => {
                ui.add_enabled_ui(tab.connected(), |ui| {
                    ui.menu_button(tr!("tabs.replay"), |ui| {
                        use crate::model::recording::Speed;
                        ui.label(tr!("tabs.replay_intro"));
                        for (label, speed) in [
                            (tr!("tabs.replay_recorded_pace"), Speed::Factor(1.0)),
                            (tr!("tabs.replay_10x"), Speed::Factor(10.0)),
                            (tr!("tabs.replay_fastest"), Speed::Fastest),
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
                        RichText::new(tr!("tabs.stop_recording", n = r.written()))
                            .color(ui.visuals().error_fg_color),
                    )
                    .on_hover_text(tr!("tabs.recording_to", path = r.path.display()));
                if stop.clicked() {
                    actions.push(Action::StopRecording);
                }
                ui.ctx().request_repaint_after(Duration::from_millis(500));
            }
            None => {
                if ui
                    .add_enabled(tab.open(), egui::Button::new(tr!("tabs.record")))
                    .on_hover_text(tr!("tabs.record_hover"))
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
    ui.label(RichText::new(tr!("settings.history")).strong());
    egui::Grid::new("settings").num_columns(2).show(ui, |ui| {
        let mut budget = limits.history_budget / MIB;
        ui.label(tr!("settings.memory_budget"));
        if ui
            .add(egui::DragValue::new(&mut budget).range(0..=65536).suffix(" MiB"))
            .on_hover_text(tr!("settings.memory_budget_hover"))
            .changed()
        {
            limits.history_budget = budget * MIB;
            changed = true;
        }
        ui.end_row();
        ui.label(tr!("settings.per_topic"));
        changed |= ui
            .add(egui::DragValue::new(&mut limits.history_per_topic).range(1..=100_000))
            .changed();
        ui.end_row();
        let mut cap = limits.history_payload_cap / 1024;
        ui.label(tr!("settings.payload_cap"));
        if ui
            .add(egui::DragValue::new(&mut cap).range(1..=262_144).suffix(" KiB"))
            .on_hover_text(tr!("settings.payload_cap_hover"))
            .changed()
        {
            limits.history_payload_cap = cap * 1024;
            changed = true;
        }
        ui.end_row();
    });
    ui.label(RichText::new(tr!("settings.latest_kept")).weak().small());
    changed
}

/// The language switch; returns whether the user chose another.
fn language_ui(ui: &mut Ui, language: &mut Language) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label(RichText::new(tr!("settings.language")).strong());
        for choice in Language::ALL {
            // Each language names itself, so that a user who cannot read the current one
            // still finds their own.
            let name = match choice {
                Language::System => tr!("settings.language_system"),
                Language::English => "English".into(),
                Language::SimplifiedChinese => "简体中文".into(),
            };
            changed |= ui.radio_value(language, choice, name).changed();
        }
    });
    changed
}

/// System / dark / light, as egui's own theme buttons but with names a screen reader can
/// speak (egui's are the bare emoji).
fn theme_buttons_ui(ui: &mut Ui) {
    use egui::ThemePreference as T;
    let current = ui.ctx().options(|o| o.theme_preference);
    // Right to left: the last is drawn first.
    for (value, icon, name) in [
        (T::Light, "☀", tr!("theme.light")),
        (T::Dark, "🌙", tr!("theme.dark")),
        (T::System, "💻", tr!("theme.system")),
    ] {
        let response = ui.selectable_label(current == value, icon).on_hover_text(&*name);
        if crate::ui::widgets::named(response, &name).clicked() {
            ui.ctx().set_theme(value);
        }
    }
}
