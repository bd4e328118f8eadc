//! Payload views: text, pretty JSON, hex dump and base64, each bounded so a huge payload never
//! costs more than what is shown.

use base64::Engine as _;

/// How to show a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum View {
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
}

impl View {
    /// Every view, in selector order.
    pub const ALL: [View; 5] = [Self::Auto, Self::Text, Self::Json, Self::Hex, Self::Base64];

    /// Label for the selector.
    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::Text => "Text",
            Self::Json => "JSON",
            Self::Hex => "Hex",
            Self::Base64 => "Base64",
        }
    }
}

/// A payload rendered for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The view actually used (Auto resolved).
    pub view: View,
    /// The text to show.
    pub text: String,
    /// Bytes of the payload the text covers.
    pub shown: usize,
    /// Bytes of the whole payload.
    pub total: usize,
    /// Set when the requested view could not be used (e.g. JSON that does not parse).
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

/// The view Auto picks for these bytes.
pub fn detect(bytes: &[u8], limit: usize) -> View {
    if bytes.len() <= limit.max(1 << 20) && is_json(bytes) {
        View::Json
    } else if std::str::from_utf8(&bytes[..bytes.len().min(limit)]).is_ok()
        || utf8_cut_ok(&bytes[..bytes.len().min(limit)])
    {
        View::Text
    } else {
        View::Hex
    }
}

/// A prefix cut in the middle of a multi-byte character is still text.
fn utf8_cut_ok(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

/// Renders at most `limit` bytes of `bytes` in `view`.
pub fn render(bytes: &[u8], view: View, limit: usize) -> Rendered {
    let total = bytes.len();
    let view = if view == View::Auto {
        detect(bytes, limit)
    } else {
        view
    };
    let cut = &bytes[..total.min(limit)];
    match view {
        View::Json => match pretty_json(bytes, limit) {
            Some(text) => Rendered {
                view,
                text,
                shown: total,
                total,
                note: None,
            },
            None => {
                let mut r = render(bytes, View::Text, limit);
                r.note = Some("not valid JSON (or too large to format): shown as text".into());
                r
            }
        },
        View::Text | View::Auto => Rendered {
            view: View::Text,
            text: String::from_utf8_lossy(cut).into_owned(),
            shown: cut.len(),
            total,
            note: None,
        },
        View::Hex => Rendered {
            view,
            text: hex_dump(cut),
            shown: cut.len(),
            total,
            note: None,
        },
        View::Base64 => Rendered {
            view,
            text: base64::engine::general_purpose::STANDARD.encode(cut),
            shown: cut.len(),
            total,
            note: None,
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

/// A classic hex dump: offset, 16 bytes in hex, and their printable ASCII.
pub fn hex_dump(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 4 + bytes.len() / 16 * 12);
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
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
    fn auto_detection() {
        assert_eq!(detect(br#"{"a":1}"#, 1000), View::Json);
        assert_eq!(detect(b"21.5", 1000), View::Text);
        assert_eq!(detect("温度".as_bytes(), 1000), View::Text);
        assert_eq!(detect(&[0, 159, 146, 150], 1000), View::Hex);
    }

    #[test]
    fn json_is_pretty_and_bad_json_falls_back() {
        let r = render(br#"{"a":[1,2]}"#, View::Json, 1000);
        assert!(r.text.contains("\n  \"a\""));
        let r = render(b"{nope", View::Json, 1000);
        assert_eq!(r.view, View::Text);
        assert!(r.note.is_some());
    }

    #[test]
    fn json_numbers_and_key_order_are_kept() {
        let r = render(br#"{"z":243e-1,"a":1.10}"#, View::Json, 1000);
        assert_eq!(r.text, "{\n  \"z\": 243e-1,\n  \"a\": 1.10\n}");
    }

    #[test]
    fn large_payloads_are_cut() {
        let big = vec![b'x'; 10_000];
        let r = render(&big, View::Auto, 1000);
        assert_eq!((r.shown, r.total, r.truncated()), (1000, 10_000, true));
        let r = render(&big, View::Hex, 32);
        assert_eq!(r.text.lines().count(), 2);
    }

    #[test]
    fn hex_dump_layout() {
        let d = hex_dump(b"ABCDEFGHIJKLMNOPQ");
        let first = d.lines().next().unwrap();
        assert!(first.starts_with("00000000  41 42"));
        assert!(first.ends_with("ABCDEFGHIJKLMNOP"));
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
