//! The modal dialogs: what each shows ([`Dialog`]) and what the app does with its outcome.
//! The drawing itself is in [`crate::ui::dialogs`].

use super::CanopyApp;
use super::events::ClearJob;
use super::jobs::{Background, file_dialog};
use super::origins::Origin;
use crate::engine::{Command, ConnectionId};
use crate::profiles::Profile;
use crate::profiles::import::ImportReport;
use crate::profiles::profile::PasswordStorage;
use crate::profiles::store::ProfilesFile;
use crate::ui::dialogs::{self as panels, Answer, Confirmed, DamagedChoice, ImportChoice, Password};
use crate::ui::i18n::tr;
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
    /// Draws the open dialog; once it is answered, carries out the answer. The dialog is
    /// taken out while it is drawn and put back while it stays open, so that an answer's
    /// handler may open the next dialog.
    pub(super) fn dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(dialog) = self.dialog.take() else { return };
        let still_open = match dialog {
            Dialog::Password {
                profile,
                mut password,
            } => {
                let user = profile.username.clone().unwrap_or_default();
                match panels::password_ui(ctx, &profile.name, &user, &mut password) {
                    Answer::Open => Some(Dialog::Password { profile, password }),
                    Answer::Dismissed => None,
                    Answer::Chosen(Password(pw)) => {
                        self.connect_with_password(*profile, pw);
                        None
                    }
                }
            }
            Dialog::Import(report) => {
                let names: Vec<String> = self
                    .profiles
                    .file
                    .profiles
                    .iter()
                    .map(|p| p.name.clone())
                    .collect();
                match panels::import_ui(ctx, &report, &names) {
                    Answer::Open => Some(Dialog::Import(report)),
                    Answer::Dismissed => None,
                    Answer::Chosen(choice) => {
                        self.merge_import(report, choice == ImportChoice::Replace);
                        None
                    }
                }
            }
            Dialog::Export {
                mut all,
                mut include_secrets,
            } => match panels::export_ui(ctx, &mut all, &mut include_secrets) {
                Answer::Open => Some(Dialog::Export { all, include_secrets }),
                Answer::Dismissed => None,
                Answer::Chosen(choice) => {
                    self.export_profiles(choice.all, choice.include_secrets);
                    None
                }
            },
            Dialog::Damaged { backup } => match panels::damaged_ui(ctx, backup.as_ref()) {
                Answer::Open => Some(Dialog::Damaged { backup }),
                // Decide later: stay read-only, the file is never written over.
                Answer::Dismissed => None,
                Answer::Chosen(DamagedChoice::RestoreBackup) => {
                    if let Some(backup) = backup {
                        self.restore_backup(backup);
                    }
                    None
                }
                Answer::Chosen(DamagedChoice::StartAfresh) => {
                    self.read_only = false;
                    self.profiles.dirty = true;
                    None
                }
            },
            Dialog::ClearRetained { tab, root, topics } => {
                match panels::clear_retained_ui(ctx, &root, &topics) {
                    Answer::Open => Some(Dialog::ClearRetained { tab, root, topics }),
                    Answer::Dismissed => None,
                    Answer::Chosen(Confirmed) => {
                        self.clear_retained_below(tab, root, topics);
                        None
                    }
                }
            }
        };
        if still_open.is_some() {
            self.dialog = still_open;
        }
    }

    fn connect_with_password(&mut self, profile: Profile, password: String) {
        // Only this connection gets the password: the tab's copy of the profile holds it, and
        // marking it "ask" keeps it out of the file and the credential store whatever the
        // saved profile says.
        let mut p = profile;
        p.password = Some(password);
        p.password_storage = PasswordStorage::Ask;
        if p.sandbox.is_some() {
            // The sandbox is started by `connect`, which then opens the connection.
            self.connect(p);
        } else {
            self.open_connection(p);
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
        let mut note = tr!("app_dialogs.imported", n = n, source = report.source).into_owned();
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
        self.notices
            .push(Level::Info, tr!("app_dialogs.restored").into_owned());
    }

    /// Sends one clear per topic; their outcomes are counted by the [`ClearJob`].
    fn clear_retained_below(&mut self, tab: ConnectionId, root: String, topics: Vec<String>) {
        for (index, topic) in topics.iter().enumerate() {
            let token = self.origins.register(tab, Origin::Clear(index));
            self.engine.send(Command::ClearRetained {
                id: tab,
                token,
                topic: topic.clone(),
            });
        }
        self.clear_job = Some(ClearJob {
            root,
            topics,
            done: 0,
            failed: Vec::new(),
        });
    }
}
