//! Background jobs: work that must not block a frame (file dialogs, file I/O, the credential
//! store, the sandbox broker) runs on a named thread started by [`Jobs::spawn`] and reports
//! [`Background`] results, drained at the start of the next frame. Every file dialog is built
//! by [`file_dialog`]. Saving the profiles lives here too.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Instant;

use super::dialogs::Dialog;
use super::{CanopyApp, SAVE_DELAY};
use crate::engine::ConnectionId;
use crate::profiles::Profile;
use crate::profiles::profile::ProfileId;
use crate::profiles::saver::SaverEvent;
use crate::ui::action::FileTarget;
use crate::ui::fonts;
use crate::ui::i18n::tr;
use crate::ui::notices::Level;
use crate::ui::profiles::FileCheck;

/// Results of background work.
pub(super) enum Background {
    FilePicked {
        profile: ProfileId,
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
    Secrets(Result<Vec<(ProfileId, String)>, String>),
    /// The sandbox broker is up: connect this (resolved) profile.
    SandboxReady(Box<Result<Profile, String>>),
    Imported(Result<crate::profiles::import::ImportReport, String>),
    Exported(Result<PathBuf, String>),
    /// Start recording this tab's messages to this file.
    RecordTo {
        tab: ConnectionId,
        path: PathBuf,
    },
    /// A recording ended.
    Recorded(PathBuf, Result<u64, String>),
    /// A replay advanced or ended.
    Replay(crate::replay::ReplayProgress),
    /// The demo traffic generator stopped on an error.
    Demo(String),
    /// The report card's probe (run `serial`) started a step or ended.
    Probe {
        serial: u64,
        event: crate::ui::report_card::ProbeEvent,
    },
    /// A screenshot for the report card's PNG export: the card's region (points) and where
    /// to save (`None` asks).
    CardImage {
        image: Arc<egui::ColorImage>,
        rect: egui::Rect,
        pixels_per_point: f32,
        path: Option<PathBuf>,
        suggested_name: String,
    },
    /// Something to tell the user (and the log).
    Notice(Level, String),
    /// A `.proto` file or folder was picked for the active connection's schema.
    ProtoPicked(PathBuf),
    /// A file read as the publish payload: its name and bytes, or why not.
    PayloadFile(Result<crate::ui::publish::PayloadFile, String>),
    /// A connection's schema (from `path`) compiled, or why not.
    SchemaCompiled {
        conn: ConnectionId,
        path: PathBuf,
        result: Result<Arc<crate::model::proto::Schema>, String>,
    },
}

/// The sending end of the background channel, with the context to wake: what a job needs to
/// report. Cheap to clone; every job holds one.
#[derive(Clone)]
pub(super) struct Jobs {
    tx: Sender<Background>,
    ctx: egui::Context,
}

impl Jobs {
    pub(super) fn new(tx: Sender<Background>, ctx: egui::Context) -> Self {
        Self { tx, ctx }
    }

    /// Hands a result to the UI thread and wakes it to apply it.
    pub(super) fn send(&self, result: Background) {
        // Err only once the app is gone: nobody is left to tell.
        self.tx.send(result).ok();
        self.ctx.request_repaint();
    }

    /// Runs `work` on a thread named `canopy-<name>` (shown by debuggers and in panics); it
    /// reports through the [`Jobs`] it is given, and the UI is woken when it ends.
    pub(super) fn spawn(&self, name: &str, work: impl FnOnce(&Jobs) + Send + 'static) {
        let jobs = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("canopy-{name}"))
            .spawn(move || {
                work(&jobs);
                jobs.ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.send(Background::Notice(
                Level::Error,
                format!("Could not start the {name} job: {e}"),
            ));
        }
    }

