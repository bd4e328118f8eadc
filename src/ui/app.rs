//! The application: owns the engine handle, the profiles and the open connections; draws the
//! panels and applies what they asked for at the end of each frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use egui::{Panel, RichText, Ui};

use super::profiles::{FileCheck, FileTarget, ProfilesPanel, profiles_ui};
use super::publish::{PublishState, publish_ui};
use super::status_bar::status_bar_ui;
use super::tab::ConnectionTab;
use super::{fonts, message, tree};
use crate::engine::{Command, ConnectionState, Engine, Event, PublishOutcome};
use crate::model::message::OutgoingMessage;
use crate::model::payload::View;
use crate::profiles::Profile;
use crate::profiles::profile::MqttVersion;
use crate::profiles::store::{self, ProfilesFile, StoreError};

/// Time per frame spent applying incoming messages before drawing.
const APPLY_BUDGET: Duration = Duration::from_millis(6);
/// Edits are saved this long after the last change.
const SAVE_DELAY: Duration = Duration::from_millis(400);

/// Something a panel asked for while drawing; applied at the end of the frame.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open (or re-open) a connection with this profile.
    Connect(Box<Profile>),
    /// Disconnect the tab at this index.
    Disconnect(usize),
    /// Close the tab at this index (disconnecting it).
    CloseTab(usize),
    /// Publish on the active connection.
    Publish(OutgoingMessage),
    /// Delete a retained message on the active connection.
    ClearRetained(String),
    /// Put a topic into the publish panel.
    UseTopic(String),
    /// Open the file picker for a TLS file of profile `index`.
    Browse {
        /// The profile.
        index: usize,
        /// Which file.
        target: FileTarget,
    },
    /// Check a TLS file in the background.
    CheckFile {
        /// The file.
        path: PathBuf,
        /// What it should contain.
        target: FileTarget,
    },
    /// Ask where to save a payload, then save it.
    SavePayload {
        /// File name offered.
        suggested_name: String,
        /// The bytes.
        payload: Bytes,
    },
    /// Dismiss the notice at this index.
    DismissNotice(usize),
}

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The profiles file.
    pub profiles_path: PathBuf,
    /// Look for a system CJK font in the background.
    pub load_system_fonts: bool,
}

impl AppConfig {
    /// The platform's locations (`$XDG_CONFIG_HOME/canopy/profiles.toml` on Linux).
    pub fn from_platform() -> Result<Self, StoreError> {
        Ok(Self {
            profiles_path: store::default_path()?,
            load_system_fonts: true,
        })
    }
}

/// UI state remembered between runs (through eframe's storage).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Persisted {
    last_profile: Option<String>,
    show_publish: bool,
    payload_view: View,
    publish: PublishState,
    hide_sys: bool,
}

/// Results of background work.
enum Background {
    FilePicked {
        index: usize,
        target: FileTarget,
        path: PathBuf,
    },
    FileChecked {
        path: PathBuf,
        check: FileCheck,
    },
    Fonts(Option<fonts::FallbackFont>),
    Saved(Result<(), String>),
    PayloadSaved(Result<PathBuf, String>),
}

/// The Canopy window.
pub struct CanopyApp {
    persisted: Persisted,
    engine: Engine,
    profiles: ProfilesPanel,
    read_only: bool,
    tabs: Vec<ConnectionTab>,
    active: usize,
    next_id: u64,
    next_token: u64,
    notices: Vec<String>,
    save_due: Option<Instant>,
    saver: Sender<ProfilesFile>,
    bg_tx: Sender<Background>,
    bg_rx: Receiver<Background>,
    ctx: egui::Context,
}

