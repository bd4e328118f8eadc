//! The protocol timeline window of the active connection: every MQTT packet with its time,
//! direction, packet id, topic, details and the time its acknowledgement took; a filter row
//! (packet types, topic, packet id) and an export to JSON Lines. Rows are drawn with
//! `show_rows`, so 10,000 of them cost what the visible ones cost; the filtered positions are
//! cached until the timeline or the filter changes.

use egui::{Color32, Context, RichText};

use super::action::Action;
use crate::engine::{ConnectionId, TraceLevel};
use crate::model::timeline::{Filter, PacketEntry, PacketKind, Row, Timeline};
use crate::ui::i18n::tr;

/// One connection's timeline and how its window shows it.
#[derive(Debug, Default)]
pub struct TimelinePanel {
    /// The packets.
    pub timeline: Timeline,
    /// What the window shows (and exports).
    pub filter: Filter,
    /// The packet id field as typed (the filter holds it once it parses).
    pkid_text: String,
    /// Positions of the rows the filter passes, for the timeline generation and filter
    /// they were computed for.
    shown: Option<(u64, Filter, Vec<usize>)>,
    /// The level last asked of the engine (the app keeps it in step with the window).
    pub trace_level: TraceLevel,
}

impl TimelinePanel {
    /// Adds packets the engine traced.
    pub fn extend(&mut self, entries: Vec<PacketEntry>) {
        for entry in entries {
            self.timeline.push(entry);
        }
    }

    /// Positions of the rows shown, recomputed only when something changed.
    fn shown(&mut self) -> &[usize] {
        let generation = self.timeline.generation();
        let stale = self
            .shown
            .as_ref()
            .is_none_or(|(g, f, _)| *g != generation || *f != self.filter);
        if stale {
            let positions = self.timeline.matching(&self.filter);
            self.shown = Some((generation, self.filter.clone(), positions));
        }
        self.shown.as_ref().map_or(&[], |(_, _, p)| p.as_slice())
    }
}

/// Draws the timeline window of connection `id` while `open`.
pub fn timeline_ui(
    ctx: &Context,
    open: &mut bool,
    id: ConnectionId,
    panel: &mut TimelinePanel,
    actions: &mut Vec<Action>,
) {
    // Below the tab's header, over the tree, as tall as the window allows: the top bar and
    // the tab's buttons stay reachable.
    let screen = ctx.content_rect();
    egui::Window::new(tr!("timeline.title"))
        .id(egui::Id::unique("timeline-window"))
        .open(open)
        .default_pos([24.0, 130.0])
        .default_size([860.0, (screen.height() - 200.0).clamp(300.0, 640.0)])
        .resizable(true)
        .show(ctx, |ui| {
            filter_ui(ui, panel);
            ui.horizontal(|ui| {
                let total = panel.timeline.rows().len();
                let dropped = panel.timeline.dropped();
                let shown = panel.shown().len();
                let mut summary = tr!("timeline.summary", shown = shown, total = total).into_owned();
                if dropped > 0 {
                    summary.push_str(&tr!("timeline.dropped", n = dropped));
                }
                ui.label(RichText::new(summary).strong());
                if ui
                    .button(tr!("timeline.export"))
                    .on_hover_text(tr!("timeline.export_hover"))
                    .clicked()
                {
                    actions.push(Action::ExportTimeline { tab: id, path: None });
                }
                if ui.button(tr!("timeline.clear")).clicked() {
                    panel.timeline.clear();
                }
            });
            ui.separator();
            rows_ui(ui, panel);
        });
}

