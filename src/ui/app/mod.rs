//! The application: owns the engine handle, the profiles and the open connections; draws the
//! panels and applies what they asked for at the end of each frame.
//!
//! One `impl CanopyApp` over sibling files, by concern:
//! - here: the state and [`CanopyApp::new`];
//! - `events`: draining the engine's events, routing publish outcomes;
//! - `jobs`: background jobs and their results, saving the profiles;
//! - `actions`: applying each [`Action`](crate::ui::action::Action) (one named method per
//!   action);
//! - `dialogs`: the modal dialogs and what their answers do;
//! - `bars`: the top bar, notices, the tab bar, the settings menu;
//! - `frame`: the [`eframe::App`] implementation that ties a frame together.

mod actions;
mod bars;
mod dialogs;
mod events;
mod frame;
mod jobs;
mod origins;
mod payload_file;
mod present;
mod proto;
mod report_card;
mod templates;
mod timeline;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use self::dialogs::Dialog;
use self::events::ClearJob;
use self::jobs::{Background, Jobs, ReplayJob};
use self::origins::Origins;
use super::fonts;
use super::i18n::{self, Language, Locale};
use super::notices::{Level, Notices};
use super::profiles::ProfilesPanel;
use super::publish::PublishState;
use super::tab::ConnectionTab;
use crate::engine::{ConnectionId, ConnectionState, Engine};
use crate::model::payload::Decoding;
use crate::model::topic_tree::{Limits, TopicTree};
use crate::profiles::Profile;
use crate::profiles::profile::{PasswordStorage, ProfileId};
use crate::profiles::saver::Saver;
use crate::profiles::secrets;
use crate::profiles::store::{self, ProfilesFile, StoreError};

/// Time per frame spent applying incoming messages before drawing.
const APPLY_BUDGET: Duration = Duration::from_millis(4);
/// Edits are saved this long after the last change.
const SAVE_DELAY: Duration = Duration::from_millis(400);

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The profiles file.
    pub profiles_path: PathBuf,
    /// Look for a system CJK font in the background.
    pub load_system_fonts: bool,
    /// Keep passwords in the OS credential store.
    pub use_keyring: bool,
    /// A language that overrides the one saved in the settings (the tests force English, so
    /// that they find widgets by their English names on any machine).
    pub language: Option<Language>,
}

impl AppConfig {
    /// The platform's locations (`$XDG_CONFIG_HOME/canopy/profiles.toml` on Linux).
    pub fn from_platform() -> Result<Self, StoreError> {
        Ok(Self {
            profiles_path: store::default_path()?,
            load_system_fonts: true,
            use_keyring: true,
            language: None,
        })
    }
}

/// UI state remembered between runs (through eframe's storage).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Persisted {
    last_profile: Option<String>,
    show_publish: bool,
    publish: PublishState,
    /// The tree lists `$SYS` (on until the user turns it off).
    show_sys: bool,
    limits: Limits,
    /// Payload decoding chosen per topic (Auto when absent).
    #[serde(alias = "topic_views")]
    topic_decodings: std::collections::BTreeMap<String, Decoding>,
    show_charts: bool,
    show_broker: bool,
    show_search: bool,
    show_schemas: bool,
    /// The protocol timeline window is open (for the active connection).
    show_timeline: bool,
    /// The list of saved connections stays beside the tree while a connection is open
    /// (else it hides then, and the tree takes its width).
    keep_connections_open: bool,
    /// The window's language (Settings), System unless the user chose one.
    language: Language,
}

impl Default for Persisted {
    fn default() -> Self {
        Self {
            last_profile: None,
            show_publish: false,
            publish: PublishState::default(),
            show_sys: true,
            limits: Limits::default(),
            topic_decodings: Default::default(),
            show_charts: false,
            show_broker: false,
            show_search: false,
            show_schemas: false,
            show_timeline: false,
            keep_connections_open: false,
            language: Language::System,
        }
    }
}

/// The Canopy window.
pub struct CanopyApp {
    persisted: Persisted,
    engine: Engine,
    profiles: ProfilesPanel,
    /// The profiles file is from a newer Canopy or damaged: never written.
    read_only: bool,
    tabs: Vec<ConnectionTab>,
    /// Index into `tabs` (positions are fine within a frame; work that outlives one names
    /// tabs by [`ConnectionId`]).
    active: usize,
    next_id: ConnectionId,
    /// Who waits for each publish outcome; shared with the replay thread.
    origins: Origins,
    notices: Notices,
    /// Tells once that CJK text arrived with no font to draw it.
    cjk: fonts::MissingCjkFont,
    /// When the edited profiles are written (see `jobs::schedule_save`).
    save_due: Option<Instant>,
    saver: Saver,
    config: AppConfig,
    dialog: Option<Dialog>,
    clear_job: Option<ClearJob>,
    replay: Option<ReplayJob>,
    /// Stop flags of the threads publishing on a connection (demo traffic, a template sent
    /// several times), by connection id: set when the tab disconnects, closes or reconnects.
    generators: Vec<(ConnectionId, Arc<AtomicBool>)>,
    /// The broker report card window and the probe behind it.
    report_card: crate::ui::report_card::ReportCard,
    /// Where background jobs report; cloned into each.
    jobs: Jobs,
    bg_rx: Receiver<Background>,
    ctx: egui::Context,
    /// Presentation mode (`present.rs`).
    present: crate::ui::present::PresentState,
    /// What `persisted.language` resolved to; set on the UI thread at every frame.
    locale: Locale,
}

