//! Modal dialogs (`egui::Modal`: centred, a backdrop that blocks the rest of the window,
//! Escape or a click outside dismisses): password prompt, import decisions, export options,
//! damaged profiles file, confirmations.
//!
//! Each dialog answers with its own type wrapped in [`Answer`], so the app matches exactly the
//! answers a dialog can give and the compiler checks that every one is handled.

use egui::{Context, RichText};

use super::widgets;
use crate::profiles::import::ImportReport;
use crate::profiles::store::ProfilesFile;
use crate::ui::i18n::tr;

/// What a dialog answered this frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// Still open: draw it again next frame.
    Open,
    /// Closed without a decision (Cancel, Escape, a click outside).
    Dismissed,
    /// Closed with this decision.
    Chosen(T),
}

/// The password dialog's decision: connect with this password (used once, never saved).
#[derive(Debug, PartialEq, Eq)]
pub struct Password(pub String);

/// How to import profiles whose names are already taken.
#[derive(Debug, PartialEq, Eq)]
pub enum ImportChoice {
    /// Keep both: the imported profile gets a new name.
    Rename,
    /// The imported profile replaces the one with its name.
    Replace,
}

/// The export dialog's decision.
#[derive(Debug, PartialEq, Eq)]
pub struct ExportChoice {
    /// All profiles with their groups (else the selected one).
    pub all: bool,
    /// Write passwords in plain text into the file.
    pub include_secrets: bool,
}

/// What to do about a damaged profiles file. Dismissing means "decide later": the window
/// stays read-only so that nothing is written over the file.
#[derive(Debug, PartialEq, Eq)]
pub enum DamagedChoice {
    /// Replace the list with the backup.
    RestoreBackup,
    /// Start with an empty list (the damaged file is kept aside).
    StartAfresh,
}

/// The user confirmed a destructive step.
#[derive(Debug, PartialEq, Eq)]
pub struct Confirmed;

/// Shows a modal titled `title` whose body returns `Some` once decided. Escape and a click
/// on the backdrop dismiss it.
fn modal<T>(ctx: &Context, title: &str, add: impl FnOnce(&mut egui::Ui) -> Option<Answer<T>>) -> Answer<T> {
    let response = egui::Modal::new(egui::Id::unique(("canopy-dialog", title))).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading(title);
        ui.add_space(4.0);
        add(ui)
    });
    let dismissed = response.should_close();
    match response.inner {
        Some(answer) => answer,
        None if dismissed => Answer::Dismissed,
        None => Answer::Open,
    }
}

/// Asks for the password of `name`.
pub fn password_ui(ctx: &Context, name: &str, user: &str, password: &mut String) -> Answer<Password> {
    modal(ctx, &tr!("dialogs.password"), |ui| {
        ui.label(tr!("dialogs.password_for", user = user, name = name));
        let l = ui.label(tr!("dialogs.password"));
        let r = ui
            .add(egui::TextEdit::singleline(password).password(true))
            .labelled_by(l.id);
        r.request_focus();
        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
        let mut outcome = None;
        ui.horizontal(|ui| {
            if ui.button(tr!("dialogs.connect")).clicked() || enter {
                outcome = Some(Answer::Chosen(Password(std::mem::take(password))));
            }
            if ui.button(tr!("dialogs.cancel")).clicked() {
                outcome = Some(Answer::Dismissed);
            }
        });
        outcome
    })
}

/// Shows what an import found and asks how to treat name conflicts.
pub fn import_ui(ctx: &Context, report: &ImportReport, existing: &[String]) -> Answer<ImportChoice> {
    modal(ctx, &tr!("dialogs.import_title"), |ui| {
        ui.label(tr!(
            "dialogs.import_found",
            n = report.profiles.len(),
            source = report.source
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
                    tr!("dialogs.name_taken")
                } else {
                    "".into()
                };
                ui.label(format!("• {} — {}{mark}", p.name, p.url()));
            }
        });
        if !report.notes.is_empty() {
            ui.label(RichText::new(tr!("dialogs.not_carried_over")).strong());
            egui::ScrollArea::vertical()
                .id_salt("notes")
                .max_height(120.0)
                .show(ui, |ui| {
                    for n in &report.notes {
                        widgets::warning(ui, n.clone());
                    }
                });
        }
        let mut outcome = None;
        ui.horizontal(|ui| {
            if conflicts.is_empty() {
                if ui.button(tr!("dialogs.import")).clicked() {
                    outcome = Some(Answer::Chosen(ImportChoice::Rename));
                }
            } else {
                if ui.button(tr!("dialogs.import_rename")).clicked() {
                    outcome = Some(Answer::Chosen(ImportChoice::Rename));
                }
                if ui.button(tr!("dialogs.import_replace")).clicked() {
                    outcome = Some(Answer::Chosen(ImportChoice::Replace));
                }
            }
            if ui.button(tr!("dialogs.cancel")).clicked() {
                outcome = Some(Answer::Dismissed);
            }
        });
        outcome
    })
}

