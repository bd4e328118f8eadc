//! The report card's arithmetic and words, apart from drawing so they can be tested: bar
//! scales, numbers for people, the date line, the honest notes, file names and the PNG crop.

use egui::{ColorImage, Rect};

use crate::probe::report::{Report, Support};

/// The top of a bar chart's scale: the smallest 1, 2 or 5 × 10ⁿ at or above `max`, so a
/// bar's length reads against a round figure. `max` ≤ 0 (or not a number) gives 1.
pub fn nice_ceiling(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= max * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A bar's share of the scale, 0–1; a positive figure gets at least `min` so it stays visible.
pub fn bar_fraction(value: f64, top: f64, min: f32) -> f32 {
    if !value.is_finite() || value <= 0.0 || top <= 0.0 {
        return 0.0;
    }
    ((value / top) as f32).clamp(min, 1.0)
}

/// A whole number with thin-space-free thousands separators: 20413 → "20,413".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with as many decimals as they deserve: 0.31 ms, 4.7 ms, 45 ms.
pub fn millis(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The probe's start ("2026-11-26T20:54:01Z") as "26 Nov 2026, 20:54 UTC"; left as it is when
/// it does not parse.
pub fn date(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format("%-d %b %Y, %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// What a reader of the card should know to read the figures right.
pub fn notes(report: &Report, quick: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if report.speed_tested_with != report.tested_with && !report.latency.is_empty() {
        notes.push(format!(
            "Speed tested with {}: publishing and receiving QoS 1 on one connection, Canopy's \
             MQTT 5 client is slower than brokers, so {} shows the broker's own speed.",
            report.speed_tested_with, report.speed_tested_with
        ));
    }
    if let Some(l) = report.latency.first() {
        notes.push(format!(
            "Latency is a round trip from this computer to the broker and back (network \
             included), {} messages per QoS at a light load.",
            l.sent
        ));
    }
    if quick {
        notes.push("Quick run: fewer messages, 1 s bursts, payloads up to 1 MiB.".into());
    }
    if report.mqtt5.is_none() {
        notes.push("The broker does not speak MQTT 5, so it announces no limits.".into());
    }
    let unknowns = crate::probe::render::items(report)
        .iter()
        .filter(|i| matches!(i.check.support, Support::Unknown(_)))
        .count();
    if unknowns > 0 {
        notes.push(format!(
            "? marks {unknowns} answer(s) the probe could not settle; the reason is in the row."
        ));
    }
    let cleanup = match report.cleanup.support {
        Support::Supported => "deleted afterwards",
        _ => "NOT all deleted (see the Markdown export)",
    };
    notes.push(format!(
        "Test messages used only {} and were {cleanup}.",
        report.scratch_prefix
    ));
    notes
}

/// A file name for an export: "report-card-127.0.0.1-1883-2026-11-26.md".
pub fn file_name(report: &Report, extension: &str) -> String {
    let host: String = report
        .broker
        .split("://")
        .last()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let host = host.trim_matches('-');
    let day = report.started.get(..10).unwrap_or("today");
    format!("report-card-{host}-{day}.{extension}")
}

/// The pixels of `rect` (in points) in an image of `size` pixels at `pixels_per_point`,
/// clipped to the image: (x, y, width, height), or `None` when nothing is left.
pub fn crop_pixels(rect: Rect, pixels_per_point: f32, size: [usize; 2]) -> Option<[usize; 4]> {
    let px = |v: f32| (v * pixels_per_point).round().max(0.0) as usize;
    let (x0, y0) = (px(rect.min.x).min(size[0]), px(rect.min.y).min(size[1]));
    let (x1, y1) = (px(rect.max.x).min(size[0]), px(rect.max.y).min(size[1]));
    (x1 > x0 && y1 > y0).then_some([x0, y0, x1 - x0, y1 - y0])
}

/// The part of a screenshot showing `rect`, as PNG bytes.
pub fn png(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Result<Vec<u8>, String> {
    let [x, y, w, h] =
        crop_pixels(rect, pixels_per_point, image.size).ok_or("the report card was not on the screen")?;
    let mut rgba = Vec::with_capacity(w * h * 4);
    for row in y..y + h {
        let start = row * image.size[0] + x;
        for pixel in &image.pixels[start..start + w] {
            rgba.extend_from_slice(&pixel.to_srgba_unmultiplied());
        }
    }
    let too_large = || "the image is too large".to_owned();
    let buffer = image::RgbaImage::from_raw(
        u32::try_from(w).map_err(|_| too_large())?,
        u32::try_from(h).map_err(|_| too_large())?,
        rgba,
    )
    .ok_or_else(too_large)?;
    let mut out = std::io::Cursor::new(Vec::new());
    buffer
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| format!("PNG encoding failed: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Color32, pos2};

    #[test]
    fn scales_end_on_round_figures() {
        assert_eq!(nice_ceiling(0.44), 0.5);
        assert_eq!(nice_ceiling(44.94), 50.0);
        assert_eq!(nice_ceiling(4.74), 5.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
    }

    #[test]
    fn small_positive_bars_stay_visible_and_none_overflow() {
        assert_eq!(bar_fraction(0.0, 50.0, 0.02), 0.0);
        assert_eq!(bar_fraction(0.01, 50.0, 0.02), 0.02);
        assert_eq!(bar_fraction(25.0, 50.0, 0.02), 0.5);
        assert_eq!(bar_fraction(80.0, 50.0, 0.02), 1.0);
        assert_eq!(bar_fraction(f64::INFINITY, 50.0, 0.02), 0.0);
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(20_413), "20,413");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(millis(0.314), "0.31 ms");
        assert_eq!(millis(4.74), "4.7 ms");
        assert_eq!(millis(44.94), "45 ms");
        assert_eq!(date("2026-11-26T20:54:01Z"), "26 Nov 2026, 20:54 UTC");
        assert_eq!(date("yesterday"), "yesterday");
    }

    #[test]
    fn crops_are_clipped_to_the_image() {
        let r = Rect::from_min_max(pos2(10.0, 20.0), pos2(110.0, 70.0));
        assert_eq!(crop_pixels(r, 1.0, [800, 600]), Some([10, 20, 100, 50]));
        assert_eq!(crop_pixels(r, 2.0, [800, 600]), Some([20, 40, 200, 100]));
        assert_eq!(crop_pixels(r, 1.0, [60, 600]), Some([10, 20, 50, 50]));
        let off = Rect::from_min_max(pos2(-50.0, -50.0), pos2(-10.0, 5.0));
        assert_eq!(crop_pixels(off, 1.0, [800, 600]), None);
        assert_eq!(crop_pixels(r, 1.0, [5, 5]), None);
    }

    #[test]
    fn png_holds_exactly_the_cropped_pixels() {
        let mut image = ColorImage::filled([4, 3], Color32::BLACK);
        image.pixels[4 + 1] = Color32::from_rgb(200, 10, 20);
        let rect = Rect::from_min_max(pos2(1.0, 1.0), pos2(3.0, 3.0));
        let bytes = png(&image, rect, 1.0).unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
        assert_eq!(decoded.dimensions(), (2, 2));
        assert_eq!(decoded.get_pixel(0, 0).0, [200, 10, 20, 255]);
        assert_eq!(decoded.get_pixel(1, 1).0, [0, 0, 0, 255]);
        assert!(png(&image, Rect::from_min_max(pos2(9.0, 9.0), pos2(10.0, 10.0)), 1.0).is_err());
    }
}
