//! The report card itself: a header (broker, software, date, verdict), Protocol and Features
//! beside the MQTT 5 limits, Performance (latency bars, throughput, largest payload) and the
//! notes that keep the figures honest. Colours come from the theme, so dark and light both
//! work; every painted row carries an accessible name ("Retained messages: ✓ yes").

use egui::{Align2, Color32, CornerRadius, FontId, Frame, Rect, RichText, Sense, Stroke, Ui, vec2};

use super::layout;
use crate::probe::render::{self, Item, Section};
use crate::probe::report::{Latency, Report, Support, Throughput};

/// Height of a check row, in points.
const ROW_HEIGHT: f32 = 22.0;
/// Height of a latency bar, in points.
const BAR_HEIGHT: f32 = 14.0;
/// Gap between the two columns and between sections, in points.
const GAP: f32 = 14.0;

/// Draws the card; returns where it is (the region a PNG export keeps).
pub(super) fn card_ui(ui: &mut Ui, report: &Report, quick: bool) -> Rect {
    let visuals = ui.visuals().clone();
    let items = render::items(report);
    Frame::new()
        .fill(card_fill(ui))
        .stroke(Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color))
        .corner_radius(CornerRadius::same(12))
        .inner_margin(22)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.spacing_mut().item_spacing.y = 4.0;
            header_ui(ui, report, &items);
            ui.add_space(GAP);
            let half = (ui.available_width() - GAP) / 2.0;
            ui.horizontal_top(|ui| {
                ui.spacing_mut().item_spacing.x = GAP;
                ui.vertical(|ui| {
                    ui.set_width(half);
                    section_ui(ui, "Protocol", |ui| protocol_ui(ui, report, &items));
                    ui.add_space(GAP - 4.0);
                    section_ui(ui, "Features", |ui| rows_ui(ui, &items, Section::Features));
                });
                ui.vertical(|ui| {
                    ui.set_width(half);
                    section_ui(ui, "MQTT 5 limits", |ui| {
                        if report.mqtt5.is_some() {
                            rows_ui(ui, &items, Section::Mqtt5);
                        } else {
                            ui.label(RichText::new("Not spoken by this broker.").weak());
                        }
                    });
                });
            });
            ui.add_space(GAP - 4.0);
            let title = if report.speed_tested_with == report.tested_with {
                "Performance".to_owned()
            } else {
                format!("Performance  ·  measured with {}", report.speed_tested_with)
            };
            section_ui(ui, &title, |ui| performance_ui(ui, report, &items));
            ui.add_space(GAP - 4.0);
            notes_ui(ui, report, quick);
        })
        .response
        .rect
}

/// The card's own background: a step away from the window's, so it reads as a sheet.
fn card_fill(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(24, 26, 30)
    } else {
        Color32::from_rgb(252, 252, 250)
    }
}

/// A section's background on the card.
fn section_fill(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(34, 37, 43)
    } else {
        Color32::from_rgb(242, 243, 240)
    }
}

/// The colour of a mark: green, red or amber, readable in either theme.
fn support_color(ui: &Ui, support: &Support) -> Color32 {
    match support {
        Support::Supported => crate::ui::widgets::ok_color(ui),
        Support::NotSupported => ui.visuals().error_fg_color,
        Support::Unknown(_) => ui.visuals().warn_fg_color,
    }
}

/// Names as the card shows them: no Markdown back-ticks.
fn plain(name: &str) -> String {
    name.replace('`', "")
}