    /// [`Jobs::spawn`] for a job with at most one result (`None`: nothing to report, such as
    /// a file dialog the user cancelled).
    pub(super) fn spawn_once(&self, name: &str, work: impl FnOnce() -> Option<Background> + Send + 'static) {
        self.spawn(name, move |jobs| {
            if let Some(result) = work() {
                jobs.send(result);
            }
        });
    }
}

/// Builds every file dialog of the window: `title`, the name offered when saving, and
/// filters as (label, extensions).
pub(super) fn file_dialog(
    title: &str,
    file_name: Option<&str>,
    filters: &[(&str, &[&str])],
) -> rfd::FileDialog {
    let mut dialog = rfd::FileDialog::new().set_title(title);
    if let Some(name) = file_name {
        dialog = dialog.set_file_name(name);
    }
    for (label, extensions) in filters {
        dialog = dialog.add_filter(*label, extensions);
    }
    dialog
}

/// A file dialog that comes back empty this fast was not closed by a person: no picker could
/// open (no XDG desktop portal and no `zenity`, as on plain X11 window managers and many
/// remote desktops), and rfd says nothing about it.
const NO_PICKER: std::time::Duration = std::time::Duration::from_millis(400);

/// Runs a file dialog. `Err(None)`: the user cancelled; `Err(Some(notice))`: no picker could
/// open, and the notice says so and what to do instead.
pub(super) fn picked<T>(show: impl FnOnce() -> Option<T>) -> Result<T, Option<Background>> {
    let started = std::time::Instant::now();
    show().ok_or_else(|| {
        (started.elapsed() < NO_PICKER).then(|| {
            Background::Notice(
                Level::Warning,
                "No file picker could open here (it needs an XDG desktop portal or zenity). \
                 Type the path into the field instead, or install xdg-desktop-portal-gtk or zenity."
                    .into(),
            )
        })
    })
}

/// A replay under way.
pub(super) struct ReplayJob {
    /// Shared with the replay thread: stop flag and delivered-outcome counter.
    pub(super) control: Arc<crate::replay::ReplayControl>,
    /// As last reported by the replay thread.
    pub(super) progress: crate::replay::ReplayProgress,
    /// Publishes the broker did not accept, counted from the outcomes.
    pub(super) failed: u64,
}

impl CanopyApp {
    /// For tests only: delivers a file-picker result exactly as the picker thread started by
    /// [`Action::Browse`](crate::ui::action::Action::Browse) sends it (through the background channel,
    /// applied at the start of the next frame), so tests need no real dialog.
    pub fn deliver_picked_file(&self, profile: ProfileId, target: FileTarget, path: PathBuf) {
        self.jobs.send(Background::FilePicked {
            profile,
            target,
            path,
        });
    }

    /// Applies every result that arrived since the last frame.
    pub(super) fn drain_background(&mut self) {
        while let Ok(result) = self.bg_rx.try_recv() {
            self.on_background(result);
        }
    }

    fn on_background(&mut self, result: Background) {
        match result {
            Background::ProtoPicked(path) => self.proto_picked(path),
            Background::PayloadFile(result) => self.payload_file_read(result),
            Background::SchemaCompiled { conn, path, result } => self.schema_compiled(conn, &path, result),
            Background::FilePicked {
                profile,
                target,
                path,
            } => self.profiles.set_file(&profile, target, path),
            Background::FileChecked { path, check } => {
                self.profiles.checks.insert(path, check);
            }
            Background::Fonts(found) => {
                if self.cjk.search_done(found.is_some()) {
                    self.notices
                        .push(Level::Info, tr!("fonts.missing_cjk").into_owned());
                }
                if found.is_some() {
                    fonts::install(&self.ctx, found);
                }
            }
            Background::Saver(event) => self.on_saver_event(event),
            Background::Secrets(Ok(found)) => {
                for (id, pw) in found {
                    if let Some(p) = self.profiles.file.profiles.iter_mut().find(|p| p.id == id)
                        && p.password.is_none()
                    {
                        p.password = Some(pw);
                    }
                }
            }
            Background::Secrets(Err(e)) => self.notices.push(
                Level::Warning,
                tr!("jobs.secrets_unreadable", error = e).into_owned(),
            ),
            Background::SandboxReady(result) => match *result {
                Ok(profile) => self.open_connection(profile),
                Err(e) => self
                    .notices
                    .push(Level::Error, tr!("jobs.sandbox_failed", error = e).into_owned()),
            },
            Background::Imported(Ok(report)) => self.dialog = Some(Dialog::Import(report)),
            Background::Imported(Err(e)) => self
                .notices
                .push(Level::Error, tr!("jobs.nothing_imported", error = e).into_owned()),
            Background::RecordTo { tab, path } => self.record_to(tab, path),
            Background::Demo(e) => self
                .notices
                .push(Level::Warning, tr!("jobs.demo_stopped", error = e).into_owned()),
            Background::Recorded(path, Ok(n)) => {
                self.notices.push(
                    Level::Info,
                    tr!("jobs.recorded", n = n, path = path.display()).into_owned(),
                );
            }
            Background::Recorded(path, Err(e)) => {
                self.notices.push(
                    Level::Error,
                    tr!("jobs.recording_failed", path = path.display(), error = e).into_owned(),
                );
            }
            Background::Replay(progress) => self.replay_progress(progress),
            Background::Exported(Ok(path)) => self.notices.push(
                Level::Info,
                tr!("jobs.exported", path = path.display()).into_owned(),
            ),
            Background::Exported(Err(e)) => self
                .notices
                .push(Level::Error, tr!("jobs.not_exported", error = e).into_owned()),
            Background::Saved(what, Ok(path)) => {
                self.notices
                    .push(Level::Info, format!("{what} saved to {}", path.display()));
            }
            Background::Saved(what, Err(e)) => {
                self.notices.push(Level::Error, format!("{what} not saved: {e}"))
            }
            Background::Probe { serial, event } => self.report_card.on_event(serial, event),
            Background::CardImage {
                image,
                rect,
                pixels_per_point,
                path,
                suggested_name,
            } => self.save_file_to(path, "Report card picture", suggested_name, move || {
                crate::ui::report_card::layout::png(&image, rect, pixels_per_point)
            }),
            Background::Notice(level, text) => self.notify(level, text),
        }
    }

