//! The broker statistics window: clients, message rates, uptime and version from `$SYS`, with
//! small charts of the rates.

use egui::{Context, RichText};
use egui_plot::{Line, Plot, PlotPoints};

use super::tab::ConnectionTab;
use crate::model::sys_stats::{self, Layout};
use crate::ui::i18n::tr;

/// Draws the broker statistics of `tab` while `open`.
pub fn broker_stats_ui(ctx: &Context, open: &mut bool, tab: &mut ConnectionTab) {
    let stats = sys_stats::read(&mut tab.tree);
    egui::Window::new(tr!("broker.title"))
        .id(egui::Id::unique("broker-window"))
        .open(open)
        .default_size([520.0, 460.0])
        .default_pos([440.0, 120.0])
        .resizable(true)
        .show(ctx, |ui| {
            let Some(stats) = stats else {
                ui.label(RichText::new(tr!("broker.no_sys")).weak());
                return;
            };
            ui.label(
                RichText::new(match stats.layout {
                    Layout::Mosquitto => tr!("broker.layout_mosquitto"),
                    Layout::Emqx => tr!("broker.layout_emqx"),
                })
                .weak()
                .small(),
            );
            egui::Grid::new(("broker-stats", tab.id))
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    for f in &stats.figures {
                        ui.label(f.label);
                        ui.label(RichText::new(&f.text).monospace());
                        ui.end_row();
                    }
                });
            for f in stats.figures.iter().filter(|f| f.history.len() > 1) {
                ui.label(RichText::new(f.label).small());
                Plot::new(("broker-plot", tab.id, f.label))
                    .height(70.0)
                    .show_axes([false, true])
                    .allow_scroll(false)
                    .allow_drag(false)
                    .allow_zoom(false)
                    .show(ui, |p| {
                        p.line(Line::new(f.label, PlotPoints::from(f.history.clone())))
                    });
            }
        });
}