fn header_ui(ui: &mut Ui, report: &Report, items: &[Item]) {
    let weak = ui.visuals().weak_text_color();
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("BROKER REPORT CARD")
                .size(12.0)
                .strong()
                .color(weak)
                .extra_letter_spacing(1.5),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                RichText::new(format!("Canopy {}", env!("CARGO_PKG_VERSION")))
                    .size(12.0)
                    .color(weak),
            );
        });
    });
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(&report.broker)
                .size(24.0)
                .strong()
                .color(ui.visuals().strong_text_color()),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            verdict_ui(ui, items);
        });
    });
    let mut line = Vec::new();
    if let Some(software) = &report.broker_software {
        line.push(software.clone());
    }
    line.push(layout::date(&report.started));
    line.push(format!("probed in {:.1} s", report.duration_secs));
    line.push(format!("tested with {}", report.tested_with));
    ui.label(RichText::new(line.join("  ·  ")).size(14.0).color(weak));
}

/// How many checks passed, failed and stayed unknown, as three coloured counts.
fn verdict_ui(ui: &mut Ui, items: &[Item]) {
    // Right to left: the last drawn first.
    for support in [
        Support::Unknown(String::new()),
        Support::NotSupported,
        Support::Supported,
    ] {
        let n = items
            .iter()
            .filter(|i| std::mem::discriminant(&i.check.support) == std::mem::discriminant(&support))
            .count();
        if n == 0 && !matches!(support, Support::Supported) {
            continue;
        }
        let color = support_color(ui, &support);
        ui.label(RichText::new(n.to_string()).size(20.0).strong().color(color));
        let (rect, response) = ui.allocate_exact_size(vec2(18.0, 22.0), Sense::hover());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{} {n}", render::mark(&support)))
        });
        paint_mark(ui.painter(), rect.center(), 16.0, &support, color);
        ui.add_space(8.0);
    }
}

/// A titled, tinted box the width of its column.
fn section_ui(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui)) {
    Frame::new()
        .fill(section_fill(ui))
        .corner_radius(CornerRadius::same(8))
        .inner_margin(12)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                RichText::new(title.to_uppercase())
                    .size(12.0)
                    .strong()
                    .color(ui.visuals().weak_text_color())
                    .extra_letter_spacing(1.2),
            );
            ui.add_space(2.0);
            add(ui);
        });
}

/// The three versions as chips, then the QoS granted.
fn protocol_ui(ui: &mut Ui, report: &Report, items: &[Item]) {
    ui.horizontal(|ui| {
        for (name, check) in [
            ("MQTT 5.0", &report.versions.v5),
            ("MQTT 3.1.1", &report.versions.v3_1_1),
            ("MQTT 3.1", &report.versions.v3_1),
        ] {
            chip_ui(ui, name, &check.support).on_hover_text(&check.detail);
        }
    });
    ui.add_space(2.0);
    for item in items.iter().filter(|i| i.name == "Max QoS granted") {
        row_ui(ui, item);
    }
}

/// A rounded label tinted by its answer, its mark painted (the window's fonts have no ✓ or
/// ✗); screen readers and tests read `name` and the mark ("MQTT 5.0 ✓").
fn chip_ui(ui: &mut Ui, name: &str, support: &Support) -> egui::Response {
    let color = support_color(ui, support);
    let galley = ui
        .painter()
        .layout_no_wrap(name.to_owned(), FontId::proportional(14.0), color);
    let mark = 14.0;
    let size = vec2(galley.size().x + mark + 28.0, galley.size().y + 8.0);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Label,
            true,
            format!("{name} {}", render::mark(support)),
        )
    });
    let painter = ui.painter();
    painter.rect(
        rect,
        CornerRadius::same(12),
        color.gamma_multiply(0.16),
        Stroke::new(1.0, color.gamma_multiply(0.6)),
        egui::StrokeKind::Inside,
    );
    let text_pos = egui::pos2(rect.left() + 10.0, rect.center().y - galley.size().y / 2.0);
    painter.galley(text_pos, galley, color);
    let mark_center = egui::pos2(rect.right() - 10.0 - mark / 2.0, rect.center().y);
    paint_mark(painter, mark_center, mark, support, color);
    response
}