/// Export options.
pub fn export_ui(ctx: &Context, all: &mut bool, include_secrets: &mut bool) -> Answer<ExportChoice> {
    modal(ctx, &tr!("dialogs.export_title"), |ui| {
        ui.radio_value(all, true, tr!("dialogs.export_all"));
        ui.radio_value(all, false, tr!("dialogs.export_selected"));
        ui.checkbox(include_secrets, tr!("dialogs.include_passwords"));
        if *include_secrets {
            widgets::warning(ui, tr!("dialogs.passwords_warning"));
        }
        let mut outcome = None;
        ui.horizontal(|ui| {
            if ui.button(tr!("dialogs.export")).clicked() {
                outcome = Some(Answer::Chosen(ExportChoice {
                    all: *all,
                    include_secrets: *include_secrets,
                }));
            }
            if ui.button(tr!("dialogs.cancel")).clicked() {
                outcome = Some(Answer::Dismissed);
            }
        });
        outcome
    })
}

/// The profiles file is damaged.
pub fn damaged_ui(ctx: &Context, backup: Option<&ProfilesFile>) -> Answer<DamagedChoice> {
    modal(ctx, &tr!("dialogs.damaged_title"), |ui| {
        ui.label(tr!("dialogs.damaged_text"));
        let mut outcome = None;
        ui.horizontal(|ui| {
            if let Some(b) = backup
                && ui
                    .button(tr!("dialogs.restore_backup", n = b.profiles.len()))
                    .clicked()
            {
                outcome = Some(Answer::Chosen(DamagedChoice::RestoreBackup));
            }
            if ui.button(tr!("dialogs.start_empty")).clicked() {
                outcome = Some(Answer::Chosen(DamagedChoice::StartAfresh));
            }
            if ui.button(tr!("dialogs.decide_later")).clicked() {
                outcome = Some(Answer::Dismissed);
            }
        });
        outcome
    })
}

/// Confirms deleting the retained messages of `count` topics at or below `root`.
pub fn clear_retained_ui(ctx: &Context, root: &str, topics: &[String]) -> Answer<Confirmed> {
    modal(ctx, &tr!("dialogs.clear_title"), |ui| {
        let n = topics.len();
        if n == 0 {
            ui.label(tr!("dialogs.clear_none", root = root));
            return ui
                .button(tr!("dialogs.close"))
                .clicked()
                .then_some(Answer::Dismissed);
        }
        ui.label(
            RichText::new(if n == 1 {
                tr!("dialogs.clear_question_one", root = root)
            } else {
                tr!("dialogs.clear_question", n = n, root = root)
            })
            .strong(),
        );
        ui.label(tr!("dialogs.clear_how"));
        egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
            for t in topics.iter().take(200) {
                ui.label(RichText::new(t).monospace().small());
            }
            if n > 200 {
                ui.label(tr!("dialogs.and_more", n = n - 200));
            }
        });
        let mut outcome = None;
        ui.horizontal(|ui| {
            let label = if n == 1 {
                tr!("dialogs.delete_one")
            } else {
                tr!("dialogs.delete_many", n = n)
            };
            if ui
                .button(RichText::new(label).color(ui.visuals().error_fg_color))
                .clicked()
            {
                outcome = Some(Answer::Chosen(Confirmed));
            }
            if ui.button(tr!("dialogs.cancel")).clicked() {
                outcome = Some(Answer::Dismissed);
            }
        });
        outcome
    })
}