/// Packet-type toggles, topic and packet id fields.
fn filter_ui(ui: &mut egui::Ui, panel: &mut TimelinePanel) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 3.0;
        for kind in PacketKind::ALL {
            let shown = panel.filter.shows(kind);
            let toggle = ui
                .selectable_label(shown, RichText::new(kind.name()).small())
                .on_hover_text(tr!("timeline.toggle_hover", kind = kind.name()));
            if toggle.clicked() {
                panel.filter.set_shown(kind, !shown);
            }
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label(tr!("timeline.topic"));
        ui.add(
            egui::TextEdit::singleline(&mut panel.filter.topic)
                .hint_text(tr!("timeline.topic_hint"))
                .desired_width(220.0),
        )
        .labelled_by(l.id);
        let l = ui.label(tr!("timeline.packet_id"));
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut panel.pkid_text)
                    .hint_text(tr!("timeline.any"))
                    .desired_width(60.0),
            )
            .labelled_by(l.id);
        if field.changed() {
            panel.filter.pkid = panel.pkid_text.trim().parse().ok();
        }
        if !panel.pkid_text.trim().is_empty() && panel.filter.pkid.is_none() {
            ui.label(RichText::new(tr!("timeline.packet_id_range")).weak());
        }
    });
}

/// The rows, virtualised.
fn rows_ui(ui: &mut egui::Ui, panel: &mut TimelinePanel) {
    let row_height = ui.spacing().interact_size.y;
    let warn = ui.visuals().warn_fg_color;
    let started = panel.timeline.started();
    // Taken out for the frame so the rows can be borrowed beside it.
    let shown = panel.shown().to_vec();
    let rows = panel.timeline.rows();
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .stick_to_bottom(true)
        .show_rows(ui, row_height, shown.len(), |ui, range| {
            for &i in &shown[range] {
                if let Some(row) = rows.get(i) {
                    row_ui(ui, row, started, warn);
                }
            }
        });
}

fn row_ui(ui: &mut egui::Ui, row: &Row, started: Option<std::time::SystemTime>, warn: Color32) {
    let e = &row.entry;
    let ms = started
        .and_then(|s| e.at.duration_since(s).ok())
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let tint = |text: RichText| if row.stands_out() { text.color(warn) } else { text };
    ui.horizontal(|ui| {
        cell(ui, 84.0, RichText::new(format!("{ms:.1} ms")).monospace().weak());
        cell(ui, 16.0, RichText::new(e.direction.arrow()).monospace());
        cell(ui, 96.0, tint(RichText::new(e.kind.name()).monospace().strong()));
        let pkid = if e.pkid == 0 {
            String::new()
        } else {
            e.pkid.to_string()
        };
        cell(ui, 44.0, RichText::new(pkid).monospace());
        let latency = row
            .latency
            .map_or(String::new(), |l| format!("{:.1} ms", l.as_secs_f64() * 1000.0));
        cell(ui, 76.0, tint(RichText::new(latency).monospace()));
        let mut marks = String::new();
        if e.dup {
            marks.push_str("⟲ DUP ");
        }
        if row.slow {
            marks.push_str("⚠ SLOW ");
        }
        if !marks.is_empty() {
            ui.label(RichText::new(marks).color(warn).strong());
        }
        if let Some(topic) = &e.topic {
            ui.label(RichText::new(topic).monospace());
        }
        let mut details = String::new();
        if let Some(q) = e.qos {
            details.push_str(&format!("QoS {}", q.level()));
        }
        if let Some(size) = e.size {
            details.push_str(&format!(", {}", crate::model::units::bytes(u64::from(size))));
        }
        if e.retain {
            details.push_str(", retain");
        }
        if !e.details.is_empty() {
            if !details.is_empty() {
                details.push_str(", ");
            }
            details.push_str(&e.details);
        }
        ui.label(RichText::new(details).weak());
    });
}

/// A label in a column of fixed width.
fn cell(ui: &mut egui::Ui, width: f32, text: RichText) {
    ui.add_sized(
        [width, ui.spacing().interact_size.y],
        egui::Label::new(text).truncate(),
    );
}

/// The profile editor's opt-in for writing TLS session keys; true when it changed.
pub fn key_log_ui(ui: &mut egui::Ui, key_log: &mut bool) -> bool {
    let changed = ui
        .checkbox(key_log, tr!("timeline.keylog"))
        .on_hover_text(tr!("timeline.keylog_hover"))
        .changed();
    if *key_log {
        let words = match std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()) {
            Some(path) => {
                tr!("timeline.keylog_on", path = std::path::Path::new(&path).display()).into_owned()
            }
            None => tr!("timeline.keylog_unset").into_owned(),
        };
        super::widgets::warning(ui, words);
    }
    changed
}