    fn on_saver_event(&mut self, event: SaverEvent) {
        match event {
            SaverEvent::Failed(e) => self
                .notices
                .push(Level::Error, tr!("jobs.not_saved", error = e).into_owned()),
            SaverEvent::SecretsUnavailable(e) => self.notices.push(
                Level::Warning,
                tr!("jobs.secrets_unavailable", error = e).into_owned(),
            ),
            SaverEvent::Merged { file, note } => {
                let selected_id = self.profiles.current().map(|p| p.id.clone());
                self.profiles.file = file;
                self.profiles.selected = selected_id
                    .and_then(|id| self.profiles.file.profiles.iter().position(|p| p.id == id))
                    .or(Some(0));
                self.notices.push(Level::Info, note);
            }
        }
    }

    fn record_to(&mut self, tab: ConnectionId, path: PathBuf) {
        if let Some(t) = self.tabs.iter_mut().find(|t| t.id == tab) {
            let jobs = self.jobs.clone();
            let file = path.clone();
            t.recorder = Some(crate::replay::Recorder::start(path, move |result| {
                jobs.send(Background::Recorded(file, result));
            }));
        }
    }

    fn replay_progress(&mut self, progress: crate::replay::ReplayProgress) {
        if let Some(job) = &mut self.replay {
            job.progress = progress.clone();
        }
        if !progress.finished {
            return;
        }
        let failed = self.replay.as_ref().map_or(0, |j| j.failed);
        self.replay = None;
        let skipped = if progress.skipped > 0 {
            tr!("jobs.skipped", n = progress.skipped).into_owned()
        } else {
            String::new()
        };
        let failed = if failed > 0 {
            tr!("jobs.not_delivered", n = failed).into_owned()
        } else {
            String::new()
        };
        match progress.error {
            Some(e) => self.notices.push(
                Level::Error,
                tr!(
                    "jobs.replay_ended",
                    n = progress.sent,
                    error = e,
                    skipped = skipped,
                    failed = failed
                )
                .into_owned(),
            ),
            None if progress.sent > 0 || progress.skipped > 0 => self.notices.push(
                Level::Info,
                tr!(
                    "jobs.replayed",
                    n = progress.sent,
                    skipped = skipped,
                    failed = failed
                )
                .into_owned(),
            ),
            None => {}
        }
    }

    /// Asks where to save, then makes the bytes and writes them, all on a thread.
    pub(super) fn save_file(
        &self,
        what: &'static str,
        suggested_name: String,
        make: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
    ) {
        self.save_file_to(None, what, suggested_name, make);
    }

    /// [`CanopyApp::save_file`] to `path` when it is given (tests and tools), else asking.
    pub(super) fn save_file_to(
        &self,
        path: Option<PathBuf>,
        what: &'static str,
        suggested_name: String,
        make: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
    ) {
        self.jobs.spawn_once("save-file", move || {
            let path = match path {
                Some(path) => path,
                None => file_dialog(
                    &format!("Save {}", what.to_lowercase()),
                    Some(&suggested_name),
                    &[],
                )
                .save_file()?,
            };
            let result = make()
                .and_then(|bytes| {
                    std::fs::write(&path, bytes).map_err(|e| crate::engine::errors::io_words(&e))
                })
                .map(|()| path);
            Some(Background::Saved(what, result))
        });
    }

    /// Saves the profiles [`SAVE_DELAY`] after the last edit (typing does not write per key).
    pub(super) fn schedule_save(&mut self) {
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
}
