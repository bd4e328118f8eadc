//! Payload views: text, pretty JSON, hex dump, base64 and the binary decoders of
//! [`super::decode`], each bounded so a huge payload never costs more than what is shown.

use base64::Engine as _;

use super::decode;

/// How a payload is decoded for showing (the message view's Auto / Text / JSON / Hex… choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Decoding {
    /// Pick JSON when the payload parses as JSON, text when it is UTF-8, else hex.
    #[default]
    Auto,
    /// UTF-8 text (invalid bytes shown as U+FFFD).
    Text,
    /// Pretty-printed JSON.
    Json,
    /// Hex dump with offsets and ASCII.
    Hex,
    /// Base64.
    Base64,
    /// CBOR, as indented JSON-like text.
    Cbor,
    /// MessagePack, as indented JSON-like text.
    MsgPack,
    /// Sparkplug B (protobuf): the metrics with names, types and values.
    Sparkplug,
    /// Protobuf without a schema: field numbers, wire types and values.
    Protobuf,
    /// gzip: decompressed, then shown as Auto would.
    Gzip,
    /// A PNG or JPEG image.
    Image,
}

impl Decoding {
    /// Every decoding, in selector order.
    pub const ALL: [Decoding; 11] = [
        Self::Auto,
        Self::Text,
        Self::Json,
        Self::Hex,
        Self::Base64,
        Self::Cbor,
        Self::MsgPack,
        Self::Sparkplug,
        Self::Protobuf,
        Self::Gzip,
        Self::Image,
    ];

    /// Label for the selector.
    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::Text => "Text",
            Self::Json => "JSON",
            Self::Hex => "Hex",
            Self::Base64 => "Base64",
            Self::Cbor => "CBOR",
            Self::MsgPack => "MsgPack",
            Self::Sparkplug => "Sparkplug",
            Self::Protobuf => "Protobuf",
            Self::Gzip => "gzip",
            Self::Image => "Image",
        }
    }
}

/// A payload rendered for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The decoding actually used (Auto resolved).
    pub decoding: Decoding,
    /// The text to show.
    pub text: String,
    /// Bytes of the payload the text covers.
    pub shown: usize,
    /// Bytes of the whole payload.
    pub total: usize,
    /// Set when the requested decoding could not be used (e.g. JSON that does not parse).
    pub note: Option<String>,
}

impl Rendered {
    /// Whether only part of the payload is shown.
    pub fn truncated(&self) -> bool {
        self.shown < self.total
    }
}

