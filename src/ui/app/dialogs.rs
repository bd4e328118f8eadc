//! The modal dialogs: what each shows ([`Dialog`]) and what the app does with its outcome.
//! The drawing itself is in [`crate::ui::dialogs`].

use super::CanopyApp;
use super::events::ClearJob;
use super::jobs::{Background, file_dialog};
use crate::engine::{Command, ConnectionId};
use crate::profiles::Profile;
use crate::profiles::import::ImportReport;
use crate::profiles::profile::PasswordStorage;
use crate::profiles::store::ProfilesFile;
use crate::ui::dialogs::{self as panels, DialogOutcome};
use crate::ui::notices::Level;

/// A modal the window is showing.
pub(super) enum Dialog {
    /// Asking the password of a profile that does not save it.
    Password { profile: Box<Profile>, password: String },
    /// Imported profiles waiting for the user's decision on name conflicts.
    Import(ImportReport),
    /// Export options.
    Export { all: bool, include_secrets: bool },
    /// The profiles file is damaged: restore the backup or start afresh.
    Damaged { backup: Option<ProfilesFile> },
    /// Confirming the deletion of retained messages.
    ClearRetained {
        tab: ConnectionId,
        root: String,
        topics: Vec<String>,
    },
}

impl CanopyApp {
    /// Draws the open dialog; once it is answered, carries out the answer.
    pub(super) fn dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.dialog else { return };
        let outcome = match dialog {
            Dialog::Password { profile, password } => {
                let user = profile.username.clone().unwrap_or_default();
                panels::password_ui(ctx, &profile.name, &user, password)
            }
            Dialog::Import(report) => {
                let names: Vec<String> = self
                    .profiles
                    .file
                    .profiles
                    .iter()
                    .map(|p| p.name.clone())
                    .collect();
                panels::import_ui(ctx, report, &names)
            }
            Dialog::Export { all, include_secrets } => panels::export_ui(ctx, all, include_secrets),
            Dialog::Damaged { backup } => panels::damaged_ui(ctx, backup.as_ref()),
            Dialog::ClearRetained { root, topics, .. } => panels::clear_retained_ui(ctx, root, topics),
        };
        if matches!(outcome, DialogOutcome::Open) {
            return;
        }
        let Some(dialog) = self.dialog.take() else { return };
        match (dialog, outcome) {
            (Dialog::Password { profile, .. }, DialogOutcome::Password(pw)) => {
                self.connect_with_password(*profile, pw);
            }
            (Dialog::Import(report), o @ (DialogOutcome::ImportRename | DialogOutcome::ImportReplace)) => {
                self.merge_import(report, matches!(o, DialogOutcome::ImportReplace));
            }
            (Dialog::Export { .. }, DialogOutcome::Export { all, include_secrets }) => {
                self.export_profiles(all, include_secrets);
            }
            (Dialog::Damaged { backup: Some(backup) }, DialogOutcome::RestoreBackup) => {
                self.restore_backup(backup);
            }
            (Dialog::Damaged { .. }, DialogOutcome::StartAfresh) => {
                self.read_only = false;
                self.profiles.dirty = true;
            }
            (Dialog::ClearRetained { tab, root, topics }, DialogOutcome::Confirm) => {
                self.clear_retained_below(tab, root, topics);
            }
            _ => {}
        }
    }

    fn connect_with_password(&mut self, profile: Profile, password: String) {
        let mut p = profile;
        p.password = Some(password);
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

    fn merge_import(&mut self, report: ImportReport, replace: bool) {
        use crate::profiles::import::{OnConflict, merge_imported};
        let mode = if replace {
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
        self.notices.push(Level::Info, note);
    }

    fn export_profiles(&mut self, all: bool, include_secrets: bool) {
        let profiles: Vec<Profile> = if all {
            self.profiles.file.profiles.clone()
        } else {
            self.profiles.current().cloned().into_iter().collect()
        };
        self.jobs.spawn_once("export-profiles", move || {
            let path = file_dialog("Export profiles", Some("canopy-profiles.toml"), &[]).save_file()?;
            let result = crate::profiles::import::export(&profiles, include_secrets)
                .and_then(|text| std::fs::write(&path, text).map_err(|e| e.to_string()))
                .map(|()| path);
            Some(Background::Exported(result))
        });
    }

    fn restore_backup(&mut self, backup: ProfilesFile) {
        self.profiles.file = backup;
        self.profiles.selected = Some(0);
        self.read_only = false;
        self.profiles.dirty = true;
        self.notices.push(Level::Info, "The backup was restored.".into());
    }

    /// Sends one clear per topic; their outcomes are counted by the [`ClearJob`].
    fn clear_retained_below(&mut self, tab: ConnectionId, root: String, topics: Vec<String>) {
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
}
