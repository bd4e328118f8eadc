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
use super::subscriptions::{SubscriptionAction, subscriptions_ui};
use super::tab::{ConnectionTab, SubState, SubStatus};
use super::{fonts, message, tree};
use crate::engine::{Command, ConnectionState, Engine, Event, PublishOutcome};
use crate::model::message::OutgoingMessage;
use crate::model::payload::View;
use crate::model::topic_tree::{Limits, NodeId, TopicTree};
use crate::profiles::Profile;
use crate::profiles::profile::PasswordStorage;
use crate::profiles::saver::{Saver, SaverEvent};
use crate::profiles::secrets;
use crate::profiles::store::{self, ProfilesFile, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};

/// Time per frame spent applying incoming messages before drawing.
const APPLY_BUDGET: Duration = Duration::from_millis(4);
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
    /// Ask to delete every retained message at or below a node of the active connection.
    ClearRetainedBelow(NodeId),
    /// Record everything the active connection receives (to `path`, or a file the user picks).
    StartRecording(Option<PathBuf>),
    /// Stop recording on the active connection.
    StopRecording,
    /// Replay a recording (from `path`, or a file the user picks) to the active connection.
    StartReplay {
        /// The recording; `None` asks.
        path: Option<PathBuf>,
        /// How fast.
        speed: crate::model::recording::Speed,
    },
    /// Stop the replay under way.
    StopReplay,
    /// Chart a number from a topic's payloads (path into its JSON; empty: the payload).
    Plot {
        /// The topic.
        topic: String,
        /// Keys and indices into the JSON payload.
        path: Vec<String>,
    },
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
    /// Ask where to save a file (a payload, chart series...), then save it off the UI thread.
    SaveFile {
        /// What it is, for the notice ("Payload", "Series").
        what: &'static str,
        /// File name offered.
        suggested_name: String,
        /// The bytes.
        bytes: Bytes,
    },
    /// Export messages of the active connection to a file the user picks.
    ExportMessages {
        /// The node.
        node: NodeId,
        /// The latest values of its whole subtree (else its history).
        subtree: bool,
        /// The file format.
        format: crate::model::export::Format,
        /// File name offered.
        suggested_name: String,
    },
    /// Dismiss the notice at this index.
    DismissNotice(usize),
    /// Pick a file and import profiles from it.
    Import,
    /// Show the export options.
    Export,
}

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The profiles file.
    pub profiles_path: PathBuf,
    /// Look for a system CJK font in the background.
    pub load_system_fonts: bool,
    /// Keep passwords in the OS credential store.
    pub use_keyring: bool,
}

impl AppConfig {
    /// The platform's locations (`$XDG_CONFIG_HOME/canopy/profiles.toml` on Linux).
    pub fn from_platform() -> Result<Self, StoreError> {
        Ok(Self {
            profiles_path: store::default_path()?,
            load_system_fonts: true,
            use_keyring: true,
        })
    }
}

/// UI state remembered between runs (through eframe's storage).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Persisted {
    last_profile: Option<String>,
    show_publish: bool,
    publish: PublishState,
    hide_sys: bool,
    limits: Limits,
    /// Payload view chosen per topic (Auto when absent).
    topic_views: std::collections::BTreeMap<String, View>,
    show_charts: bool,
    show_broker: bool,
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
    Saver(SaverEvent),
    /// A file was saved (what, where) or not (why).
    Saved(&'static str, Result<PathBuf, String>),
    /// Passwords read from the credential store at start-up (profile id, password).
    Secrets(Result<Vec<(String, String)>, String>),
    /// The sandbox broker is up: connect this (resolved) profile.
    SandboxReady(Box<Result<Profile, String>>),
    Imported(Result<crate::profiles::import::ImportReport, String>),
    Exported(Result<PathBuf, String>),
    /// Start recording this tab's messages to this file.
    RecordTo {
        tab: u64,
        path: PathBuf,
    },
    /// A recording ended.
    Recorded(PathBuf, Result<u64, String>),
    /// A replay advanced or ended.
    Replay(crate::replay::ReplayProgress),
    /// The demo traffic generator stopped on an error.
    Demo(String),
}

