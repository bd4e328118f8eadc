//! The connections column: a compact list of saved profiles (groups, search when the list is
//! long, connect / edit / duplicate / delete with confirmation, import and export), and the
//! editor of one profile as a sheet beside it that opens on Edit and closes with ✖
//! (`editor.rs`). The list used to carry the whole editor under it, which left the tree a
//! narrow column on a 1440-px window or a projector.

use std::collections::HashMap;
use std::path::PathBuf;

use super::action::FileTarget;

mod editor;
mod list;
mod welcome;
use crate::profiles::profile::{Profile, ProfileId};
use crate::profiles::store::ProfilesFile;
pub use editor::editor_sheet_ui;
pub use list::profiles_ui;
pub use welcome::welcome_ui;

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
    /// The editor sheet is open for the selected profile.
    pub editor_open: bool,
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

    /// Adds a profile, selects it and opens it in the editor (a new profile is there to be
    /// filled in).
    pub fn add(&mut self, mut profile: Profile) {
        profile.name = self.unique_name(&profile.name);
        self.file.profiles.push(profile);
        self.selected = Some(self.file.profiles.len() - 1);
        self.editor_open = true;
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
