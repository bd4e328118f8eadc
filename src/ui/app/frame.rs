//! The frame: [`eframe::App`] for [`CanopyApp`]. Events and background results are drained
//! in `logic`; `ui` lays out the panels, collects their [`Action`](crate::ui::action::Action)s and applies them at the
//! end of the frame.

use egui::{Panel, Ui};

use super::CanopyApp;

use crate::engine::ConnectionId;
use crate::ui::profiles::{editor_sheet_ui, profiles_ui, welcome_ui};
use crate::ui::publish::{PublishState, publish_ui};
use crate::ui::status_bar::status_bar_ui;
use crate::ui::subscriptions::subscriptions_ui;
use crate::ui::tab::ConnectionTab;
use crate::ui::templates::templates_ui;
use crate::ui::{message, tree};

/// Frames drawn, for `scripts/cpu.sh`: with `CANOPY_FRAME_LOG=FILE` set, the count is written
/// to FILE about once a second (repaints per second are measured from outside the process).
fn count_frame() {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PATH: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    static FRAMES: AtomicU64 = AtomicU64::new(0);
    static WRITTEN_AT: AtomicU64 = AtomicU64::new(0);
    let Some(path) = PATH.get_or_init(|| std::env::var_os("CANOPY_FRAME_LOG").map(Into::into)) else {
        return;
    };
    let frames = FRAMES.fetch_add(1, Ordering::Relaxed) + 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if WRITTEN_AT.swap(now, Ordering::Relaxed) != now {
        // Best effort: a measurement aid, not worth a notice if the file cannot be written.
        std::fs::write(path, frames.to_string()).ok();
    }
}

/// Default widths of the side panels, in points. With the list hidden the tree gets about
/// two thirds of a 1440-px window; with it shown, about half (it used to get a third).
const LIST_WIDTH: f32 = 250.0;
/// The editor sheet: wide enough for a URL and the transport buttons on one line.
const EDITOR_WIDTH: f32 = 430.0;
/// The message view: 16-byte hex rows and pretty JSON fit.
const MESSAGE_WIDTH: f32 = 440.0;

/// While the editor is open, the message view steps aside unless the tree keeps at least
/// this much beside it (the tree was squeezed to 150 px at 1280 px with list, editor and
/// message view all open).
const MIN_TREE_WIDTH: f32 = 520.0;

/// How long closing the window waits for the profile saver to finish writing.
const SAVER_EXIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Follows the tree selection with the publish topic, unless the user typed another topic.
fn prefill_publish_topic(
    publish: &mut PublishState,
    tab: &ConnectionTab,
    before: Option<crate::model::topic_tree::NodeId>,
) {
    let Some(now) = tab.view.selected.filter(|s| Some(*s) != before) else {
        return;
    };
    let previous = before.map(|b| tab.tree.full_topic(b));
    if publish.topic.is_empty() || previous.as_deref() == Some(publish.topic.as_str()) {
        publish.topic = tab.tree.full_topic(now);
    }
}

impl CanopyApp {
    /// What ends every frame: the notices and dialog over the panels, then what the panels
    /// asked for, then saving the profiles if they changed.
    pub(super) fn finish_frame(&mut self, ctx: &egui::Context, mut actions: Vec<crate::ui::action::Action>) {
        if self.report_card.open {
            crate::ui::report_card::report_card_ui(ctx, &mut self.report_card, &mut actions);
        }
        self.notices_ui(ctx, &mut actions);
        self.dialog_ui(ctx);
        for action in actions {
            self.apply(action);
        }
        self.schedule_save();
    }

    /// Whether the list of saved connections is drawn: always while no connection is open
    /// (it is the way to open one), else as the user chose with the toggle in the tab bar
    /// (hidden unless pinned, so that the tree takes the width).
    pub(super) fn connections_shown(&self) -> bool {
        self.persisted.keep_connections_open || !self.tabs.iter().any(|t| t.open())
    }
}

