//! The protocol timeline's side of the app: which packets each connection traces (every one
//! only while the timeline window shows that connection), and the JSON Lines export.

use std::path::PathBuf;

use super::CanopyApp;
use crate::engine::{Command, ConnectionId, TraceLevel};
use crate::model::timeline::to_jsonl;

impl CanopyApp {
    /// Asks the engine for every packet of the connection the timeline window shows and only
    /// the control packets of the others, so a fast subscription costs no tracing while
    /// nobody looks (sends a command only when a level changes).
    pub(super) fn sync_trace(&mut self) {
        for (i, tab) in self.tabs.iter_mut().enumerate() {
            let wanted = if self.persisted.show_timeline && i == self.active {
                TraceLevel::Packets
            } else {
                TraceLevel::Control
            };
            if tab.timeline.trace_level != wanted && !tab.state().is_final() {
                tab.timeline.trace_level = wanted;
                self.engine.send(Command::Trace {
                    id: tab.id,
                    level: wanted,
                });
            }
        }
    }

    /// Writes the rows the timeline of `id` shows (its filter applies) as JSON Lines, to
    /// `path` or a file the user picks; formatting runs on the save job's thread.
    pub(super) fn export_timeline(&mut self, id: ConnectionId, path: Option<PathBuf>) {
        let Some(tab) = self.tabs.iter().find(|t| t.id == id) else {
            return;
        };
        let panel = &tab.timeline;
        let rows = panel.timeline.snapshot(&panel.filter);
        let started = panel.timeline.started();
        // A name that is safe as a file name whatever the profile is called.
        let safe: String = tab
            .profile
            .name
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' })
            .collect();
        let name = format!("canopy-timeline-{safe}.jsonl");
        self.save_file_to(path, "Timeline", name, move || {
            Ok(to_jsonl(&rows, started).into_bytes())
        });
    }
}
