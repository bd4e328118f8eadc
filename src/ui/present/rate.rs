//! The presentation's message-rate chart: messages per second of the connection over the
//! last minutes, the current rate and the peak written beside it.

use std::time::Instant;

use egui::{RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};

use crate::model::present::format_number;
use crate::ui::i18n::tr;
use crate::ui::tab::ConnectionTab;

/// Seconds the chart spans at most (less just after connecting: a minute at least).
const SPAN: u64 = 300;

/// Draws the rate chart of `tab` in the whole of `ui`.
pub fn rate_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    let now = Instant::now();
    let points = tab.rate_history.points(now, SPAN);
    let current = tab.rate.rate(now);
    let peak = points.iter().map(|p| p[1]).fold(0.0, f64::max);
    let dark = ui.visuals().dark_mode;
    let color = super::accent(dark);
    ui.with_layout(egui::Layout::left_to_right(egui::Align::TOP), |ui| {
        ui.vertical(|ui| {
            ui.set_width(220.0);
            ui.label(RichText::new(tr!("present_rate.title")).weak());
            ui.label(
                RichText::new(format_number(current))
                    .size(44.0)
                    .strong()
                    .color(color),
            );
            ui.label(RichText::new(tr!("present_rate.peak", peak = format_number(peak))).weak());
            ui.label(
                RichText::new(tr!(
                    "present_rate.totals",
                    topics = crate::ui::widgets::count(u64::from(tab.tree.topic_count())),
                    messages = crate::ui::widgets::count(tab.tree.total_messages())
                ))
                .weak(),
            );
        });
        let grid = if dark {
            egui::Color32::from_gray(70)
        } else {
            egui::Color32::from_gray(200)
        };
        Plot::new(("present-rate", tab.id))
            .height(ui.available_height())
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .show_x(false)
            .show_background(false)
            .grid_color(grid)
            .include_x(-60.0)
            .include_x(0.0)
            .include_y(0.0)
            .include_y((peak * 1.15).max(1.0))
            .x_axis_formatter(|mark, _| minutes_ago(mark.value))
            .y_axis_min_width(36.0)
            .show(ui, |plot| {
                plot.line(
                    Line::new("msg/s", PlotPoints::from(points))
                        .color(color)
                        .width(2.0)
                        .fill(0.0)
                        .fill_alpha(0.18),
                );
            });
    });
}

/// An axis mark: "now", "−30 s", "−90 s", "−3 min", "−2:30".
fn minutes_ago(seconds: f64) -> String {
    let s = (-seconds).round() as i64;
    match s {
        0 => "now".to_owned(),
        s if s < 0 => String::new(),
        // Seconds up to two minutes ("−90 s" beside "−60 s", not "−1 min").
        s if s < 120 => format!("−{s} s"),
        s if s % 60 == 0 => format!("−{} min", s / 60),
        s => format!("−{}:{:02}", s / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_axis_counts_back_from_now() {
        assert_eq!(super::minutes_ago(0.0), "now");
        assert_eq!(super::minutes_ago(-120.0), "−2 min");
        assert_eq!(super::minutes_ago(-60.0), "−60 s");
        assert_eq!(super::minutes_ago(-150.0), "−2:30");
        assert_eq!(super::minutes_ago(-30.0), "−30 s");
        assert_eq!(super::minutes_ago(10.0), "");
    }
}
