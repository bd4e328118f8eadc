//! Protobuf schemas in the app: compiling a connection's `.proto` files in the background (at
//! connect, when the file or folder changes, on Reload), saving the settings in its profile,
//! and encoding JSON published to a bound topic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::CanopyApp;
use super::jobs::{Background, file_dialog, picked};
use crate::engine::ConnectionId;
use crate::model::message::OutgoingMessage;
use crate::model::proto::{Decoder, ProtoSettings, Schema, SchemaState};
use crate::ui::i18n::tr;
use crate::ui::notices::Level;

impl CanopyApp {
    /// Brings a connection's schema in line with its profile: off without a path, the
    /// compiled schema with new bindings when only they changed, else compiled on a thread
    /// (`force`: even when the path is the same, for Reload).
    pub(super) fn load_schema(&mut self, conn: ConnectionId, force: bool) {
        let Some(tab) = self.tabs.iter_mut().find(|t| t.id == conn) else {
            return;
        };
        let settings = &tab.profile.proto;
        let Some(path) = settings.path.clone() else {
            tab.proto = SchemaState::Off;
            tab.charts.decoder = None;
            tab.render_cache = None;
            return;
        };
        if let SchemaState::Ready(decoder) = &tab.proto
            && decoder.schema().source == path
            && !force
        {
            let decoder = decoder.with_bindings(&settings.bindings);
            set_decoder(tab, decoder);
            return;
        }
        tab.proto = SchemaState::Compiling;
        self.jobs.spawn_once("schema", move || {
            let result = Schema::compile(&path).map(Arc::new).map_err(|e| e.to_string());
            Some(Background::SchemaCompiled { conn, path, result })
        });
    }

    /// A compile ended: the schema decodes the tab's bound topics from now on, or the error
    /// shows in the Schemas window and as a notice. A result for a path the profile no longer
    /// has is dropped.
    pub(super) fn schema_compiled(
        &mut self,
        conn: ConnectionId,
        path: &Path,
        result: Result<Arc<Schema>, String>,
    ) {
        let Some(tab) = self.tabs.iter_mut().find(|t| t.id == conn) else {
            return;
        };
        if tab.profile.proto.path.as_deref() != Some(path) {
            return;
        }
        match result {
            Ok(schema) => {
                let decoder = Decoder::new(schema, &tab.profile.proto.bindings);
                let unknown: Vec<String> = decoder
                    .unknown_types()
                    .map(|(b, e)| format!("{}: {e}", b.pattern))
                    .collect();
                set_decoder(tab, decoder);
                for problem in unknown {
                    self.notices.push(Level::Warning, problem);
                }
            }
            Err(e) => {
                tab.proto = SchemaState::Failed(e.clone());
                tab.charts.decoder = None;
                tab.render_cache = None;
                self.notices.push(
                    Level::Error,
                    tr!("proto.does_not_compile", path = path.display(), error = e).into_owned(),
                );
            }
        }
    }

    /// Saves the active connection's schema settings in its profile and applies them to
    /// every open tab of that profile.
    pub(super) fn set_proto(&mut self, settings: ProtoSettings) {
        let Some(id) = self.tabs.get(self.active).map(|t| t.profile.id.clone()) else {
            return;
        };
        let conns: Vec<ConnectionId> = self
            .tabs
            .iter_mut()
            .filter(|t| t.profile.id == id)
            .map(|t| {
                t.profile.proto = settings.clone();
                t.id
            })
            .collect();
        for conn in conns {
            self.load_schema(conn, false);
        }
        match self.profiles.file.profiles.iter_mut().find(|p| p.id == id) {
            Some(saved) => {
                saved.proto = settings;
                self.profiles.dirty = true;
            }
            None => self.notices.push(Level::Info, tr!("proto.unsaved").into_owned()),
        }
    }

    /// Compiles the active connection's schema again.
    pub(super) fn reload_proto(&mut self) {
        if let Some(conn) = self.tabs.get(self.active).map(|t| t.id) {
            self.load_schema(conn, true);
        }
    }

    /// Opens the picker for a `.proto` file or folder; the choice arrives as
    /// [`Background::ProtoPicked`].
    pub(super) fn pick_proto(&mut self, folder: bool) {
        self.jobs.spawn_once("pick-proto", move || {
            let path = if folder {
                picked(|| file_dialog(&tr!("proto.pick_folder"), None, &[]).pick_folder())
            } else {
                let filters: [(&str, &[&str]); 2] = [("Protobuf schemas", &["proto"]), ("All files", &["*"])];
                picked(|| file_dialog(&tr!("proto.pick_file"), None, &filters).pick_file())
            };
            match path {
                Ok(path) => Some(Background::ProtoPicked(path)),
                Err(no_picker) => no_picker,
            }
        });
    }

    /// A picked file or folder becomes the active connection's schema.
    pub(super) fn proto_picked(&mut self, path: PathBuf) {
        if let Some(tab) = self.tabs.get(self.active) {
            let mut settings = tab.profile.proto.clone();
            settings.path = Some(path);
            self.set_proto(settings);
        }
    }

    /// The message as it goes out: JSON encoded with the type bound to its topic (on the
    /// active connection), unchanged when none is bound. `None` when the JSON does not fit
    /// the type: nothing is sent and an error notice says why.
    pub(super) fn encode_bound(&mut self, mut message: OutgoingMessage) -> Option<OutgoingMessage> {
        let Some(decoder) = self.tabs.get(self.active).and_then(|t| t.proto.decoder()) else {
            return Some(message);
        };
        let json = String::from_utf8_lossy(&message.payload);
        match decoder.encode(&message.topic, &json) {
            None => {}
            Some(Ok(bytes)) => message.payload = bytes.into(),
            Some(Err(e)) => {
                self.notices.push(
                    Level::Error,
                    tr!("proto.not_published", topic = message.topic, error = e).into_owned(),
                );
                return None;
            }
        }
        Some(message)
    }
}

/// Puts a ready decoder in a tab: the views and charts decode with it from the next frame.
fn set_decoder(tab: &mut crate::ui::tab::ConnectionTab, decoder: Decoder) {
    tab.charts.decoder = Some(decoder.clone());
    tab.proto = SchemaState::Ready(decoder);
    tab.render_cache = None;
}
