//! `--trace-packets`: one line per MQTT packet on stderr (text, or JSON Lines with `-F
//! jsonl`), so standard output stays the messages. Latencies and the `DUP` / `SLOW` markers
//! come from the same timeline the window shows.

use std::io::Write as _;
use std::time::SystemTime;

use crate::engine::Event;
use crate::model::timeline::{Row, Timeline, jsonl_line, text_line};
use crate::profiles::Profile;

/// Prints traced packets as they arrive.
pub(crate) struct PacketPrinter {
    /// Only pairs acknowledgements with their PUBLISH: one row is kept, the rest printed.
    timeline: Timeline,
    json: bool,
}

impl PacketPrinter {
    pub(crate) fn new(json: bool) -> Self {
        Self {
            timeline: Timeline::with_capacity(1),
            json,
        }
    }

    /// Prints what `event` says about packets and state changes; ignores the rest.
    pub(crate) fn event(&mut self, event: &Event) {
        // State changes come as trace entries too, stamped by the engine in order.
        if let Event::Trace { entries, .. } = event {
            for entry in entries {
                self.timeline.push(entry.clone());
                self.print_last();
            }
        }
    }

    /// Prints the row just added.
    fn print_last(&self) {
        if let Some(row) = self.timeline.rows().back() {
            let line = render(row, self.timeline.started(), self.json);
            // stderr gone: nowhere left to say it.
            writeln!(std::io::stderr().lock(), "{line}").ok();
        }
    }
}

fn render(row: &Row, started: Option<SystemTime>, json: bool) -> String {
    if json {
        jsonl_line(row, started)
    } else {
        text_line(row, started)
    }
}

/// The warning printed when TLS keys will be written: opted in and `SSLKEYLOGFILE` set, or
/// opted in without the variable (then nothing is written, and the user should know why).
pub(crate) fn keylog_warning(p: &Profile) -> Option<String> {
    if !p.tls.key_log {
        return None;
    }
    if !p.transport.is_tls() {
        return Some("warning: --keylog does nothing without TLS".to_owned());
    }
    Some(match crate::engine::tls::key_log_file(&p.tls) {
        Some(path) => format!(
            "warning: --keylog: TLS session keys are written to {} (SSLKEYLOGFILE); anyone with \
             that file can decrypt the captured traffic — for debugging only",
            path.display()
        ),
        None => "warning: --keylog: SSLKEYLOGFILE is not set, so no keys are written".to_owned(),
    })
}
