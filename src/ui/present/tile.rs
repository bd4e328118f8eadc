//! One tile of the presentation: where the topic is, its name, its value big enough to read
//! from the back of a room, a gauge when the range is known, a sparkline of recent values (or
//! a strip of recent states), and how old the value is.

use std::time::Duration;

use egui::epaint::{Mesh, PathShape, PathStroke};
use egui::{Align, Color32, FontId, Layout, Pos2, Rect, RichText, Stroke, Ui, UiBuilder, vec2};

use crate::model::present::{Reading, Tone, Value, format_number, fraction};
use crate::ui::i18n::tr;

/// What a tile shows this frame (built from the topic tree by the presentation).
#[derive(Debug, Clone)]
pub struct TileView {
    /// The topic, redacted: what the tile is named by on screen.
    pub shown_topic: String,
    /// The reading of the latest message (of the redacted payload).
    pub reading: Reading,
    /// Since the latest message; `None` while none came.
    pub age: Option<Duration>,
    /// Numbers read from the topic's history, oldest first.
    pub numbers: Vec<f64>,
    /// States read from the topic's history, oldest first.
    pub tones: Vec<Tone>,
    /// The gauge's range, when known.
    pub range: Option<(f64, f64)>,
}

/// The colour of a state's tone in the current theme.
pub fn tone_color(tone: Tone, dark: bool) -> Color32 {
    match (tone, dark) {
        (Tone::Good, true) => Color32::from_rgb(74, 201, 120),
        (Tone::Good, false) => Color32::from_rgb(22, 133, 64),
        (Tone::Off, true) => Color32::from_rgb(138, 143, 155),
        (Tone::Off, false) => Color32::from_rgb(108, 114, 126),
        (Tone::Attention, true) => Color32::from_rgb(244, 183, 64),
        (Tone::Attention, false) => Color32::from_rgb(181, 110, 0),
        (Tone::Alarm, true) => Color32::from_rgb(245, 86, 86),
        (Tone::Alarm, false) => Color32::from_rgb(198, 36, 36),
        (Tone::Neutral, true) => Color32::from_rgb(120, 170, 245),
        (Tone::Neutral, false) => Color32::from_rgb(36, 100, 200),
    }
}

/// The colour of gauges and sparklines.
pub fn accent(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(77, 182, 235)
    } else {
        Color32::from_rgb(18, 110, 190)
    }
}

/// The tile's background.
pub fn tile_fill(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(34, 37, 43)
    } else {
        Color32::WHITE
    }
}

