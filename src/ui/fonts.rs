//! A system CJK-capable font as a fallback, found in the background with `fontdb`, so Chinese,
//! Japanese and Korean payloads render instead of showing boxes. The app works without one,
//! but says once which package to install when such text arrives ([`MissingCjkFont`]).

use std::sync::Arc;

/// A font found on the system.
pub struct FallbackFont {
    /// Its family name.
    pub name: String,
    /// The font file's bytes.
    pub data: Vec<u8>,
    /// The face index inside a collection.
    pub index: u32,
}

/// Families tried in order.
const FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Noto Sans JP",
    "Source Han Sans SC",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans",
    "Malgun Gothic",
    "Noto Sans CJK KR",
];

/// Looks for a CJK font among the system fonts (slow: scans the font directories).
pub fn find_cjk_font() -> Option<FallbackFont> {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    for family in FAMILIES {
        let query = fontdb::Query {
            families: &[fontdb::Family::Name(family)],
            ..fontdb::Query::default()
        };
        if let Some(id) = db.query(&query)
            && let Some(font) = db.with_face_data(id, |data, index| FallbackFont {
                name: (*family).to_owned(),
                data: data.to_vec(),
                index,
            })
        {
            return Some(font);
        }
    }
    None
}

/// Adds the font as the last fallback of both font families.
pub fn install(ctx: &egui::Context, font: FallbackFont) {
    let mut defs = egui::FontDefinitions::default();
    let mut data = egui::FontData::from_owned(font.data);
    data.index = font.index;
    defs.font_data.insert(font.name.clone(), Arc::new(data));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        defs.families.entry(family).or_default().push(font.name.clone());
    }
    ctx.set_fonts(defs);
}

/// Whether `c` is a Chinese, Japanese or Korean character: ideographs, kana, Hangul, CJK
/// punctuation and full-width forms (none of which egui's built-in fonts can draw).
pub fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x2FDF // radicals
        | 0x3000..=0x33FF // punctuation, kana, bopomofo, Hangul jamo, enclosed, compatibility
        | 0x3400..=0x4DBF // ideographs extension A
        | 0x4E00..=0x9FFF // unified ideographs
        | 0xA960..=0xA97F // Hangul jamo extended A
        | 0xAC00..=0xD7FF // Hangul syllables, jamo extended B
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFE30..=0xFE4F // compatibility forms
        | 0xFF00..=0xFFEF // half-width and full-width forms
        | 0x20000..=0x3134F // ideographs extensions B to G
    )
}

/// Whether `text` has a character [`is_cjk`].
pub fn contains_cjk(text: &str) -> bool {
    text.chars().any(is_cjk)
}

/// Bytes of a payload looked at for CJK text: enough for any label-like value, bounded so a
/// flood of large payloads costs nothing noticeable.
const SCAN_BYTES: usize = 1024;

/// What the user is told when CJK text arrives and no font can draw it.
pub const MISSING_CJK_FONT: &str = "Some messages contain Chinese, Japanese or Korean text, but no \
     font for it is installed: it shows as empty boxes. Install one (fonts-noto-cjk on \
     Debian/Ubuntu, google-noto-sans-cjk-fonts on Fedora, noto-fonts-cjk on Arch) and restart \
     Canopy.";

/// Where the search for a CJK font stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    /// Still scanning the system fonts: too early to say one is missing.
    Running,
    /// Found and installed.
    Found,
    /// None on the system (or not looked for).
    Missing,
}

/// Says once — not at every message — that CJK text arrived and no font can draw it. CJK text
/// seen while the font search still runs is remembered and told when the search fails.
#[derive(Debug)]
pub struct MissingCjkFont {
    search: Search,
    seen: bool,
    told: bool,
}

impl MissingCjkFont {
    /// `searching`: a font search was started; without one no CJK font is ever loaded.
    pub fn new(searching: bool) -> Self {
        Self {
            search: if searching {
                Search::Running
            } else {
                Search::Missing
            },
            seen: false,
            told: false,
        }
    }

    /// Whether messages are still worth scanning (nothing told yet, no font found).
    pub fn watching(&self) -> bool {
        !self.told && !self.seen && self.search != Search::Found
    }

    /// Looks at a message's topic and the start of its payload; returns the notice to show
    /// when it is the first CJK text and no font can draw it.
    pub fn saw(&mut self, topic: &str, payload: &[u8]) -> Option<&'static str> {
        if !self.watching() {
            return None;
        }
        let head = &payload[..payload.len().min(SCAN_BYTES)];
        if contains_cjk(topic) || contains_cjk(&String::from_utf8_lossy(head)) {
            self.seen = true;
        }
        self.tell()
    }

    /// The font search ended; returns the notice when CJK text was already seen.
    pub fn search_done(&mut self, found: bool) -> Option<&'static str> {
        self.search = if found { Search::Found } else { Search::Missing };
        self.tell()
    }

    fn tell(&mut self) -> Option<&'static str> {
        if self.seen && !self.told && self.search == Search::Missing {
            self.told = true;
            return Some(MISSING_CJK_FONT);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_ranges_are_detected_and_others_are_not() {
        for text in ["温度", "こんにちは", "カタカナ", "온도", "（全角）", "𠀋", "、"] {
            assert!(contains_cjk(text), "{text}");
        }
        for text in [
            "temperature 23.5 °C",
            "Grüße",
            "Ελληνικά",
            "Привет",
            "שלום",
            "🌡️",
            "",
        ] {
            assert!(!contains_cjk(text), "{text}");
        }
    }

    #[test]
    fn the_missing_font_is_told_once() {
        // No font search: told at the first CJK message, never again.
        let mut w = MissingCjkFont::new(false);
        assert_eq!(w.saw("plant/temp", b"23.5"), None);
        assert_eq!(
            w.saw("plant/temp", "温度 23.5".as_bytes()),
            Some(MISSING_CJK_FONT)
        );
        assert_eq!(w.saw("plant/温度", "温度".as_bytes()), None);
        assert!(!w.watching());

        // Seen while the search runs: told when it fails, once.
        let mut w = MissingCjkFont::new(true);
        assert_eq!(w.saw("家/温度", b"21"), None);
        assert_eq!(w.search_done(false), Some(MISSING_CJK_FONT));
        assert_eq!(w.saw("家/温度", b"22"), None);

        // A font was found: never told.
        let mut w = MissingCjkFont::new(true);
        assert_eq!(w.search_done(true), None);
        assert!(!w.watching());
        assert_eq!(w.saw("家/温度", b"21"), None);
    }
}