/// A modal the window is showing.
enum Dialog {
    /// Asking the password of a profile that does not save it.
    Password { profile: Box<Profile>, password: String },
    /// Imported profiles waiting for the user's decision on name conflicts.
    Import(crate::profiles::import::ImportReport),
    /// Export options.
    Export { all: bool, include_secrets: bool },
    /// The profiles file is damaged: restore the backup or start afresh.
    Damaged { backup: Option<ProfilesFile> },
    /// Confirming the deletion of retained messages.
    ClearRetained {
        tab: u64,
        root: String,
        topics: Vec<String>,
    },
}

/// A replay under way.
struct ReplayJob {
    control: Arc<crate::replay::ReplayControl>,
    progress: crate::replay::ReplayProgress,
    failed: u64,
}

/// Retained messages being deleted (their outcomes arrive as publish outcomes).
struct ClearJob {
    root: String,
    topics: Vec<String>,
    first_token: u64,
    done: usize,
    failed: Vec<String>,
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
    saver: Saver,
    config: AppConfig,
    dialog: Option<Dialog>,
    clear_job: Option<ClearJob>,
    replay: Option<ReplayJob>,
    /// Stop flags of running demo-traffic generators, by connection id.
    demos: Vec<(u64, Arc<AtomicBool>)>,
    bg_tx: Sender<Background>,
    bg_rx: Receiver<Background>,
    ctx: egui::Context,
}