/// Draws a tile into `rect`; the caller adds its menu in the top-right corner (the width
/// kept for it is `menu_width`).
pub fn tile_ui(ui: &mut Ui, rect: Rect, tile: &TileView, menu_width: f32) {
    let dark = ui.visuals().dark_mode;
    let state_tone = match &tile.reading.value {
        Value::State { tone, .. } => Some(*tone),
        _ => None,
    };
    let mut fill = tile_fill(dark);
    if let Some(tone) = state_tone {
        fill = blend(fill, tone_color(tone, dark), if dark { 0.10 } else { 0.07 });
    }
    let border = if dark {
        Color32::from_gray(52)
    } else {
        Color32::from_gray(218)
    };
    ui.painter().rect(
        rect,
        14.0,
        fill,
        Stroke::new(1.0, border),
        egui::StrokeKind::Inside,
    );
    if let Some(tone) = state_tone {
        let bar = Rect::from_min_max(
            rect.min + vec2(0.0, 14.0),
            Pos2::new(rect.left() + 5.0, rect.bottom() - 14.0),
        );
        ui.painter().rect_filled(bar, 2.5, tone_color(tone, dark));
    }

    let pad = (rect.height() * 0.08).clamp(10.0, 20.0);
    let inner = rect.shrink(pad);
    let small = (rect.height() * 0.07).clamp(12.0, 17.0);
    let title_size = (rect.height() * 0.105).clamp(15.0, 26.0);
    let weak = ui.visuals().weak_text_color();

    // Where the topic lives, how old the value is.
    let (path, name) = match tile.shown_topic.rsplit_once('/') {
        Some((path, name)) => (path, name),
        None => ("", tile.shown_topic.as_str()),
    };
    let header = Rect::from_min_size(inner.min, vec2(inner.width() - menu_width, small * 1.4));
    let mut head = ui.new_child(
        UiBuilder::new()
            .max_rect(header)
            .layout(Layout::left_to_right(Align::Center)),
    );
    if let Some(age) = tile.age {
        head.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(RichText::new(ago(age)).size(small).color(weak));
            ui.add(egui::Label::new(RichText::new(path).size(small).color(weak)).truncate());
        });
    } else {
        head.add(egui::Label::new(RichText::new(path).size(small).color(weak)).truncate());
    }
    let title_rect = Rect::from_min_size(
        Pos2::new(inner.left(), header.bottom() + 2.0),
        vec2(inner.width(), title_size * 1.35),
    );
    let mut title = ui.new_child(UiBuilder::new().max_rect(title_rect));
    title.add(egui::Label::new(RichText::new(name).size(title_size).strong()).truncate());

    let strip_h = match &tile.reading.value {
        Value::Number { .. } if tile.numbers.len() >= 2 => inner.height() * 0.22,
        Value::State { .. } if tile.tones.len() >= 2 => 8.0,
        _ => 0.0,
    };
    let details_h = if tile.reading.details.is_empty() {
        0.0
    } else {
        small * 1.5
    };
    let strip = Rect::from_min_max(Pos2::new(inner.left(), inner.bottom() - strip_h), inner.max);
    let details = Rect::from_min_size(
        Pos2::new(
            inner.left(),
            strip.top() - details_h - if strip_h > 0.0 { 6.0 } else { 0.0 },
        ),
        vec2(inner.width(), details_h),
    );
    let body = Rect::from_min_max(
        Pos2::new(inner.left(), title_rect.bottom()),
        Pos2::new(inner.right(), details.top()),
    );
    value_ui(ui, body, tile, dark);
    if details_h > 0.0 {
        let text = tile
            .reading
            .details
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("  ·  ");
        let mut d = ui.new_child(
            UiBuilder::new()
                .max_rect(details)
                .layout(Layout::left_to_right(Align::Center)),
        );
        d.add(egui::Label::new(RichText::new(text).size(small).color(weak)).truncate());
    }
    if strip_h > 0.0 {
        match &tile.reading.value {
            Value::State { .. } => tone_strip(ui, strip, &tile.tones, dark),
            _ => sparkline(ui, strip, &tile.numbers, tile.range, accent(dark)),
        }
    }
}