/// ✓, ✗ or ? drawn in a square of `size` points around `center`.
fn paint_mark(painter: &egui::Painter, center: egui::Pos2, size: f32, support: &Support, color: Color32) {
    let s = size / 2.0;
    let stroke = Stroke::new((size / 6.0).max(1.5), color);
    let at = |x: f32, y: f32| center + vec2(x * s, y * s);
    match support {
        Support::Supported => {
            painter.line(vec![at(-0.8, 0.05), at(-0.25, 0.6), at(0.85, -0.65)], stroke);
        }
        Support::NotSupported => {
            painter.line_segment([at(-0.65, -0.65), at(0.65, 0.65)], stroke);
            painter.line_segment([at(-0.65, 0.65), at(0.65, -0.65)], stroke);
        }
        Support::Unknown(_) => {
            painter.text(
                center,
                Align2::CENTER_CENTER,
                "?",
                FontId::proportional(size * 1.2),
                color,
            );
        }
    }
}

/// Every item of `section`, one row each.
fn rows_ui(ui: &mut Ui, items: &[Item], section: Section) {
    for item in items.iter().filter(|i| i.section == section) {
        row_ui(ui, item);
    }
}

/// One check: mark, name and the short answer on the right; the detail on hover, and under
/// the row when the answer is not a plain yes (that is where the reason is).
fn row_ui(ui: &mut Ui, item: &Item) {
    let support = &item.check.support;
    let (rect, response) = ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let name = plain(item.name);
    let short = item.short();
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Label, true, format!("{name}: {}", item.answer()))
    });
    let painter = ui.painter();
    let visuals = ui.visuals();
    let font = FontId::proportional(14.5);
    let y = rect.center().y;
    paint_mark(
        painter,
        egui::pos2(rect.left() + 8.0, y),
        13.0,
        support,
        support_color(ui, support),
    );
    painter.text(
        egui::pos2(rect.left() + 24.0, y),
        Align2::LEFT_CENTER,
        &name,
        font.clone(),
        visuals.text_color(),
    );
    painter.text(
        egui::pos2(rect.right(), y),
        Align2::RIGHT_CENTER,
        &short,
        font,
        visuals.strong_text_color(),
    );
    response.on_hover_text(&item.check.detail);
    if !matches!(support, Support::Supported) {
        ui.horizontal(|ui| {
            ui.add_space(24.0);
            ui.add(egui::Label::new(RichText::new(&item.check.detail).size(12.5).weak()).wrap());
        });
    }
}

/// Latency bars on the left half; throughput and the largest payload in two narrow columns
/// on the right.
fn performance_ui(ui: &mut Ui, report: &Report, items: &[Item]) {
    let half = (ui.available_width() - GAP) / 2.0;
    let quarter = (half - GAP) / 2.0;
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = GAP;
        ui.vertical(|ui| {
            ui.set_width(half);
            latency_ui(ui, &report.latency);
        });
        ui.vertical(|ui| {
            ui.set_width(quarter);
            throughput_ui(ui, &report.throughput);
        });
        ui.vertical(|ui| {
            ui.set_width(quarter);
            ui.label(RichText::new("Largest payload").size(15.0).strong());
            for item in items.iter().filter(|i| i.section == Section::Size) {
                tile_ui(ui, &item.short(), "round-tripped", &item.check.detail);
            }
        });
    });
}

