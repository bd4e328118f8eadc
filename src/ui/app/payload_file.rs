//! A file as the publish panel's payload: picked with the system dialog, read off the UI
//! thread with the same cap as `canopy pub -f` (one MQTT packet's worth), sent byte for byte.

use std::path::PathBuf;

use super::CanopyApp;
use super::jobs::{Background, file_dialog, picked};
use crate::fsutil::{PAYLOAD_LIMIT, read_capped};
use crate::ui::i18n::tr;
use crate::ui::notices::Level;
use crate::ui::publish::PayloadFile;

impl CanopyApp {
    /// Opens the picker; the choice is read by [`CanopyApp::load_payload_file`].
    pub(super) fn pick_payload_file(&mut self) {
        self.jobs.spawn_once("pick-payload", move || {
            match picked(|| file_dialog(&tr!("publish.file_pick"), None, &[]).pick_file()) {
                Ok(path) => Some(Background::PayloadFile(read(path))),
                Err(no_picker) => no_picker,
            }
        });
    }

    /// Reads `path` in the background as the payload.
    pub(super) fn load_payload_file(&mut self, path: PathBuf) {
        self.jobs
            .spawn_once("read-payload", move || Some(Background::PayloadFile(read(path))));
    }

    /// The file read: it becomes the payload, or a notice says why not (the editor's text
    /// stays as it was).
    pub(super) fn payload_file_read(&mut self, result: Result<PayloadFile, String>) {
        match result {
            Ok(file) => self.persisted.publish.file = Some(file),
            Err(why) => self.notices.push(Level::Error, why),
        }
    }
}

/// Reads a payload file, capped; the error in words (never the bytes).
fn read(path: PathBuf) -> Result<PayloadFile, String> {
    let bytes = read_capped(&path, PAYLOAD_LIMIT, "a payload").map_err(|e| e.to_string())?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(PayloadFile {
        name,
        bytes: bytes.into(),
    })
}