/// The main value, as large as the body allows, with the gauge beside a number.
fn value_ui(ui: &mut Ui, body: Rect, tile: &TileView, dark: bool) {
    let text_color = ui.visuals().strong_text_color();
    let mut area = body;
    if let (Value::Number { value, .. }, Some(range)) = (&tile.reading.value, tile.range)
        && body.width() > 240.0
    {
        let side = body.height().min(body.width() * 0.4);
        let gauge = Rect::from_min_size(
            Pos2::new(body.right() - side, body.center().y - side / 2.0),
            vec2(side, side),
        );
        gauge_ui(ui, gauge, *value, range, dark);
        area.max.x = gauge.left() - 8.0;
    }
    let size = (area.height() * 0.62).min(area.width() * 0.24).max(14.0);
    let mut v = ui.new_child(
        UiBuilder::new()
            .max_rect(area)
            .layout(Layout::left_to_right(Align::Center)),
    );
    match &tile.reading.value {
        Value::Number { value, unit } => {
            // Number and unit on one baseline (their bottoms, near enough), centred as a pair.
            let row = vec2(area.width(), size * 1.25);
            v.allocate_ui_with_layout(row, Layout::left_to_right(Align::Max), |v| {
                v.spacing_mut().item_spacing.x = size * 0.12;
                v.add(
                    egui::Label::new(
                        RichText::new(format_number(*value))
                            .size(size)
                            .strong()
                            .color(text_color),
                    )
                    .extend(),
                );
                if !unit.is_empty() {
                    v.add(
                        egui::Label::new(
                            RichText::new(unit)
                                .size(size * 0.42)
                                .color(ui.visuals().text_color()),
                        )
                        .truncate(),
                    );
                }
            });
        }
        Value::State { text, tone } => {
            let color = tone_color(*tone, dark);
            let (dot, _) = v.allocate_exact_size(vec2(size * 0.5, size), egui::Sense::hover());
            v.painter().circle_filled(dot.center(), size * 0.2, color);
            // Upper-case letters are wide: fit the word rather than cut it.
            let shown = text.replace('_', " ").to_uppercase();
            let size = size.min(area.width() * 0.85 / (shown.chars().count().max(4) as f32 * 0.74));
            v.add(egui::Label::new(RichText::new(shown).size(size).strong().color(color)).truncate());
        }
        Value::Text(text) => {
            // A short text (a hidden value's •••) as large as a state; a long one smaller.
            let size = if text.chars().count() <= 12 {
                size
            } else {
                (area.height() * 0.24).clamp(14.0, 30.0)
            };
            v.add(egui::Label::new(RichText::new(text).size(size).color(text_color)).wrap());
        }
        Value::Empty => {
            v.label(
                RichText::new(tr!("tile.waiting"))
                    .size((area.height() * 0.2).clamp(13.0, 22.0))
                    .color(ui.visuals().weak_text_color()),
            );
        }
    }
}

/// A 240° arc from the lowest value (bottom left) to the highest (bottom right), filled up
/// to `value`, the range's ends written below.
fn gauge_ui(ui: &Ui, rect: Rect, value: f64, range: (f64, f64), dark: bool) {
    let painter = ui.painter();
    let radius = rect.width() * 0.40;
    let centre = rect.center() + vec2(0.0, rect.height() * 0.06);
    let width = radius * 0.2;
    let start = 150f32.to_radians();
    let sweep = 240f32.to_radians();
    let arc = |to: f32| -> Vec<Pos2> {
        let steps = ((64.0 * to).ceil() as usize).max(2);
        (0..=steps)
            .map(|i| {
                let a = start + sweep * to * i as f32 / steps as f32;
                centre + radius * vec2(a.cos(), a.sin())
            })
            .collect()
    };
    let track = if dark {
        Color32::from_gray(60)
    } else {
        Color32::from_gray(222)
    };
    let color = accent(dark);
    let ends = |points: &[Pos2], c: Color32| {
        for p in [points.first(), points.last()].into_iter().flatten() {
            painter.circle_filled(*p, width / 2.0, c);
        }
    };
    let full = arc(1.0);
    painter.add(PathShape::line(full.clone(), PathStroke::new(width, track)));
    ends(&full, track);
    let f = fraction(value, range);
    if f > 0.0 {
        let filled = arc(f);
        painter.add(PathShape::line(filled.clone(), PathStroke::new(width, color)));
        ends(&filled, color);
    }
    let font = FontId::proportional((radius * 0.28).clamp(10.0, 15.0));
    let weak = ui.visuals().weak_text_color();
    let below = radius * 0.5_f32.sqrt() + width;
    painter.text(
        centre + vec2(-radius * 0.72, below),
        egui::Align2::CENTER_TOP,
        format_number(range.0),
        font.clone(),
        weak,
    );
    painter.text(
        centre + vec2(radius * 0.72, below),
        egui::Align2::CENTER_TOP,
        format_number(range.1),
        font.clone(),
        weak,
    );
    painter.text(
        centre,
        egui::Align2::CENTER_CENTER,
        format!("{:.0}%", f * 100.0),
        FontId::proportional((radius * 0.36).clamp(11.0, 20.0)),
        ui.visuals().text_color(),
    );
}