/// p50 and p99 per QoS as bullet bars on one scale: the p99 bar light, the p50 bar solid
/// inside it (the median is never above the 99th percentile).
fn latency_ui(ui: &mut Ui, latency: &[Latency]) {
    ui.label(RichText::new("Latency (round trip)").size(15.0).strong());
    if latency.is_empty() {
        ui.label(RichText::new("Not measured.").weak());
        return;
    }
    let top = layout::nice_ceiling(latency.iter().map(|l| l.p99_ms).fold(0.0, f64::max));
    let accent = ui.visuals().hyperlink_color;
    let light = accent.gamma_multiply(0.35);
    let text = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let label_width = 52.0;
    let figures_width = 150.0;
    for l in latency {
        let (rect, response) = ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
        let summary = format!(
            "QoS {}: p50 {}, p99 {}",
            l.qos,
            layout::millis(l.p50_ms),
            layout::millis(l.p99_ms)
        );
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &summary));
        let painter = ui.painter();
        let y = rect.center().y;
        painter.text(
            egui::pos2(rect.left(), y),
            Align2::LEFT_CENTER,
            format!("QoS {}", l.qos),
            FontId::proportional(14.0),
            text,
        );
        let track = Rect::from_min_max(
            egui::pos2(rect.left() + label_width, y - BAR_HEIGHT / 2.0),
            egui::pos2(rect.right() - figures_width, y + BAR_HEIGHT / 2.0),
        );
        let bar =
            |fraction: f32| Rect::from_min_size(track.min, vec2(track.width() * fraction, track.height()));
        painter.rect_filled(track, CornerRadius::same(3), weak.gamma_multiply(0.12));
        painter.rect_filled(
            bar(layout::bar_fraction(l.p99_ms, top, 0.01)),
            CornerRadius::same(3),
            light,
        );
        painter.rect_filled(
            bar(layout::bar_fraction(l.p50_ms, top, 0.01)),
            CornerRadius::same(3),
            accent,
        );
        painter.text(
            egui::pos2(rect.right(), y),
            Align2::RIGHT_CENTER,
            format!("{}  /  {}", layout::millis(l.p50_ms), layout::millis(l.p99_ms)),
            FontId::monospace(13.0),
            text,
        );
        response.on_hover_text(format!(
            "{} of {} came back; slowest {}",
            l.received,
            l.sent,
            layout::millis(l.max_ms)
        ));
    }
    ui.horizontal(|ui| {
        ui.add_space(label_width);
        legend_ui(ui, accent, "p50 (median)");
        legend_ui(ui, light, "p99");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                RichText::new(format!("scale 0 – {}", layout::millis(top)))
                    .size(12.0)
                    .weak(),
            );
        });
    });
}

fn legend_ui(ui: &mut Ui, color: Color32, text: &str) {
    let (rect, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
    ui.painter().rect_filled(rect, CornerRadius::same(2), color);
    ui.label(RichText::new(text).size(12.0).weak());
}

/// Messages per second per QoS as big figures.
fn throughput_ui(ui: &mut Ui, throughput: &[Throughput]) {
    ui.label(RichText::new("Throughput").size(15.0).strong());
    if throughput.is_empty() {
        ui.label(RichText::new("Not measured.").weak());
        return;
    }
    for t in throughput {
        let caption = format!("msg/s at QoS {}, {} lost", t.qos, layout::thousands(t.lost));
        let hover = format!(
            "{} delivered in a {:.1} s burst with at most 500 messages outstanding",
            layout::thousands(t.delivered),
            t.seconds
        );
        let figure = layout::thousands(t.msgs_per_sec.round() as u64);
        tile_ui(ui, &figure, &caption, &hover);
    }
}

/// A big figure with a small caption under it.
fn tile_ui(ui: &mut Ui, figure: &str, caption: &str, hover: &str) {
    let response = ui
        .vertical(|ui| {
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.label(
                RichText::new(figure)
                    .size(22.0)
                    .strong()
                    .color(ui.visuals().strong_text_color()),
            );
            ui.label(RichText::new(caption).size(12.5).weak());
        })
        .response;
    response.on_hover_text(hover);
    ui.add_space(4.0);
}

fn notes_ui(ui: &mut Ui, report: &Report, quick: bool) {
    for note in layout::notes(report, quick) {
        ui.horizontal_top(|ui| {
            ui.spacing_mut().item_spacing.x = 6.0;
            ui.label(RichText::new("•").size(12.5).weak());
            ui.add(egui::Label::new(RichText::new(note).size(12.5).weak()).wrap());
        });
    }
}
