//! The connections panel: saved profiles (search, new, duplicate, delete with confirmation)
//! and an editor for every field of the profile, grouped (in `editor.rs`).

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{RichText, Ui};

use super::action::Action;
use super::action::FileTarget;
use super::widgets;

mod editor;
use crate::engine::ConnectionId;
use crate::profiles::profile::{Profile, ProfileId, random_client_id, random_profile_id};
use crate::profiles::store::ProfilesFile;
use editor::editor_ui;

/// The result of checking a TLS file in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// Being checked.
    Pending,
    /// Exists and parses.
    Ok,
    /// What is wrong with it.
    Problem(String),
}

/// The connections panel's state.
#[derive(Debug, Default)]
pub struct ProfilesPanel {
    /// The profiles (as saved on disk, plus unsaved edits).
    pub file: ProfilesFile,
    /// The profile being edited.
    pub selected: Option<usize>,
    /// Search text for long lists.
    pub search: String,
    /// The broker URL being pasted.
    pub url_input: String,
    /// Why the pasted URL could not be used.
    pub url_error: Option<String>,
    /// A delete waiting for confirmation.
    pub confirm_delete: Option<usize>,
    /// Background checks of TLS files, by path.
    pub checks: HashMap<PathBuf, FileCheck>,
    /// Set when a profile changed and must be saved.
    pub dirty: bool,
}

impl ProfilesPanel {
    /// The selected profile.
    pub fn current(&self) -> Option<&Profile> {
        self.selected.and_then(|i| self.file.profiles.get(i))
    }

    /// A name not used by any profile, based on `base`.
    pub fn unique_name(&self, base: &str) -> String {
        let taken = |n: &str| self.file.profiles.iter().any(|p| p.name == n);
        if !taken(base) {
            return base.to_owned();
        }
        (2..)
            .map(|i| format!("{base} {i}"))
            .find(|n| !taken(n))
            .unwrap_or_else(|| base.to_owned())
    }

    /// Adds a profile and selects it.
    pub fn add(&mut self, mut profile: Profile) {
        profile.name = self.unique_name(&profile.name);
        self.file.profiles.push(profile);
        self.selected = Some(self.file.profiles.len() - 1);
        self.dirty = true;
    }

    /// Sets a TLS file of the profile `id` (by id: the list may have changed since the file
    /// was asked for). Nothing happens when the profile is gone.
    pub fn set_file(&mut self, id: &ProfileId, target: FileTarget, path: PathBuf) {
        if let Some(p) = self.file.profiles.iter_mut().find(|p| &p.id == id) {
            self.checks.remove(&path);
            let slot = match target {
                FileTarget::Ca => &mut p.tls.ca_file,
                FileTarget::ClientCert => &mut p.tls.client_cert_file,
                FileTarget::ClientKey => &mut p.tls.client_key_file,
            };
            *slot = Some(path);
            self.dirty = true;
        }
    }
}

