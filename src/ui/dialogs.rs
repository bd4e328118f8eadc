//! Modal windows: password prompt, import decisions, export options, damaged profiles file,
//! confirmations.

use egui::{Context, RichText};

use super::widgets;
use crate::profiles::import::ImportReport;
use crate::profiles::store::ProfilesFile;

/// What a dialog decided.
pub enum DialogOutcome {
    /// Still open.
    Open,
    /// Closed without doing anything.
    Cancelled,
    /// Connect with this password (not saved).
    Password(String),
    /// Import, renaming profiles whose names are taken.
    ImportRename,
    /// Import, replacing profiles whose names are taken.
    ImportReplace,
    /// Export with these options.
    Export {
        /// All profiles (else the selected one).
        all: bool,
        /// Include passwords.
        include_secrets: bool,
    },
    /// Restore the backup of a damaged file.
    RestoreBackup,
    /// Start with an empty list (the damaged file is kept aside).
    StartAfresh,
    /// Go ahead (a confirmation).
    Confirm,
}

fn modal(ctx: &Context, title: &str, add: impl FnOnce(&mut egui::Ui) -> DialogOutcome) -> DialogOutcome {
    let mut outcome = DialogOutcome::Open;
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| outcome = add(ui));
    outcome
}

/// Asks for the password of `name`.
pub fn password_ui(ctx: &Context, name: &str, user: &str, password: &mut String) -> DialogOutcome {
    modal(ctx, "Password", |ui| {
        ui.label(format!("Password for {user} on “{name}” (not saved):"));
        let l = ui.label("Password");
        let r = ui
            .add(egui::TextEdit::singleline(password).password(true))
            .labelled_by(l.id);
        r.request_focus();
        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
        let mut outcome = DialogOutcome::Open;
        ui.horizontal(|ui| {
            if ui.button("Connect").clicked() || enter {
                outcome = DialogOutcome::Password(std::mem::take(password));
            }
            if ui.button("Cancel").clicked() {
                outcome = DialogOutcome::Cancelled;
            }
        });
        outcome
    })
}

/// Shows what an import found and asks how to treat name conflicts.
pub fn import_ui(ctx: &Context, report: &ImportReport, existing: &[String]) -> DialogOutcome {
    modal(ctx, "Import profiles", |ui| {
        ui.label(format!(
            "{} profiles found in the {} file:",
            report.profiles.len(),
            report.source
        ));
        let conflicts: Vec<&str> = report
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| existing.iter().any(|e| e == n))
            .collect();
        egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
            for p in &report.profiles {
                let mark = if conflicts.contains(&p.name.as_str()) {
                    "  (name taken)"
                } else {
                    ""
                };
                ui.label(format!("• {} — {}{mark}", p.name, p.url()));
            }
        });
        if !report.notes.is_empty() {
            ui.label(RichText::new("Not carried over:").strong());
            egui::ScrollArea::vertical()
                .id_salt("notes")
                .max_height(120.0)
                .show(ui, |ui| {
                    for n in &report.notes {
                        widgets::warning(ui, n.clone());
                    }
                });
        }
        let mut outcome = DialogOutcome::Open;
        ui.horizontal(|ui| {
            if conflicts.is_empty() {
                if ui.button("Import").clicked() {
                    outcome = DialogOutcome::ImportRename;
                }
            } else {
                if ui.button("Import, renaming duplicates").clicked() {
                    outcome = DialogOutcome::ImportRename;
                }
                if ui.button("Import, replacing duplicates").clicked() {
                    outcome = DialogOutcome::ImportReplace;
                }
            }
            if ui.button("Cancel").clicked() {
                outcome = DialogOutcome::Cancelled;
            }
        });
        outcome
    })
}

/// Export options.
pub fn export_ui(ctx: &Context, all: &mut bool, include_secrets: &mut bool) -> DialogOutcome {
    modal(ctx, "Export profiles", |ui| {
        ui.radio_value(all, true, "All profiles, with their groups");
        ui.radio_value(all, false, "The selected profile");
        ui.checkbox(include_secrets, "Include passwords");
        if *include_secrets {
            widgets::warning(ui, "The exported file will contain passwords in plain text.");
        }
        let mut outcome = DialogOutcome::Open;
        ui.horizontal(|ui| {
            if ui.button("Export…").clicked() {
                outcome = DialogOutcome::Export {
                    all: *all,
                    include_secrets: *include_secrets,
                };
            }
            if ui.button("Cancel").clicked() {
                outcome = DialogOutcome::Cancelled;
            }
        });
        outcome
    })
}

/// The profiles file is damaged.
pub fn damaged_ui(ctx: &Context, backup: Option<&ProfilesFile>) -> DialogOutcome {
    modal(ctx, "The profiles file is damaged", |ui| {
        ui.label("Canopy could not read your profiles file. Nothing has been written over it, and a copy was kept aside (see the message at the top).");
        let mut outcome = DialogOutcome::Open;
        ui.horizontal(|ui| {
            if let Some(b) = backup
                && ui
                    .button(format!("Restore the backup ({} profiles)", b.profiles.len()))
                    .clicked()
            {
                outcome = DialogOutcome::RestoreBackup;
            }
            if ui.button("Start with an empty list").clicked() {
                outcome = DialogOutcome::StartAfresh;
            }
            if ui.button("Decide later (read-only)").clicked() {
                outcome = DialogOutcome::Cancelled;
            }
        });
        outcome
    })
}

/// Confirms deleting the retained messages of `count` topics at or below `root`.
pub fn clear_retained_ui(ctx: &Context, root: &str, topics: &[String]) -> DialogOutcome {
    modal(ctx, "Clear retained messages", |ui| {
        let n = topics.len();
        if n == 0 {
            ui.label(format!("No retained message is known at or below {root}."));
            return if ui.button("Close").clicked() {
                DialogOutcome::Cancelled
            } else {
                DialogOutcome::Open
            };
        }
        ui.label(
            RichText::new(format!(
                "Delete the retained messages of {n} topic{} at or below {root}?",
                if n == 1 { "" } else { "s" }
            ))
            .strong(),
        );
        ui.label("An empty retained message is published to each; this cannot be undone.");
        egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
            for t in topics.iter().take(200) {
                ui.label(RichText::new(t).monospace().small());
            }
            if n > 200 {
                ui.label(format!("… and {} more", n - 200));
            }
        });
        let mut outcome = DialogOutcome::Open;
        ui.horizontal(|ui| {
            let label = format!("Delete {n} retained message{}", if n == 1 { "" } else { "s" });
            if ui
                .button(RichText::new(label).color(ui.visuals().error_fg_color))
                .clicked()
            {
                outcome = DialogOutcome::Confirm;
            }
            if ui.button("Cancel").clicked() {
                outcome = DialogOutcome::Cancelled;
            }
        });
        outcome
    })
}