impl eframe::App for CanopyApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        crate::ui::i18n::set_locale(self.locale);
        self.drain_engine();
        self.drain_background();
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        count_frame();
        // Again here: eframe may call `ui` without `logic` (a hidden viewport's repaint).
        crate::ui::i18n::set_locale(self.locale);
        if self.presentation_frame(ui) {
            return;
        }
        let mut actions = Vec::new();
        Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui, &mut actions));
        let active = self.active;
        Panel::bottom("status-bar").show(ui, |ui| {
            status_bar_ui(ui, self.tabs.get_mut(active), &mut actions);
        });
        if self.persisted.show_publish {
            let (connected, v5) = self
                .tabs
                .get(active)
                .map(|t| (t.connected(), t.speaks_v5()))
                .unwrap_or((false, true));
            let bound = self.tabs.get(active).and_then(|t| match &t.proto {
                crate::model::proto::SchemaState::Ready(decoder) => decoder
                    .type_for(&self.persisted.publish.topic)
                    .and_then(Result::ok)
                    .map(|d| d.full_name().to_owned()),
                _ => None,
            });
            Panel::bottom("publish")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| {
                    ui.add_space(4.0);
                    publish_ui(
                        ui,
                        &mut self.persisted.publish,
                        connected,
                        v5,
                        bound.as_deref(),
                        &mut actions,
                    );
                    let saved = self.tabs.get(active).and_then(|t| {
                        let id = &t.profile.id;
                        self.profiles.file.profiles.iter().find(|p| &p.id == id)
                    });
                    let templates = saved.map(|p| (&p.id, p.templates.as_slice()));
                    templates_ui(
                        ui,
                        &mut self.persisted.publish,
                        templates,
                        connected,
                        &mut actions,
                    );
                    if let Some(tab) = self.tabs.get(active)
                        && !tab.requests.list.is_empty()
                    {
                        crate::ui::publish::requests_ui(ui, &tab.requests);
                    }
                });
        }
        if self.connections_shown() {
            Panel::left("profiles")
                .resizable(true)
                .default_size(LIST_WIDTH)
                .min_size(200.0)
                .show(ui, |ui| {
                    ui.allocate_space(egui::vec2(ui.available_width(), 0.0));
                    let open_tabs: Vec<(String, ConnectionId)> = self
                        .tabs
                        .iter()
                        .filter(|t| t.open())
                        .map(|t| (t.profile.name.clone(), t.id))
                        .collect();
                    profiles_ui(ui, &mut self.profiles, self.read_only, &open_tabs, &mut actions);
                });
        }
        if self.profiles.editor_open {
            Panel::left("profile-editor")
                .resizable(true)
                .default_size(EDITOR_WIDTH)
                .min_size(320.0)
                .show(ui, |ui| {
                    editor_sheet_ui(ui, &mut self.profiles, self.read_only, &mut actions);
                });
        }
        let decodings = &mut self.persisted.topic_decodings;
        let message_fits =
            !self.profiles.editor_open || ui.available_width() >= MESSAGE_WIDTH + MIN_TREE_WIDTH;
        if let Some(tab) = self.tabs.get_mut(active).filter(|_| message_fits) {
            Panel::right("message")
                .resizable(true)
                .default_size(MESSAGE_WIDTH)
                .min_size(320.0)
                .show(ui, |ui| {
                    // Keep the panel's width when its content is narrow (egui shrinks to it).
                    ui.allocate_space(egui::vec2(ui.available_width(), 0.0));
                    message::message_ui(ui, tab, decodings, &mut actions);
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.tabs_ui(ui, &mut actions);
            ui.separator();
            match self.tabs.get_mut(active) {
                Some(tab) => {
                    let before = tab.view.selected;
                    subscriptions_ui(ui, tab, &mut actions);
                    tree::tree_ui(ui, tab);
                    prefill_publish_topic(&mut self.persisted.publish, tab, before);
                    self.persisted.show_sys = tab.view.show_sys;
                }
                None => welcome_ui(ui, &mut self.profiles, &mut actions),
            }
        });
        if self.persisted.show_broker
            && let Some(tab) = self.tabs.get_mut(active)
        {
            crate::ui::broker_stats::broker_stats_ui(ui.ctx(), &mut self.persisted.show_broker, tab);
        }
        if self.persisted.show_search
            && let Some(tab) = self.tabs.get_mut(active)
        {
            crate::ui::search::search_ui(ui.ctx(), &mut self.persisted.show_search, tab);
        }
        if self.persisted.show_charts
            && let Some(tab) = self.tabs.get_mut(active)
        {
            crate::ui::charts::charts_ui(ui.ctx(), &mut self.persisted.show_charts, tab, &mut actions);
        }
        if self.persisted.show_schemas
            && let Some(tab) = self.tabs.get(active)
        {
            let open = &mut self.persisted.show_schemas;
            crate::ui::proto::schemas_ui(ui.ctx(), open, &tab.profile.proto, &tab.proto, &mut actions);
        }
        if self.persisted.show_timeline
            && let Some(tab) = self.tabs.get_mut(active)
        {
            let id = tab.id;
            crate::ui::timeline::timeline_ui(
                ui.ctx(),
                &mut self.persisted.show_timeline,
                id,
                &mut tab.timeline,
                &mut actions,
            );
        }
        self.sync_trace();
        let ctx = ui.ctx().clone();
        self.finish_frame(&ctx, actions);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.persisted.last_profile = self.profiles.current().map(|p| p.name.clone());
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // A pending edit is written before the process ends: the saver writes what is queued,
        // then says it is done (bounded, so a hung credential store cannot hold the exit).
        if self.save_due.take().is_some() {
            self.saver.save(self.profiles.file.clone());
        }
        self.saver.close(SAVER_EXIT_TIMEOUT);
    }
}