/// Draws the panel: list, then the editor of the selected profile.
/// `open_tabs` lists, by profile name, the connection of each open tab.
pub fn profiles_ui(
    ui: &mut Ui,
    panel: &mut ProfilesPanel,
    read_only: bool,
    open_tabs: &[(String, ConnectionId)],
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.heading("Connections");
    });
    ui.horizontal(|ui| {
        if ui.button("➕ New").clicked() {
            panel.add(Profile::default());
        }
        if ui
            .add_enabled(panel.selected.is_some(), egui::Button::new("🗐 Duplicate"))
            .clicked()
            && let Some(p) = panel.current().cloned()
        {
            let mut copy = p;
            copy.client_id = random_client_id();
            copy.id = random_profile_id();
            panel.add(copy);
        }
        if ui
            .add_enabled(panel.selected.is_some(), egui::Button::new("🗑 Delete"))
            .clicked()
        {
            panel.confirm_delete = panel.selected;
        }
    });
    ui.horizontal(|ui| {
        if ui
            .button("📥 Import…")
            .on_hover_text("Canopy, MQTT Explorer (settings.json) or MQTTX (exported JSON)")
            .clicked()
        {
            actions.push(Action::Import);
        }
        if ui.button("📤 Export…").clicked() {
            actions.push(Action::Export);
        }
    });
    if let Some(i) = panel.confirm_delete {
        let name = panel
            .file
            .profiles
            .get(i)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(format!("Delete “{name}”? This cannot be undone."));
            ui.horizontal(|ui| {
                if ui.button("Delete").clicked() {
                    if i < panel.file.profiles.len() {
                        panel.file.profiles.remove(i);
                        panel.dirty = true;
                    }
                    panel.selected = None;
                    panel.confirm_delete = None;
                }
                if ui.button("Cancel").clicked() {
                    panel.confirm_delete = None;
                }
            });
        });
    }
    if panel.file.profiles.len() > 5 {
        let l = ui.label("Search");
        ui.add(egui::TextEdit::singleline(&mut panel.search).hint_text("Search profiles"))
            .labelled_by(l.id);
    }
    let needle = panel.search.to_lowercase();
    egui::ScrollArea::vertical()
        .id_salt("profile-list")
        .max_height(220.0)
        .show(ui, |ui| {
            if panel.file.profiles.is_empty() {
                ui.label(RichText::new("No saved connections. Press “New”.").weak());
            }
            // Groups in alphabetical order (ungrouped first), profiles sorted by name inside.
            let mut order: Vec<usize> = (0..panel.file.profiles.len())
                .filter(|i| {
                    let p = &panel.file.profiles[*i];
                    needle.is_empty()
                        || p.name.to_lowercase().contains(&needle)
                        || p.host.to_lowercase().contains(&needle)
                        || p.group.to_lowercase().contains(&needle)
                })
                .collect();
            order.sort_by_key(|i| {
                let p = &panel.file.profiles[*i];
                (p.group.to_lowercase(), p.name.to_lowercase())
            });
            let mut current_group: Option<String> = None;
            for i in order {
                let p = &panel.file.profiles[i];
                if current_group.as_deref() != Some(p.group.as_str()) {
                    current_group = Some(p.group.clone());
                    if !p.group.is_empty() {
                        ui.label(RichText::new(format!("📁 {}", p.group)).strong());
                    }
                }
                let target = if p.sandbox.is_some() {
                    "embedded sandbox".to_owned()
                } else {
                    p.url()
                };
                let text = format!("{}  ·  {}", p.name, target);
                let indent = if p.group.is_empty() { 0.0 } else { 14.0 };
                let selected = panel.selected == Some(i);
                ui.horizontal(|ui| {
                    ui.add_space(indent);
                    if ui.selectable_label(selected, text).clicked() {
                        panel.selected = Some(i);
                        panel.url_error = None;
                    }
                });
            }
        });
    ui.separator();
    let Some(index) = panel.selected.filter(|i| *i < panel.file.profiles.len()) else {
        return;
    };
    ui.horizontal(|ui| {
        if ui.button(RichText::new("▶ Connect").strong()).clicked()
            && let Some(p) = panel.file.profiles.get(index)
        {
            actions.push(Action::Connect(Box::new(p.clone())));
        }
        let name = panel
            .file
            .profiles
            .get(index)
            .map(|p| p.name.as_str())
            .unwrap_or_default();
        if let Some((_, tab)) = open_tabs.iter().find(|(n, _)| n == name)
            && ui.button("⏏ Disconnect").clicked()
        {
            actions.push(Action::Disconnect(*tab));
        }
        if read_only {
            widgets::warning(ui, "read-only: the profiles file is from a newer Canopy");
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("profile-editor")
        .show(ui, |ui| {
            let changed = editor_ui(ui, panel, index, actions);
            if changed {
                panel.dirty = true;
            }
        });
}