impl CanopyApp {
    /// Creates the app: starts the engine, reads the profiles file (once, before the first
    /// frame) and starts background helpers.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> Self {
        // PNG / JPEG payload previews.
        egui_extras::install_image_loaders(&cc.egui_ctx);
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
        let opened = store::open(&config.profiles_path);
        let read_only = opened.problem.is_some();
        let mut dialog = None;
        if let Some(problem) = &opened.problem {
            notices.push(problem.to_string());
            if let store::OpenProblem::Corrupt { backup, .. } = problem {
                dialog = Some(Dialog::Damaged {
                    backup: backup.clone(),
                });
            }
        }
        let on_disk = if opened.first_run {
            ProfilesFile::default()
        } else {
            opened.file.clone()
        };
        let mut profiles = ProfilesPanel {
            file: opened.file,
            dirty: opened.first_run,
            ..ProfilesPanel::default()
        };
        profiles.selected = persisted
            .last_profile
            .as_ref()
            .and_then(|n| profiles.file.profiles.iter().position(|p| &p.name == n))
            .or(Some(0));
        let saver = {
            let tx = bg_tx.clone();
            let waker = ctx.clone();
            Saver::start(
                config.profiles_path.clone(),
                on_disk,
                config.use_keyring,
                move |e| {
                    let _ = tx.send(Background::Saver(e));
                    waker.request_repaint();
                },
            )
        };
        if config.use_keyring {
            let wanted: Vec<String> = profiles
                .file
                .profiles
                .iter()
                .filter(|p| p.password_storage == PasswordStorage::Keyring && p.username.is_some())
                .map(|p| p.id.clone())
                .collect();
            if !wanted.is_empty() {
                let tx = bg_tx.clone();
                let waker = ctx.clone();
                std::thread::spawn(move || {
                    let mut found = Vec::new();
                    let mut result = Ok(());
                    for id in wanted {
                        match secrets::load(&id) {
                            Ok(Some(pw)) => found.push((id, pw)),
                            Ok(None) => {}
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    let _ = tx.send(Background::Secrets(result.map(|()| found)));
                    waker.request_repaint();
                });
            }
        }
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
            config,
            dialog,
            clear_job: None,
            replay: None,
            demos: Vec::new(),
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
        tab.tree = TopicTree::with_limits(self.persisted.limits);
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
                        if let Some(recorder) = &tab.recorder {
                            recorder.record(&messages);
                        }
                        if !tab.requests.list.is_empty() {
                            for m in &messages {
                                tab.requests.offer(m);
                            }
                        }
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
                    if token >= crate::replay::REPLAY_TOKENS {
                        if let Some(job) = &mut self.replay {
                            job.control.outcomes.fetch_add(1, Ordering::Relaxed);
                            job.failed += u64::from(matches!(outcome, PublishOutcome::Failed(_)));
                        }
                        continue;
                    }
                    if let Some(job) = &mut self.clear_job
                        && (job.first_token..job.first_token + job.topics.len() as u64).contains(&token)
                    {
                        job.done += 1;
                        if let PublishOutcome::Failed(why) = outcome {
                            let topic = &job.topics[(token - job.first_token) as usize];
                            job.failed.push(format!("{topic}: {why}"));
                        }
                        if job.done == job.topics.len() {
                            let n = job.topics.len() - job.failed.len();
                            self.notices.push(if job.failed.is_empty() {
                                format!("Cleared {n} retained messages at or below {}.", job.root)
                            } else {
                                format!(
                                    "Cleared {n} of {} retained messages at or below {}; failed: {}",
                                    job.topics.len(),
                                    job.root,
                                    job.failed.join("; ")
                                )
                            });
                            self.clear_job = None;
                        }
                        continue;
                    }
                    if let PublishOutcome::Failed(why) = &outcome
                        && self.persisted.publish.recent.iter().all(|r| r.token != token)
                    {
                        self.notices.push(why.clone());
                    }
                    self.persisted.publish.outcome(token, outcome);
                }
                Event::Subscribed { id, results } => {
                    if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                        tab.subscribed(&results);
                    }
                }
                Event::Unsubscribed { id, filters } => {
                    if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                        tab.subscriptions.retain(|s| !filters.contains(&s.sub.filter));
                    }
                }
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
                Background::Saver(SaverEvent::Failed(e)) => self.notices.push(format!("Profiles not saved: {e}")),
                Background::Saver(SaverEvent::SecretsUnavailable(e)) => self.notices.push(format!(
                    "Passwords cannot be saved: {e}. They are kept for this session only; choose \"ask on connect\" or \"save in the profiles file\" under Authentication."
                )),
                Background::Saver(SaverEvent::Merged { file, note }) => {
                    let selected_id = self.profiles.current().map(|p| p.id.clone());
                    self.profiles.file = file;
                    self.profiles.selected = selected_id
                        .and_then(|id| self.profiles.file.profiles.iter().position(|p| p.id == id))
                        .or(Some(0));
                    self.notices.push(note);
                }
                Background::Secrets(Ok(found)) => {
                    for (id, pw) in found {
                        if let Some(p) = self.profiles.file.profiles.iter_mut().find(|p| p.id == id)
                            && p.password.is_none()
                        {
                            p.password = Some(pw);
                        }
                    }
                }
                Background::Secrets(Err(e)) => self.notices.push(format!(
                    "Saved passwords cannot be read: {e}. You will be asked for them when connecting."
                )),
                Background::SandboxReady(result) => match *result {
                    Ok(profile) => self.open_connection(profile),
                    Err(e) => self.notices.push(format!("The sandbox broker could not start: {e}")),
                },
                Background::Imported(Ok(report)) => self.dialog = Some(Dialog::Import(report)),
                Background::Imported(Err(e)) => self.notices.push(format!("Nothing imported: {e}")),
                Background::RecordTo { tab, path } => {
                    if let Some(t) = self.tabs.iter_mut().find(|t| t.id == tab) {
                        let tx = self.bg_tx.clone();
                        let waker = self.ctx.clone();
                        let file = path.clone();
                        t.recorder = Some(crate::replay::Recorder::start(path, move |result| {
                            let _ = tx.send(Background::Recorded(file, result));
                            waker.request_repaint();
                        }));
                    }
                }
                Background::Demo(e) => self.notices.push(format!("Demo traffic stopped: {e}")),
                Background::Recorded(path, Ok(n)) => {
                    self.notices.push(format!("Recorded {n} messages to {}", path.display()));
                }
                Background::Recorded(path, Err(e)) => {
                    self.notices.push(format!("Recording to {} failed: {e}", path.display()));
                }
                Background::Replay(progress) => {
                    if let Some(job) = &mut self.replay {
                        job.progress = progress.clone();
                    }
                    if progress.finished {
                        let failed = self.replay.as_ref().map_or(0, |j| j.failed);
                        self.replay = None;
                        let skipped = if progress.skipped > 0 {
                            format!(", {} unreadable lines skipped", progress.skipped)
                        } else {
                            String::new()
                        };
                        let failed = if failed > 0 {
                            format!(", {failed} not delivered")
                        } else {
                            String::new()
                        };
                        match progress.error {
                            Some(e) => self.notices.push(format!(
                                "Replay ended after {} messages: {e}{skipped}{failed}",
                                progress.sent
                            )),
                            None if progress.sent > 0 || progress.skipped > 0 => self
                                .notices
                                .push(format!("Replayed {} messages{skipped}{failed}", progress.sent)),
                            None => {}
                        }
                    }
                }
                Background::Exported(Ok(path)) => self.notices.push(format!("Profiles exported to {}", path.display())),
                Background::Exported(Err(e)) => self.notices.push(format!("Profiles not exported: {e}")),
                Background::Saved(what, Ok(path)) => {
                    self.notices.push(format!("{what} saved to {}", path.display()));
                }
                Background::Saved(what, Err(e)) => self.notices.push(format!("{what} not saved: {e}")),
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
                self.saver.save(self.profiles.file.clone());
            } else {
                self.ctx.request_repaint_after(due - now);
            }
        }
    }

    /// Carries out an action as if a panel had asked for it (for tests and tools).
    pub fn act(&mut self, action: Action) {
        self.apply(action);
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Connect(profile) => self.connect(*profile),
            Action::Disconnect(i) => {
                if let Some(id) = self.tabs.get(i).map(|t| t.id) {
                    self.stop_demo(id);
                    self.engine.send(Command::Disconnect { id });
                }
            }
            Action::CloseTab(i) => {
                if i < self.tabs.len() {
                    let tab = self.tabs.remove(i);
                    self.stop_demo(tab.id);
                    self.engine.send(Command::Disconnect { id: tab.id });
                    self.active = self.active.min(self.tabs.len().saturating_sub(1));
                }
            }
            Action::Publish(message) => {
                let Some(tab) = self.tabs.get_mut(self.active) else {
                    return;
                };
                let id = tab.id;
                // Request/response: listen on the response topic before the request goes out.
                if let Some(sub) = tab.track_request(&message) {
                    self.subscription_action(id, SubscriptionAction::Add(sub, None));
                }
                let token = self.next_token;
                self.next_token += 1;
                self.persisted.publish.sent(token, message.clone());
                self.engine.send(Command::Publish {
                    id,
                    token,
                    message: Box::new(message),
                });
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
            Action::ClearRetainedBelow(node) => {
                if self.clear_job.is_some() {
                    self.notices
                        .push("Wait until the retained messages being deleted are done.".into());
                } else if let Some(tab) = self.tabs.get_mut(self.active) {
                    let topics = tab
                        .tree
                        .retained_below(node)
                        .into_iter()
                        .map(|n| tab.tree.full_topic(n))
                        .collect();
                    self.dialog = Some(Dialog::ClearRetained {
                        tab: tab.id,
                        root: tab.tree.full_topic(node),
                        topics,
                    });
                }
            }
            Action::StartRecording(path) => {
                let Some(tab) = self.tabs.get(self.active) else {
                    return;
                };
                let tab = tab.id;
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let path = path.or_else(|| {
                        rfd::FileDialog::new()
                            .set_title("Record to")
                            .set_file_name("canopy-recording.jsonl")
                            .save_file()
                    });
                    if let Some(path) = path {
                        let _ = tx.send(Background::RecordTo { tab, path });
                        waker.request_repaint();
                    }
                });
            }
            Action::StopRecording => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    // Dropping the recorder lets its thread finish the file and report.
                    tab.recorder = None;
                }
            }
            Action::StartReplay { path, speed } => {
                let Some(tab) = self.tabs.get(self.active) else {
                    return;
                };
                if self.replay.is_some() {
                    self.notices.push("A replay is already running.".into());
                    return;
                }
                let id = tab.id;
                let control = Arc::new(crate::replay::ReplayControl::default());
                self.replay = Some(ReplayJob {
                    control: control.clone(),
                    progress: Default::default(),
                    failed: 0,
                });
                let engine = self.engine.sender();
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let report = |p: &crate::replay::ReplayProgress| {
                        let _ = tx.send(Background::Replay(p.clone()));
                        waker.request_repaint();
                    };
                    let path = path.or_else(|| {
                        rfd::FileDialog::new()
                            .set_title("Replay a recording")
                            .add_filter("Recordings", &["jsonl", "json", "txt"])
                            .pick_file()
                    });
                    match path {
                        Some(path) => {
                            let options = crate::replay::ReplayOptions::at(speed);
                            crate::replay::replay(&path, &options, id, &engine, &control, report);
                        }
                        None => report(&crate::replay::ReplayProgress {
                            finished: true,
                            ..Default::default()
                        }),
                    }
                });
            }
            Action::StopReplay => {
                if let Some(job) = &self.replay {
                    job.control.stop.store(true, Ordering::Relaxed);
                }
            }
            Action::Plot { topic, path } => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    tab.charts.add(&topic, path, &tab.tree);
                    self.persisted.show_charts = true;
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
            Action::SaveFile {
                what,
                suggested_name,
                bytes,
            } => self.save_file(what, suggested_name, move || Ok(bytes.to_vec())),
            Action::ExportMessages {
                node,
                subtree,
                format,
                suggested_name,
            } => {
                if let Some(tab) = self.tabs.get_mut(self.active) {
                    let entries = if subtree {
                        crate::model::export::latest_below(&mut tab.tree, node)
                    } else {
                        crate::model::export::history(&tab.tree, node)
                    };
                    let what = if subtree { "Latest values" } else { "History" };
                    self.save_file(what, suggested_name, move || {
                        Ok(crate::model::export::write(&entries, format).into_bytes())
                    });
                }
            }
            Action::Import => {
                let cert_dir = self.config.profiles_path.with_file_name("certificates");
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let Some(path) = rfd::FileDialog::new()
                        .set_title("Import profiles (Canopy, MQTT Explorer settings.json, MQTTX export)")
                        .add_filter("Profiles", &["toml", "json"])
                        .pick_file()
                    else {
                        return;
                    };
                    let _ = tx.send(Background::Imported(crate::profiles::import::import_file(
                        &path, &cert_dir,
                    )));
                    waker.request_repaint();
                });
            }
            Action::Export => {
                self.dialog = Some(Dialog::Export {
                    all: true,
                    include_secrets: false,
                });
            }
            Action::DismissNotice(i) => {
                if i < self.notices.len() {
                    self.notices.remove(i);
                }
            }
        }
    }

    /// Connects a profile: starts the sandbox first when it is one, asks for a password the
    /// profile does not save.
    fn connect(&mut self, profile: Profile) {
        if self.dialog.is_some() {
            return;
        }
        self.persisted.last_profile = Some(profile.name.clone());
        if profile.password_storage == PasswordStorage::Ask
            && profile.username.as_ref().is_some_and(|u| !u.is_empty())
            && profile.password.is_none()
        {
            self.dialog = Some(Dialog::Password {
                profile: Box::new(profile),
                password: String::new(),
            });
            return;
        }
        if profile.sandbox.is_some() {
            self.spawn_bg(move || Background::SandboxReady(Box::new(crate::sandbox::resolve(profile))));
            return;
        }
        self.open_connection(profile);
    }

    fn stop_demo(&mut self, id: u64) {
        self.demos.retain(|(d, stop)| {
            if *d == id {
                stop.store(true, Ordering::Relaxed);
            }
            *d != id
        });
    }

    /// Opens (or re-opens) the tab of a profile whose connection settings are final.
    fn open_connection(&mut self, profile: Profile) {
        let index = match self.tabs.iter().position(|t| t.profile.name == profile.name) {
            Some(i) => i,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let mut tab = ConnectionTab::new(id, profile.clone());
                tab.view.hide_sys = self.persisted.hide_sys;
                tab.tree = TopicTree::with_limits(self.persisted.limits);
                self.tabs.push(tab);
                self.tabs.len() - 1
            }
        };
        let tab = &mut self.tabs[index];
        tab.profile = profile.clone();
        tab.reset_subscriptions();
        tab.state = ConnectionState::Connecting;
        tab.state_since = Instant::now();
        self.active = index;
        let id = tab.id;
        self.engine.send(Command::Connect {
            id,
            profile: Box::new(profile.clone()),
        });
        self.stop_demo(id);
        if let Some(sandbox) = profile.sandbox.filter(|s| s.demo_traffic) {
            let stop = Arc::new(AtomicBool::new(false));
            self.demos.push((id, stop.clone()));
            let tx = self.bg_tx.clone();
            std::thread::spawn(move || {
                crate::demo::run(profile, sandbox.rate, None, stop, |e| {
                    let _ = tx.send(Background::Demo(e));
                });
            });
        }
    }

    fn dialog_ui(&mut self, ctx: &egui::Context) {
        use super::dialogs::{self, DialogOutcome};
        let Some(dialog) = &mut self.dialog else { return };
        let outcome = match dialog {
            Dialog::Password { profile, password } => {
                let user = profile.username.clone().unwrap_or_default();
                dialogs::password_ui(ctx, &profile.name, &user, password)
            }
            Dialog::Import(report) => {
                let names: Vec<String> = self
                    .profiles
                    .file
                    .profiles
                    .iter()
                    .map(|p| p.name.clone())
                    .collect();
                dialogs::import_ui(ctx, report, &names)
            }
            Dialog::Export { all, include_secrets } => dialogs::export_ui(ctx, all, include_secrets),
            Dialog::Damaged { backup } => dialogs::damaged_ui(ctx, backup.as_ref()),
            Dialog::ClearRetained { root, topics, .. } => dialogs::clear_retained_ui(ctx, root, topics),
        };
        if matches!(outcome, DialogOutcome::Open) {
            return;
        }
        let Some(dialog) = self.dialog.take() else { return };
        match (dialog, outcome) {
            (Dialog::Password { profile, .. }, DialogOutcome::Password(pw)) => {
                let mut p = *profile;
                p.password = Some(pw);
                // Not saved: only this connection gets it.
                p.password_storage = PasswordStorage::File;
                let mut p2 = p.clone();
                p2.password_storage = PasswordStorage::Ask;
                if p.sandbox.is_some() {
                    self.connect(p2);
                } else {
                    self.open_connection(p2);
                }
            }
            (Dialog::Import(report), o @ (DialogOutcome::ImportRename | DialogOutcome::ImportReplace)) => {
                use crate::profiles::import::{OnConflict, merge_imported};
                let mode = if matches!(o, DialogOutcome::ImportReplace) {
                    OnConflict::Replace
                } else {
                    OnConflict::Rename
                };
                let n = report.profiles.len();
                let lines = merge_imported(&mut self.profiles.file.profiles, report.profiles, mode);
                self.profiles.dirty = true;
                let mut note = format!("Imported {n} profiles from {}", report.source);
                if !lines.is_empty() {
                    note.push_str(&format!(": {}", lines.join("; ")));
                }
                self.notices.push(note);
            }
            (Dialog::Export { .. }, DialogOutcome::Export { all, include_secrets }) => {
                let profiles: Vec<Profile> = if all {
                    self.profiles.file.profiles.clone()
                } else {
                    self.profiles.current().cloned().into_iter().collect()
                };
                let tx = self.bg_tx.clone();
                let waker = self.ctx.clone();
                std::thread::spawn(move || {
                    let Some(path) = rfd::FileDialog::new()
                        .set_file_name("canopy-profiles.toml")
                        .save_file()
                    else {
                        return;
                    };
                    let result = crate::profiles::import::export(&profiles, include_secrets)
                        .and_then(|text| std::fs::write(&path, text).map_err(|e| e.to_string()))
                        .map(|()| path);
                    let _ = tx.send(Background::Exported(result));
                    waker.request_repaint();
                });
            }
            (Dialog::Damaged { backup: Some(backup) }, DialogOutcome::RestoreBackup) => {
                self.profiles.file = backup;
                self.profiles.selected = Some(0);
                self.read_only = false;
                self.profiles.dirty = true;
                self.notices.push("The backup was restored.".into());
            }
            (Dialog::Damaged { .. }, DialogOutcome::StartAfresh) => {
                self.read_only = false;
                self.profiles.dirty = true;
            }
            (Dialog::ClearRetained { tab, root, topics }, DialogOutcome::Confirm) => {
                let first_token = self.next_token;
                for topic in &topics {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.engine.send(Command::ClearRetained {
                        id: tab,
                        token,
                        topic: topic.clone(),
                    });
                }
                self.clear_job = Some(ClearJob {
                    root,
                    topics,
                    first_token,
                    done: 0,
                    failed: Vec::new(),
                });
            }
            _ => {}
        }
    }

    /// Asks where to save, then makes the bytes and writes them, all on a thread.
    fn save_file(
        &self,
        what: &'static str,
        suggested_name: String,
        make: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
    ) {
        let tx = self.bg_tx.clone();
        let waker = self.ctx.clone();
        std::thread::spawn(move || {
            let Some(path) = rfd::FileDialog::new().set_file_name(suggested_name).save_file() else {
                return;
            };
            let result = make()
                .and_then(|bytes| {
                    std::fs::write(&path, bytes).map_err(|e| crate::engine::errors::io_words(&e))
                })
                .map(|()| path);
            let _ = tx.send(Background::Saved(what, result));
            waker.request_repaint();
        });
    }

    fn subscription_action(&mut self, id: u64, action: SubscriptionAction) {
        let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) else {
            return;
        };
        match action {
            SubscriptionAction::Add(sub, identifier) => {
                tab.subscriptions.retain(|s| s.sub.filter != sub.filter);
                tab.subscriptions.push(SubState {
                    sub: sub.clone(),
                    identifier,
                    status: SubStatus::Pending,
                });
                self.engine.send(Command::Subscribe {
                    id,
                    subscriptions: vec![sub],
                    subscription_id: identifier,
                });
            }
            SubscriptionAction::Remove(filter) => {
                self.engine.send(Command::Unsubscribe {
                    id,
                    filters: vec![filter],
                });
            }
        }
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
            let charted = self.tabs.get(self.active).map_or(0, |t| t.charts.series.len());
            if ui
                .selectable_label(self.persisted.show_charts, format!("📈 Charts ({charted})"))
                .on_hover_text("Numbers from payloads over time")
                .clicked()
            {
                self.persisted.show_charts = !self.persisted.show_charts;
            }
            if ui
                .selectable_label(self.persisted.show_broker, "📊 Broker")
                .on_hover_text("Clients, message rates, uptime and version from $SYS")
                .clicked()
            {
                self.persisted.show_broker = !self.persisted.show_broker;
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                egui::widgets::global_theme_preference_buttons(ui);
                ui.menu_button("⚙ Settings", |ui| {
                    if settings_ui(ui, &mut self.persisted.limits) {
                        for tab in &mut self.tabs {
                            tab.tree.set_limits(self.persisted.limits);
                        }
                    }
                });
                ui.label(
                    RichText::new(format!("zoom {:.0}% (Ctrl +/−)", ui.ctx().zoom_factor() * 100.0)).weak(),
                );
            });
        });
    }

    fn notices_ui(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        if let Some(job) = &self.clear_job {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Clearing retained messages at or below {}: {} of {}",
                    job.root,
                    job.done,
                    job.topics.len()
                ));
                ui.add(
                    egui::ProgressBar::new(job.done as f32 / job.topics.len().max(1) as f32)
                        .desired_width(200.0),
                );
            });
        }
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
            let Some(tab) = self.tabs.get(self.active) else {
                return;
            };
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
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
                            .on_hover_text(
                                "Record everything this connection receives to a file (JSON Lines)",
                            )
                            .clicked()
                        {
                            actions.push(Action::StartRecording(None));
                        }
                    }
                }
            });
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
            if status_bar_ui(ui, self.tabs.get_mut(active))
                && let Some(tab) = self.tabs.get(active)
            {
                self.engine.send(Command::RetryNow { id: tab.id });
            }
        });
        if self.persisted.show_publish {
            let (connected, v5) = self
                .tabs
                .get(active)
                .map(|t| (t.connected(), t.speaks_v5()))
                .unwrap_or((false, true));
            Panel::bottom("publish")
                .resizable(true)
                .default_size(230.0)
                .show(ui, |ui| {
                    ui.add_space(4.0);
                    publish_ui(ui, &mut self.persisted.publish, connected, v5, &mut actions);
                    if let Some(tab) = self.tabs.get(active)
                        && !tab.requests.list.is_empty()
                    {
                        super::publish::requests_ui(ui, &tab.requests);
                    }
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
        let view = &mut self.persisted.topic_views;
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
        let mut sub_action = None;
        egui::CentralPanel::default().show(ui, |ui| {
            self.tabs_ui(ui, &mut actions);
            ui.separator();
            match self.tabs.get_mut(active) {
                Some(tab) => {
                    let before = tab.view.selected;
                    sub_action = subscriptions_ui(ui, tab).map(|a| (tab.id, a));
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
        if let Some((id, action)) = sub_action {
            self.subscription_action(id, action);
        }
        if self.persisted.show_broker
            && let Some(tab) = self.tabs.get_mut(active)
        {
            super::broker_stats::broker_stats_ui(ui.ctx(), &mut self.persisted.show_broker, tab);
        }
        if self.persisted.show_charts
            && let Some(tab) = self.tabs.get_mut(active)
        {
            super::charts::charts_ui(ui.ctx(), &mut self.persisted.show_charts, tab, &mut actions);
        }
        let ctx = ui.ctx().clone();
        self.dialog_ui(&ctx);
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
            self.saver.save(self.profiles.file.clone());
            std::thread::sleep(Duration::from_millis(200));
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