/// Whether the payload is JSON (an object or array, or any JSON value when `strict` is false).
pub fn is_json(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii_start();
    matches!(trimmed.first(), Some(b'{' | b'['))
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// The decoding Auto picks for these bytes.
pub fn detect(bytes: &[u8], limit: usize) -> Decoding {
    detect_for("", bytes, limit)
}

/// The decoding Auto picks for a payload of `topic`: Sparkplug under `spBv1.0/`, gzip and images by
/// their magic bytes, JSON, text, then CBOR, MessagePack and protobuf for binary payloads that
/// decode whole as one (containers only, so that stray bytes are not taken for a number), else hex.
pub fn detect_for(topic: &str, bytes: &[u8], limit: usize) -> Decoding {
    let small = bytes.len() <= limit.max(1 << 20);
    let sparkplug_topic = topic
        .strip_prefix(decode::sparkplug::NAMESPACE)
        .is_some_and(|rest| rest.starts_with('/'));
    if sparkplug_topic && small && decode::sparkplug::decode(bytes).is_some() {
        return Decoding::Sparkplug;
    }
    if decode::is_gzip(bytes) {
        return Decoding::Gzip;
    }
    if decode::image_info(bytes).is_some() {
        return Decoding::Image;
    }
    if small && is_json(bytes) {
        return Decoding::Json;
    }
    let head = &bytes[..bytes.len().min(limit)];
    if std::str::from_utf8(head).is_ok() || utf8_cut_ok(head) {
        return Decoding::Text;
    }
    if small {
        let container =
            |first: u8, major: &[std::ops::RangeInclusive<u8>]| major.iter().any(|r| r.contains(&first));
        let first = bytes.first().copied().unwrap_or(0);
        // CBOR arrays (0x80-0x9f) and maps (0xa0-0xbf); MessagePack fixmap/fixarray and
        // array/map 16/32.
        if container(first, &[0x80..=0xbf]) && decode::cbor_text(bytes).is_some() {
            return Decoding::Cbor;
        }
        if container(first, &[0x80..=0x9f, 0xdc..=0xdf]) && decode::msgpack_text(bytes).is_some() {
            return Decoding::MsgPack;
        }
        if decode::protobuf_parse(bytes).is_some() {
            return Decoding::Protobuf;
        }
    }
    Decoding::Hex
}

/// A prefix cut in the middle of a multi-byte character is still text.
fn utf8_cut_ok(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

/// Renders at most `limit` bytes of `bytes` in `decoding`.
pub fn render(bytes: &[u8], decoding: Decoding, limit: usize) -> Rendered {
    render_for("", bytes, decoding, limit)
}

/// Renders at most about `limit` bytes of a payload of `topic` in `decoding` (Auto resolved with
/// [`detect_for`]). A decoding that does not fit the bytes falls back to hex or text, with a note.
pub fn render_for(topic: &str, bytes: &[u8], decoding: Decoding, limit: usize) -> Rendered {
    let total = bytes.len();
    let decoding = if decoding == Decoding::Auto {
        detect_for(topic, bytes, limit)
    } else {
        decoding
    };
    let cut = &bytes[..total.min(limit)];
    let whole = |decoding: Decoding, text: String| Rendered {
        decoding,
        text,
        shown: total,
        total,
        note: None,
    };
    let fallback = |what: &str| {
        let mut r = render_for(topic, bytes, Decoding::Hex, limit);
        r.note = Some(format!("not {what} (or too large to decode): shown as hex"));
        r
    };
    let decodable = total <= limit.max(1 << 20);
    match decoding {
        Decoding::Json => match pretty_json(bytes, limit) {
            Some(text) => whole(decoding, text),
            None => {
                let mut r = render_for(topic, bytes, Decoding::Text, limit);
                r.note = Some("not valid JSON (or too large to format): shown as text".into());
                r
            }
        },
        Decoding::Text | Decoding::Auto => Rendered {
            decoding: Decoding::Text,
            text: String::from_utf8_lossy(cut).into_owned(),
            shown: cut.len(),
            total,
            note: None,
        },
        Decoding::Hex => Rendered {
            decoding,
            text: hex_dump(cut),
            shown: cut.len(),
            total,
            note: None,
        },
        Decoding::Base64 => Rendered {
            decoding,
            text: base64::engine::general_purpose::STANDARD.encode(cut),
            shown: cut.len(),
            total,
            note: None,
        },
        Decoding::Cbor => match decodable.then(|| decode::cbor_text(bytes)).flatten() {
            Some(text) => whole(decoding, text),
            None => fallback("valid CBOR"),
        },
        Decoding::MsgPack => match decodable.then(|| decode::msgpack_text(bytes)).flatten() {
            Some(text) => whole(decoding, text),
            None => fallback("valid MessagePack"),
        },
        Decoding::Protobuf => match decodable.then(|| decode::protobuf_text(bytes)).flatten() {
            Some(text) => whole(decoding, text),
            None => fallback("a protobuf message"),
        },
        Decoding::Sparkplug => match decodable.then(|| decode::sparkplug::text(bytes)).flatten() {
            Some(text) => whole(decoding, text),
            None => fallback("a Sparkplug B payload"),
        },
        Decoding::Image => match decode::image_info(bytes) {
            Some((format, w, h)) => whole(
                decoding,
                format!("{format} image, {w} × {h} pixels, {total} bytes"),
            ),
            None => fallback("a PNG or JPEG image"),
        },
        Decoding::Gzip => match decode::gunzip(bytes, decode::GUNZIP_LIMIT) {
            Ok((inner, cut_short)) => {
                let mut r = render_for(topic, &inner, Decoding::Auto, limit);
                r.note = Some(format!(
                    "gzip: {total} bytes decompressed to {}{} (shown as {})",
                    inner.len(),
                    if cut_short {
                        " (cut at the 64 MiB limit)"
                    } else {
                        ""
                    },
                    r.decoding.label()
                ));
                r.decoding = Decoding::Gzip;
                r.total = inner.len();
                r
            }
            Err(e) => {
                let mut r = render_for(topic, bytes, Decoding::Hex, limit);
                r.note = Some(format!("{e}: shown as hex"));
                r
            }
        },
    }
}

/// Pretty JSON if the whole payload parses and its pretty form fits in about `limit` bytes.
pub fn pretty_json(bytes: &[u8], limit: usize) -> Option<String> {
    if bytes.len() > limit {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

/// Texts longer than this are drawn row by row (only the visible rows), not as one galley:
/// laying out megabytes of text at once froze the window for seconds per frame.
pub const ROWS_ABOVE: usize = 32 * 1024;

/// Splits `text` into rows to draw: at each newline, and long lines cut every `width` bytes
/// (on a character boundary). Byte ranges into `text`, without the newlines.
pub fn row_ranges(text: &str, width: usize) -> Vec<std::ops::Range<usize>> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        let end = start + line.len();
        let mut from = start;
        while end - from > width {
            let mut cut = from + width;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            rows.push(from..cut);
            from = cut;
        }
        rows.push(from..end);
        start = end + 1;
    }
    rows
}

/// A classic hex dump: offset, 16 bytes in hex, and their printable ASCII.
pub fn hex_dump(bytes: &[u8]) -> String {
    hex_dump_width(bytes, 16)
}

/// Bytes per hex row the views choose from, widest first.
pub const HEX_ROW_WIDTHS: [usize; 3] = [32, 16, 8];

/// Characters in one hex row of `per_row` bytes: offset, two spaces, `xx ` per byte with an
/// extra space between groups of 8, a space, the ASCII column.
pub fn hex_row_chars(per_row: usize) -> usize {
    10 + 3 * per_row + (per_row / 8).saturating_sub(1) + 1 + per_row
}

/// The widest hex row (32, 16 or 8 bytes) whose characters, `glyph_width` points each
/// (monospace), fit in `available` points; 8 when even that does not fit (the hex view then
/// scrolls sideways rather than wrap a row).
pub fn hex_bytes_per_row(available: f32, glyph_width: f32) -> usize {
    HEX_ROW_WIDTHS
        .into_iter()
        .find(|&n| hex_row_chars(n) as f32 * glyph_width <= available)
        .unwrap_or(8)
}

/// A hex dump of `per_row` bytes a row (at least 1): offset, bytes in hex in groups of 8,
/// and their printable ASCII.
pub fn hex_dump_width(bytes: &[u8], per_row: usize) -> String {
    use std::fmt::Write as _;
    let per_row = per_row.max(1);
    let rows = bytes.len().div_ceil(per_row);
    let mut out = String::with_capacity(rows * (hex_row_chars(per_row) + 1));
    for (i, chunk) in bytes.chunks(per_row).enumerate() {
        let _ = write!(out, "{:08x}  ", i * per_row);
        for j in 0..per_row {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j % 8 == 7 && j + 1 < per_row {
                out.push(' ');
            }
        }
        out.push(' ');
        out.extend(chunk.iter().map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    out
}

/// A one-line preview of a payload of `topic`: Sparkplug B payloads (small ones) as their
/// metrics, anything else as [`preview`] does.
pub fn preview_for(topic: &str, bytes: &[u8], max_chars: usize) -> String {
    topic
        .strip_prefix(decode::sparkplug::NAMESPACE)
        .is_some_and(|rest| rest.starts_with('/'))
        .then(|| sparkplug_preview(bytes, max_chars))
        .flatten()
        .unwrap_or_else(|| preview(bytes, max_chars))
}

/// A Sparkplug B payload (at most 4 KiB) as a one-line list of its metrics, if it is one.
pub fn sparkplug_preview(bytes: &[u8], max_chars: usize) -> Option<String> {
    if bytes.len() > 4096 {
        return None;
    }
    let p = decode::sparkplug::decode(bytes)?;
    let metrics: Vec<String> = p
        .metrics
        .iter()
        .take(8)
        .map(|m| {
            let name = m
                .name
                .clone()
                .unwrap_or_else(|| format!("alias {}", m.alias.unwrap_or(0)));
            format!("{name}={}", decode::sparkplug::value_text(m).0)
        })
        .collect();
    Some(preview(metrics.join(" · ").as_bytes(), max_chars))
}

/// A one-line preview of a payload for the tree (at most `max_chars` characters).
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let head = &bytes[..bytes.len().min(max_chars * 4)];
    if !utf8_cut_ok(head) {
        let hex: String = bytes
            .iter()
            .take(max_chars / 3)
            .map(|b| format!("{b:02x} "))
            .collect();
        return format!("0x {}", hex.trim_end());
    }
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for c in text.chars() {
        if out.chars().count() >= max_chars {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A line diff of two texts: each line tagged `' '`, `'-'` or `'+'`.
pub fn diff_lines(old: &str, new: &str) -> Vec<(char, String)> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| {
            let tag = match c.tag() {
                similar::ChangeTag::Equal => ' ',
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
            };
            (tag, c.value().trim_end_matches('\n').to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_lines_and_cut_long_ones_on_char_boundaries() {
        let text = "ab\nééééé\n\nxyz";
        let rows: Vec<&str> = row_ranges(text, 4).into_iter().map(|r| &text[r]).collect();
        assert_eq!(rows, vec!["ab", "éé", "éé", "é", "", "xyz"]);
        let big = "x".repeat(1000);
        assert_eq!(row_ranges(&big, 160).len(), 7);
    }

    #[test]
    fn auto_detection() {
        assert_eq!(detect(br#"{"a":1}"#, 1000), Decoding::Json);
        assert_eq!(detect(b"21.5", 1000), Decoding::Text);
        assert_eq!(detect("温度".as_bytes(), 1000), Decoding::Text);
        assert_eq!(detect(&[0, 159, 146, 150], 1000), Decoding::Hex);
    }

    #[test]
    fn binary_formats_are_detected_and_json_never_taken_for_them() {
        let mut cbor = Vec::new();
        let value = std::collections::BTreeMap::from([("a", vec![1, 2])]);
        ciborium::ser::into_writer(&value, &mut cbor).unwrap();
        assert_eq!(detect(&cbor, 1000), Decoding::Cbor);
        let mut mp = Vec::new();
        rmpv::encode::write_value(
            &mut mp,
            &rmpv::Value::Array(vec![1.into(), "x".into(), rmpv::Value::Nil]),
        )
        .unwrap();
        assert_eq!(detect(&mp, 1000), Decoding::MsgPack);
        assert_eq!(
            detect(&[0x08, 0x96, 0x01, 0x10, 0xff, 0x01], 1000),
            Decoding::Protobuf
        );
        let json = br#"{"timestamp": 1, "metrics": []}"#;
        assert_eq!(detect_for("spBv1.0/g/NDATA/n", json, 1000), Decoding::Json);
        let r = render_for("spBv1.0/g/NDATA/n", json, Decoding::Sparkplug, 1000);
        assert_eq!(r.decoding, Decoding::Hex);
        assert!(r.note.unwrap().contains("not a Sparkplug B payload"));
        let r = render(b"\x1f\x8bnot gzip", Decoding::Auto, 1000);
        assert_eq!(r.decoding, Decoding::Hex);
        assert!(r.note.unwrap().contains("not valid gzip"));
    }

    #[test]
    fn gzip_shows_what_is_inside() {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(br#"{"v":1}"#).unwrap();
        let r = render(&enc.finish().unwrap(), Decoding::Auto, 1000);
        assert_eq!(r.decoding, Decoding::Gzip);
        assert_eq!(r.text, "{\n  \"v\": 1\n}");
        assert!(r.note.unwrap().contains("decompressed to 7 (shown as JSON)"));
    }

    #[test]
    fn json_is_pretty_and_bad_json_falls_back() {
        let r = render(br#"{"a":[1,2]}"#, Decoding::Json, 1000);
        assert!(r.text.contains("\n  \"a\""));
        let r = render(b"{nope", Decoding::Json, 1000);
        assert_eq!(r.decoding, Decoding::Text);
        assert!(r.note.is_some());
    }

    #[test]
    fn json_numbers_and_key_order_are_kept() {
        let r = render(br#"{"z":243e-1,"a":1.10}"#, Decoding::Json, 1000);
        assert_eq!(r.text, "{\n  \"z\": 243e-1,\n  \"a\": 1.10\n}");
    }

    #[test]
    fn large_payloads_are_cut() {
        let big = vec![b'x'; 10_000];
        let r = render(&big, Decoding::Auto, 1000);
        assert_eq!((r.shown, r.total, r.truncated()), (1000, 10_000, true));
        let r = render(&big, Decoding::Hex, 32);
        assert_eq!(r.text.lines().count(), 2);
    }

    #[test]
    fn hex_rows_are_as_wide_as_fits() {
        // Hack at 13 pt is about 7.8 points a glyph.
        let glyph = 7.8;
        assert_eq!(hex_row_chars(16), 76);
        assert_eq!(hex_bytes_per_row(440.0, glyph), 8, "the default message panel");
        assert_eq!(hex_bytes_per_row(600.0, glyph), 16);
        assert_eq!(hex_bytes_per_row(1200.0, glyph), 32);
        assert_eq!(
            hex_bytes_per_row(100.0, glyph),
            8,
            "narrower than any: the narrowest"
        );
        for n in HEX_ROW_WIDTHS {
            let dump = hex_dump_width(&[0x41; 100], n);
            let widest = dump.lines().map(|l| l.chars().count()).max().unwrap();
            assert_eq!(widest, hex_row_chars(n), "{n} bytes a row");
            assert_eq!(dump.lines().count(), 100usize.div_ceil(n));
        }
        let dump = hex_dump_width(b"ABCDEFGHIJKLMNOPQ", 8);
        assert_eq!(
            dump.lines().nth(1),
            Some("00000008  49 4a 4b 4c 4d 4e 4f 50  IJKLMNOP")
        );
    }

    #[test]
    fn hex_dump_layout() {
        let d = hex_dump(b"ABCDEFGHIJKLMNOPQ");
        let first = d.lines().next().unwrap();
        assert!(first.starts_with("00000000  41 42"));
        assert!(first.ends_with("ABCDEFGHIJKLMNOP"));
    }

    #[test]
    fn sparkplug_previews_show_metrics() {
        use prost::Message as _;
        let p = decode::sparkplug::Payload {
            seq: Some(1),
            metrics: vec![decode::sparkplug::Metric {
                name: Some("Speed".into()),
                datatype: Some(10),
                value: Some(decode::sparkplug::Value::Double(42.5)),
                ..Default::default()
            }],
            ..Default::default()
        }
        .encode_to_vec();
        assert_eq!(preview_for("spBv1.0/g/DDATA/n/d", &p, 80), "Speed=42.5");
        assert_ne!(
            preview_for("other/topic", &p, 80),
            "Speed=42.5",
            "only under spBv1.0/"
        );
    }

    #[test]
    fn previews_are_one_line() {
        assert_eq!(preview(b"a\nb", 10), "a b");
        assert_eq!(preview(b"abcdef", 3), "abc…");
        assert!(preview(&[0xff, 0xfe, 0], 10).starts_with("0x ff fe"));
    }

    #[test]
    fn diff_marks_changes() {
        let d = diff_lines("a\nb\n", "a\nc\n");
        assert_eq!(d, vec![(' ', "a".into()), ('-', "b".into()), ('+', "c".into())]);
    }
}