impl CanopyApp {
    /// Creates the app: starts the engine, reads the profiles file (once, before the first
    /// frame) and starts background helpers.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> Self {
        let ctx = cc.egui_ctx.clone();
        let persisted: Persisted = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let (bg_tx, bg_rx) = channel();
        let mut notices = Vec::new();
        let waker = ctx.clone();
        let engine = match Engine::start(Arc::new(move || waker.request_repaint())) {
            Ok(e) => e,
            Err(e) => {
                // Without threads nothing works; say so in the window rather than crash.
                notices.push(format!("The network engine could not start: {e}"));
                #[allow(clippy::expect_used)]
                Engine::start(Arc::new(|| {})).expect("engine")
            }
        };
        let mut read_only = false;
        let file = match store::load(&config.profiles_path) {
            Ok(file) => file,
            Err(e) => {
                read_only = true;
                notices.push(format!(
                    "{e}. Your profiles file is left untouched; changes are not saved."
                ));
                ProfilesFile::default()
            }
        };
        let mut profiles = ProfilesPanel {
            file,
            ..ProfilesPanel::default()
        };
        if profiles.file.profiles.is_empty() {
            profiles.file.profiles.push(Profile {
                name: "Local broker".into(),
                ..Profile::default()
            });
        }
        profiles.selected = persisted
            .last_profile
            .as_ref()
            .and_then(|n| profiles.file.profiles.iter().position(|p| &p.name == n))
            .or(Some(0));
        let saver = spawn_saver(config.profiles_path.clone(), bg_tx.clone(), ctx.clone());
        if config.load_system_fonts {
            let tx = bg_tx.clone();
            let waker = ctx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Background::Fonts(fonts::find_cjk_font()));
                waker.request_repaint();
            });
        }
        Self {
            persisted,
            engine,
            profiles,
            read_only,
            tabs: Vec::new(),
            active: 0,
            next_id: 1,
            next_token: 1,
            notices,
            save_due: None,
            saver,
            bg_tx,
            bg_rx,
            ctx,
        }
    }

    /// The open connections.
    pub fn tabs(&self) -> &[ConnectionTab] {
        &self.tabs
    }

    /// The active connection.
    pub fn active_tab(&self) -> Option<&ConnectionTab> {
        self.tabs.get(self.active)
    }

    /// The active connection, mutable (for tests, benchmarks and tools).
    pub fn active_tab_mut(&mut self) -> Option<&mut ConnectionTab> {
        self.tabs.get_mut(self.active)
    }

    /// Opens a tab over messages that did not come from a live connection (a recording, a
    /// benchmark) and makes it active. The messages are applied like live ones, within the
    /// per-frame budget.
    pub fn open_offline(&mut self, name: &str, messages: Vec<crate::model::message::Message>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut tab = ConnectionTab::new(
            id,
            Profile {
                name: name.to_owned(),
                ..Profile::default()
            },
        );
        tab.state = ConnectionState::Disconnected;
        tab.pending.push_back(messages);
        self.tabs.push(tab);
        self.active = self.tabs.len() - 1;
    }

    /// The profiles panel (for tests and tools).
    pub fn profiles(&self) -> &ProfilesPanel {
        &self.profiles
    }

    /// Notices currently shown.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    fn spawn_bg(&self, work: impl FnOnce() -> Background + Send + 'static) {
        let tx = self.bg_tx.clone();
        let waker = self.ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work());
            waker.request_repaint();
        });
    }

    fn drain_engine(&mut self) {
        while let Some(event) = self.engine.try_recv() {
            match event {
                Event::Messages { id, messages } => {
                    if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                        tab.pending.push_back(messages);
                    }
                }
                Event::State { id, state } => {
                    if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                        if let ConnectionState::Failed { reason } = &state {
                            self.notices.push(format!("{}: {reason}", tab.profile.name));
                        }
                        tab.state = state;
                        tab.state_since = Instant::now();
                    }
                }
                Event::Published { token, outcome, .. } => {
                    if let PublishOutcome::Failed(why) = &outcome
                        && self.persisted.publish.recent.iter().all(|r| r.token != token)
                    {
                        self.notices.push(why.clone());
                    }
                    self.persisted.publish.outcome(token, outcome);
                }
                Event::Subscribed { .. } | Event::Unsubscribed { .. } => {}
                Event::Error { id, message } => {
                    let name = self
                        .tabs
                        .iter()
                        .find(|t| t.id == id)
                        .map(|t| t.profile.name.clone());
                    self.notices.push(match name {
                        Some(n) => format!("{n}: {message}"),
                        None => message,
                    });
                }
            }
        }
        let deadline = Instant::now() + APPLY_BUDGET;
        let mut more = false;
        let active = self.active;
        if let Some(tab) = self.tabs.get_mut(active) {
            more |= tab.apply_pending(deadline);
        }
        for (i, tab) in self.tabs.iter_mut().enumerate() {
            if i != active {
                more |= tab.apply_pending(deadline);
            }
        }
        if more {
            self.ctx.request_repaint();
        }
    }

    fn drain_background(&mut self) {
        while let Ok(result) = self.bg_rx.try_recv() {
            match result {
                Background::FilePicked { index, target, path } => self.profiles.set_file(index, target, path),
                Background::FileChecked { path, check } => {
                    self.profiles.checks.insert(path, check);
                }
                Background::Fonts(found) => {
                    if let Some(font) = found {
                        fonts::install(&self.ctx, font);
                    }
                }
                Background::Saved(Err(e)) => self.notices.push(format!("Profiles not saved: {e}")),
                Background::Saved(Ok(())) => {}
                Background::PayloadSaved(Ok(path)) => {
                    self.notices.push(format!("Payload saved to {}", path.display()));
                }
                Background::PayloadSaved(Err(e)) => self.notices.push(format!("Payload not saved: {e}")),
            }
        }
    }

    fn schedule_save(&mut self) {
        if self.profiles.dirty {
            self.profiles.dirty = false;
            if self.read_only {
                return;
            }
            self.save_due = Some(Instant::now() + SAVE_DELAY);
        }
        if let Some(due) = self.save_due {
            let now = Instant::now();
            if now >= due {
                self.save_due = None;
                let _ = self.saver.send(self.profiles.file.clone());
            } else {
                self.ctx.request_repaint_after(due - now);
            }
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Connect(profile) => self.connect(*profile),
            Action::Disconnect(i) => {
                if let Some(tab) = self.tabs.get(i) {
                    self.engine.send(Command::Disconnect { id: tab.id });
                }
            }
            Action::CloseTab(i) => {
                if i < self.tabs.len() {
                    let tab = self.tabs.remove(i);
                    self.engine.send(Command::Disconnect { id: tab.id });
                    self.active = self.active.min(self.tabs.len().saturating_sub(1));
                }
            }
            Action::Publish(message) => {
                if let Some(tab) = self.tabs.get(self.active) {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.persisted.publish.sent(token, message.clone());
                    self.engine.send(Command::Publish {
                        id: tab.id,
                        token,
                        message: Box::new(message),
                    });
                }
            }
            Action::ClearRetained(topic) => {
                if let Some(tab) = self.tabs.get(self.active) {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.engine.send(Command::ClearRetained {
                        id: tab.id,
                        token,
                        topic,
                    });
                }
            }
            Action::UseTopic(topic) => {
                self.persisted.publish.topic = topic;
                self.persisted.show_publish = true;
            }
            Action::Browse { index, target } => {
                let title = match target {
                    FileTarget::Ca => "Choose the CA certificate",
                    FileTarget::ClientCert => "Choose the client certificate",
                    FileTarget::ClientKey => "Choose the client private key",
                };
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let picked = rfd::FileDialog::new()
                        .set_title(title)
                        .add_filter("PEM files", &["pem", "crt", "cer", "key"])
                        .add_filter("All files", &["*"])
                        .pick_file();
                    if let Some(path) = picked {
                        let _ = tx.send(Background::FilePicked { index, target, path });
                        waker.request_repaint();
                    }
                });
            }
            Action::CheckFile { path, target } => self.spawn_bg(move || {
                use crate::engine::tls;
                let result = match target {
                    FileTarget::Ca => tls::load_certificates("CA", &path).map(|_| ()),
                    FileTarget::ClientCert => tls::load_certificates("client certificate", &path).map(|_| ()),
                    FileTarget::ClientKey => tls::load_private_key(&path).map(|_| ()),
                };
                let check = match result {
                    Ok(()) => FileCheck::Ok,
                    Err(e) => FileCheck::Problem(e.to_string()),
                };
                Background::FileChecked { path, check }
            }),
            Action::SavePayload {
                suggested_name,
                payload,
            } => {
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let Some(path) = rfd::FileDialog::new()
                        .set_file_name(format!("{suggested_name}.bin"))
                        .save_file()
                    else {
                        return;
                    };
                    let result = std::fs::write(&path, &payload)
                        .map(|()| path)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Background::PayloadSaved(result));
                    waker.request_repaint();
                });
            }
            Action::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
        }
    }

    fn connect(&mut self, profile: Profile) {
        self.persisted.last_profile = Some(profile.name.clone());
        let index = match self.tabs.iter().position(|t| t.profile.name == profile.name) {
            Some(i) => i,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let mut tab = ConnectionTab::new(id, profile.clone());
                tab.view.hide_sys = self.persisted.hide_sys;
                self.tabs.push(tab);
                self.tabs.len() - 1
            }
        };
        let tab = &mut self.tabs[index];
        tab.profile = profile.clone();
        tab.state = ConnectionState::Connecting;
        tab.state_since = Instant::now();
        self.active = index;
        self.engine.send(Command::Connect {
            id: tab.id,
            profile: Box::new(profile),
        });
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
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
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                egui::widgets::global_theme_preference_buttons(ui);
                ui.label(
                    RichText::new(format!("zoom {:.0}% (Ctrl +/−)", ui.ctx().zoom_factor() * 100.0)).weak(),
                );
            });
        });
    }

    fn notices_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        for (i, notice) in self.notices.iter().enumerate().rev().take(3) {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("⚠ {notice}")).color(ui.visuals().warn_fg_color));
                if ui.small_button("✖").on_hover_text("Dismiss").clicked() {
                    actions.push(Action::DismissNotice(i));
                }
            });
        }
    }

    fn tabs_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            for (i, tab) in self.tabs.iter().enumerate() {
                let (state, color) = super::status_bar::describe(tab, ui);
                super::status_bar::dot(ui, color);
                if ui
                    .selectable_label(i == self.active, tab.profile.name.as_str())
                    .on_hover_text(state)
                    .clicked()
                {
                    self.active = i;
                }
                if tab.open() {
                    if ui.small_button("⏏").on_hover_text("Disconnect").clicked() {
                        actions.push(Action::Disconnect(i));
                    }
                } else if ui.small_button("✖").on_hover_text("Close").clicked() {
                    actions.push(Action::CloseTab(i));
                }
                ui.separator();
            }
        });
    }
}

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