/// Recent values as a line over a fading fill, the newest marked by a dot. Scaled to the
/// gauge's range when there is one, so the line and the gauge agree.
fn sparkline(ui: &Ui, rect: Rect, values: &[f64], range: Option<(f64, f64)>, color: Color32) {
    let (lo, hi) = match range {
        Some(r) => r,
        None => values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            }),
    };
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = values.len();
    let points: Vec<Pos2> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = rect.left() + rect.width() * i as f32 / (n - 1).max(1) as f32;
            let y = rect.bottom() - rect.height() * (((v - lo) / span).clamp(0.0, 1.0) as f32 * 0.9 + 0.05);
            Pos2::new(x, y)
        })
        .collect();
    let mut mesh = Mesh::default();
    let top = color.gamma_multiply(0.32);
    let bottom = color.gamma_multiply(0.0);
    for pair in points.windows(2) {
        let base = mesh.vertices.len() as u32;
        mesh.colored_vertex(pair[0], top);
        mesh.colored_vertex(pair[1], top);
        mesh.colored_vertex(Pos2::new(pair[1].x, rect.bottom()), bottom);
        mesh.colored_vertex(Pos2::new(pair[0].x, rect.bottom()), bottom);
        mesh.add_triangle(base, base + 1, base + 2);
        mesh.add_triangle(base, base + 2, base + 3);
    }
    let painter = ui.painter();
    painter.add(mesh);
    let last = points.last().copied();
    painter.add(PathShape::line(points, PathStroke::new(2.0, color)));
    if let Some(p) = last {
        painter.circle_filled(p, 3.5, color);
    }
}

/// Recent states as a row of small bars in their tones, the newest on the right.
fn tone_strip(ui: &Ui, rect: Rect, tones: &[Tone], dark: bool) {
    let shown = &tones[tones.len().saturating_sub(40)..];
    let gap = 2.0;
    let w = ((rect.width() + gap) / shown.len() as f32 - gap).max(1.0);
    for (i, tone) in shown.iter().enumerate() {
        let x = rect.left() + i as f32 * (w + gap);
        let r = Rect::from_min_size(Pos2::new(x, rect.top()), vec2(w, rect.height()));
        ui.painter()
            .rect_filled(r, 2.0, tone_color(*tone, dark).gamma_multiply(0.85));
    }
}

/// `a` moved towards `b` by `t` (0 to 1).
fn blend(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// "3 s ago", "just now".
pub fn ago(age: Duration) -> String {
    match crate::ui::widgets::age(age).as_str() {
        "now" => tr!("tile.just_now").into_owned(),
        other => tr!("tile.ago", age = other).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tone_has_its_own_colour_in_both_themes() {
        let tones = [Tone::Good, Tone::Off, Tone::Attention, Tone::Alarm, Tone::Neutral];
        for dark in [true, false] {
            let colours: std::collections::HashSet<Color32> =
                tones.iter().map(|t| tone_color(*t, dark)).collect();
            assert_eq!(colours.len(), tones.len());
            // Readable on the tile: far enough from its background.
            for t in tones {
                let c = tone_color(t, dark);
                let bg = tile_fill(dark);
                let distance = [
                    c.r().abs_diff(bg.r()),
                    c.g().abs_diff(bg.g()),
                    c.b().abs_diff(bg.b()),
                ]
                .into_iter()
                .max()
                .unwrap();
                assert!(distance > 90, "{t:?} on {}", if dark { "dark" } else { "light" });
            }
        }
        assert_eq!(
            blend(Color32::BLACK, Color32::WHITE, 0.5),
            Color32::from_gray(128)
        );
        assert_eq!(ago(Duration::from_millis(100)), "just now");
        assert_eq!(ago(Duration::from_secs(3)), "3 s ago");
    }
}