impl CanopyApp {
    /// Creates the app: starts the engine, reads the profiles file (once, before the first
    /// frame) and starts background helpers. Fails only when the engine's threads cannot be
    /// started (the system is out of threads or memory): eframe then reports the error and
    /// exits, instead of a window that could never connect.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> std::io::Result<Self> {
        // PNG / JPEG payload previews.
        egui_extras::install_image_loaders(&cc.egui_ctx);
        let ctx = cc.egui_ctx.clone();
        let mut persisted: Persisted = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        if let Some(language) = config.language {
            persisted.language = language;
        }
        let locale = persisted.language.resolve();
        // Before anything below words a notice.
        i18n::set_locale(locale);
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(
            crate::ui::window_title().into_owned(),
        ));
        let (bg_tx, bg_rx) = channel();
        let jobs = Jobs::new(bg_tx, ctx.clone());
        let mut notices = Notices::default();
        let engine = start_engine(&ctx)?;
        let opened = store::open(&config.profiles_path);
        let read_only = opened.problem.is_some();
        let mut dialog = None;
        if let Some(problem) = &opened.problem {
            notices.push(Level::Error, problem.to_string());
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
            let jobs = jobs.clone();
            Saver::start(
                config.profiles_path.clone(),
                on_disk,
                config.use_keyring,
                move |e| jobs.send(Background::Saver(e)),
            )
        };
        if config.use_keyring {
            load_secrets(&jobs, &profiles.file);
        }
        // The bundled CJK font from the first frame (+0.4 ms to set the fonts and lay out a first
        // Chinese label, measured in a debug build; a fuller system font, when
        // the search below finds one, goes before it).
        fonts::install(&ctx, None);
        if config.load_system_fonts {
            jobs.spawn_once("fonts", || Some(Background::Fonts(fonts::find_cjk_font())));
        }
        let cjk = fonts::MissingCjkFont::new(config.load_system_fonts);
        Ok(Self {
            persisted,
            engine,
            profiles,
            read_only,
            tabs: Vec::new(),
            active: 0,
            next_id: ConnectionId(1),
            origins: Origins::default(),
            notices,
            cjk,
            save_due: None,
            saver,
            config,
            dialog,
            clear_job: None,
            replay: None,
            generators: Vec::new(),
            report_card: Default::default(),
            jobs,
            bg_rx,
            ctx,
            present: Default::default(),
            locale,
        })
    }

    /// Tells the user something in the window (the newest few are shown) and logs it.
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notices.push(level, text.into());
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

    /// A connection id no tab has had in this run.
    fn new_connection_id(&mut self) -> ConnectionId {
        let id = self.next_id;
        self.next_id = ConnectionId(id.0 + 1);
        id
    }

    /// Opens a tab over messages that did not come from a live connection (a recording, a
    /// benchmark) and makes it active. The messages are applied like live ones, within the
    /// per-frame budget.
    pub fn open_offline(&mut self, name: &str, messages: Vec<crate::model::message::Message>) {
        let id = self.new_connection_id();
        let mut tab = ConnectionTab::new(
            id,
            Profile {
                name: name.to_owned(),
                ..Profile::default()
            },
        );
        tab.set_state(ConnectionState::Disconnected);
        tab.tree = TopicTree::with_limits(self.persisted.limits);
        tab.queue(messages);
        self.tabs.push(tab);
        self.active = self.tabs.len() - 1;
    }

    /// The profiles panel (for tests and tools).
    pub fn profiles(&self) -> &ProfilesPanel {
        &self.profiles
    }

    /// Whether the window is in presentation mode.
    pub fn presenting(&self) -> bool {
        self.present.on
    }

    /// The locale the window's texts are in.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Notices currently shown.
    pub fn notices(&self) -> &Notices {
        &self.notices
    }
}

/// Live traffic wakes the window at most this often (about 5 repaints a second): each
/// repaint shows everything that arrived meanwhile, and a window left open all day with a
/// trickle of messages stays near idle on a laptop. Input still repaints at once.
const TRAFFIC_REPAINT: std::time::Duration = std::time::Duration::from_millis(200);

/// Starts the engine; its events wake the window (the only closure the engine holds),
/// coalesced to `TRAFFIC_REPAINT`.
fn start_engine(ctx: &egui::Context) -> std::io::Result<Engine> {
    let waker = ctx.clone();
    Engine::start(Arc::new(move || waker.request_repaint_after(TRAFFIC_REPAINT)))
        .map_err(|e| std::io::Error::new(e.kind(), format!("the network engine could not start: {e}")))
}

/// Reads the saved passwords of keyring profiles off the UI thread (the store may be slow or
/// ask the user to unlock it).
fn load_secrets(jobs: &Jobs, file: &ProfilesFile) {
    let wanted: Vec<ProfileId> = file
        .profiles
        .iter()
        .filter(|p| p.password_storage == PasswordStorage::Keyring && p.username.is_some())
        .map(|p| p.id.clone())
        .collect();
    if wanted.is_empty() {
        return;
    }
    jobs.spawn_once("secrets", move || {
        let mut found = Vec::new();
        for id in wanted {
            match secrets::load(&id) {
                Ok(Some(pw)) => found.push((id, pw)),
                Ok(None) => {}
                Err(e) => return Some(Background::Secrets(Err(e))),
            }
        }
        Some(Background::Secrets(Ok(found)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_state_without_a_language_loads_as_system() {
        // What a Canopy before the language setting saved.
        let old = r#"{"last_profile":"plant","show_publish":true,"show_sys":false}"#;
        let p: Persisted = serde_json::from_str(old).unwrap();
        assert_eq!(p.language, Language::System);
        assert!(p.show_publish && !p.show_sys);
        let chosen = Persisted {
            language: Language::SimplifiedChinese,
            ..Persisted::default()
        };
        let back: Persisted = serde_json::from_str(&serde_json::to_string(&chosen).unwrap()).unwrap();
        assert_eq!(back.language, Language::SimplifiedChinese);
    }
}