fn spawn_saver(path: PathBuf, tx: Sender<Background>, waker: egui::Context) -> Sender<ProfilesFile> {
    let (save_tx, save_rx) = channel::<ProfilesFile>();
    std::thread::spawn(move || {
        while let Ok(mut file) = save_rx.recv() {
            // Only the newest of several queued saves matters.
            while let Ok(newer) = save_rx.try_recv() {
                file = newer;
            }
            let result = store::save(&path, &file).map_err(|e| e.to_string());
            if result.is_err() {
                let _ = tx.send(Background::Saved(result));
                waker.request_repaint();
            }
        }
    });
    save_tx
}

impl eframe::App for CanopyApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_engine();
        self.drain_background();
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        let mut actions = Vec::new();
        Panel::top("top-bar").show(ui, |ui| {
            self.top_bar_ui(ui);
            if !self.notices.is_empty() {
                ui.separator();
                self.notices_ui(ui, &mut actions);
            }
        });
        let active = self.active;
        Panel::bottom("status-bar").show(ui, |ui| {
            status_bar_ui(ui, self.tabs.get_mut(active));
        });
        if self.persisted.show_publish {
            let (connected, v5) = self
                .tabs
                .get(active)
                .map(|t| (t.connected(), t.profile.version == MqttVersion::V5))
                .unwrap_or((false, true));
            Panel::bottom("publish")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| {
                    ui.add_space(4.0);
                    publish_ui(ui, &mut self.persisted.publish, connected, v5, &mut actions);
                });
        }
        Panel::left("profiles")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                ui.allocate_space(egui::vec2(ui.available_width(), 0.0));
                let open_tabs: Vec<(String, usize)> = self
                    .tabs
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.open())
                    .map(|(i, t)| (t.profile.name.clone(), i))
                    .collect();
                profiles_ui(ui, &mut self.profiles, self.read_only, &open_tabs, &mut actions);
            });
        let view = &mut self.persisted.payload_view;
        if let Some(tab) = self.tabs.get_mut(active) {
            Panel::right("message")
                .resizable(true)
                .default_size(480.0)
                .min_size(320.0)
                .show(ui, |ui| {
                    // Keep the panel's width when its content is narrow (egui shrinks to it).
                    ui.allocate_space(egui::vec2(ui.available_width(), 0.0));
                    message::message_ui(ui, tab, view, &mut actions);
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.tabs_ui(ui, &mut actions);
            ui.separator();
            match self.tabs.get_mut(active) {
                Some(tab) => {
                    let before = tab.view.selected;
                    tree::tree_ui(ui, tab);
                    prefill_publish_topic(&mut self.persisted.publish, tab, before);
                    self.persisted.hide_sys = tab.view.hide_sys;
                }
                None => {
                    ui.add_space(40.0);
                    ui.vertical_centered(|ui| {
                        ui.label(RichText::new("No open connection").heading());
                        ui.label("Pick a saved connection on the left (or create one) and press Connect.");
                    });
                }
            }
        });
        for action in actions {
            self.apply(action);
        }
        self.schedule_save();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.persisted.last_profile = self.profiles.current().map(|p| p.name.clone());
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Flush a pending save synchronously-ish: the saver thread writes it.
        if self.save_due.take().is_some() {
            let _ = self.saver.send(self.profiles.file.clone());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
