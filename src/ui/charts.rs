//! The charts window: numeric payloads and JSON fields of the active connection over time, in
//! one plot (zoom and pan with the mouse, pause, export as CSV).

use bytes::Bytes;
use egui::{Context, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::action::Action;
use super::tab::ConnectionTab;
use crate::ui::i18n::tr;

/// Draws the charts window of `tab` while `open`.
pub fn charts_ui(ctx: &Context, open: &mut bool, tab: &mut ConnectionTab, actions: &mut Vec<Action>) {
    egui::Window::new(tr!("charts.title"))
        .id(egui::Id::unique("charts-window"))
        .open(open)
        .default_size([760.0, 380.0])
        .default_pos([430.0, 440.0])
        .resizable(true)
        .show(ctx, |ui| {
            let charts = &mut tab.charts;
            ui.horizontal_wrapped(|ui| {
                ui.checkbox(&mut charts.paused, tr!("charts.pause"))
                    .on_hover_text(tr!("charts.pause_hover"));
                if ui.button(tr!("charts.export_csv")).clicked() {
                    actions.push(Action::SaveFile {
                        what: "Series",
                        suggested_name: "canopy-series.csv".into(),
                        bytes: Bytes::from(charts.to_csv()),
                    });
                }
                ui.separator();
                let mut remove = None;
                for (i, s) in charts.series.iter().enumerate() {
                    ui.label(
                        RichText::new(format!("{} ({})", s.label(), s.points.len()))
                            .monospace()
                            .small(),
                    );
                    if super::widgets::icon_button(ui, "✖", &tr!("charts.stop")).clicked() {
                        remove = Some(i);
                    }
                }
                if let Some(i) = remove {
                    charts.remove(i);
                }
            });
            if charts.is_empty() {
                ui.label(RichText::new(tr!("charts.empty")).weak());
                return;
            }
            let paused = charts.paused;
            let mut plot = Plot::new(("charts", tab.id))
                .legend(Legend::default().position(egui_plot::Corner::LeftTop))
                .x_axis_formatter(|mark, _| clock(mark.value));
            if !paused {
                plot = plot.auto_bounds(egui::Vec2b::new(true, true));
            }
            plot.show(ui, |plot_ui| {
                for s in &charts.series {
                    let points: Vec<[f64; 2]> = s.points.iter().copied().collect();
                    plot_ui.line(Line::new(s.label(), PlotPoints::from(points)));
                }
            });
        });
}

/// Local wall-clock time of a Unix timestamp in seconds.
fn clock(seconds: f64) -> String {
    chrono::DateTime::from_timestamp_millis((seconds * 1000.0) as i64)
        .map(|d| d.with_timezone(&chrono::Local).format("%H:%M:%S").to_string())
        .unwrap_or_default()
}
