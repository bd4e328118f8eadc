//! Fonts for Chinese, Japanese and Korean text. egui's built-in fonts have none, so:
//! - a subset of Noto Sans CJK SC is built into the binary ([`BUNDLED`], ~0.8 MB: the Chinese
//!   interface and the 3,755 common hanzi), installed at start as the last fallback, so the
//!   Chinese interface renders on a machine without any CJK font;
//! - a fuller system CJK font, found in the background with `fontdb`, goes before it when
//!   there is one;
//! - text neither can draw (kana, Hangul, rare hanzi without a system font) is told once, with
//!   the package to install ([`MissingCjkFont`]).

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

/// The bundled subset (`scripts/subset_font.py` makes it; OFL, `assets/fonts/OFL.txt`).
pub const BUNDLED: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-Canopy.otf");
/// Its name among egui's fonts.
const BUNDLED_NAME: &str = "Noto Sans SC (Canopy subset)";

/// Whether the bundled font has `c` (its character map is read once).
pub fn bundled_has(c: char) -> bool {
    use std::sync::OnceLock;
    static FACE: OnceLock<Option<ttf_parser::Face<'static>>> = OnceLock::new();
    FACE.get_or_init(|| ttf_parser::Face::parse(BUNDLED, 0).ok())
        .as_ref()
        .is_some_and(|face| face.glyph_index(c).is_some())
}

/// egui's fonts, then `system` (a fuller CJK font, when one was found), then the bundled one.
pub fn definitions(system: Option<FallbackFont>) -> egui::FontDefinitions {
    let mut defs = egui::FontDefinitions::default();
    let mut fallbacks = Vec::new();
    if let Some(font) = system {
        let mut data = egui::FontData::from_owned(font.data);
        data.index = font.index;
        defs.font_data.insert(font.name.clone(), Arc::new(data));
        fallbacks.push(font.name);
    }
    defs.font_data.insert(
        BUNDLED_NAME.to_owned(),
        Arc::new(egui::FontData::from_static(BUNDLED)),
    );
    fallbacks.push(BUNDLED_NAME.to_owned());
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        defs.families
            .entry(family)
            .or_default()
            .extend(fallbacks.iter().cloned());
    }
    defs
}

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

/// Installs the fonts: [`definitions`] with `system`.
pub fn install(ctx: &egui::Context, system: Option<FallbackFont>) {
    ctx.set_fonts(definitions(system));
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

/// Whether `text` has a CJK character the bundled font lacks (kana, Hangul, rare hanzi).
fn needs_system_font(text: &str) -> bool {
    text.chars().any(|c| is_cjk(c) && !bundled_has(c))
}

/// Bytes of a payload looked at for CJK text: enough for any label-like value, bounded so a
/// flood of large payloads costs nothing noticeable.
const SCAN_BYTES: usize = 1024;

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

/// Says once — not at every message — that CJK text arrived that no font can draw (the
/// caller words it: `fonts.missing_cjk`). CJK text
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

    /// Looks at a message's topic and the start of its payload; true when the user should be
    /// told now: the first CJK text the bundled font cannot draw, and no system font.
    pub fn saw(&mut self, topic: &str, payload: &[u8]) -> bool {
        if !self.watching() {
            return false;
        }
        let head = &payload[..payload.len().min(SCAN_BYTES)];
        if needs_system_font(topic) || needs_system_font(&String::from_utf8_lossy(head)) {
            self.seen = true;
        }
        self.tell()
    }

    /// The font search ended; true when such text was already seen and should be told now.
    pub fn search_done(&mut self, found: bool) -> bool {
        self.search = if found { Search::Found } else { Search::Missing };
        self.tell()
    }

    fn tell(&mut self) -> bool {
        if self.seen && !self.told && self.search == Search::Missing {
            self.told = true;
            return true;
        }
        false
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
    fn the_bundled_font_has_the_common_hanzi_and_not_kana() {
        for c in "温度湿度压力订阅发布保留消息主题连接断开，。（）：".chars() {
            assert!(bundled_has(c), "{c}");
        }
        for c in "こんにちはカタカナ온도".chars() {
            assert!(!bundled_has(c), "{c}");
        }
    }

    /// A text added to the Chinese locale with a character outside the subset would draw as
    /// a box on a machine without a CJK font: regenerate with scripts/subset_font.py.
    #[test]
    fn the_bundled_font_draws_every_character_of_the_chinese_texts() {
        let texts = include_str!("../../locales/zh-CN.toml");
        let missing: String = texts
            .chars()
            .filter(|c| contains_cjk(c.encode_utf8(&mut [0; 4])) && !bundled_has(*c))
            .collect();
        assert!(missing.is_empty(), "not in the bundled font: {missing}");
    }

    #[test]
    fn the_missing_font_is_told_once() {
        // No font search: common Chinese is drawn by the bundled font, so nothing is told
        // until Japanese arrives; then never again.
        let mut w = MissingCjkFont::new(false);
        assert!(!w.saw("plant/temp", b"23.5"));
        assert!(!w.saw("工厂/温度", "温度 23.5".as_bytes()));
        assert!(w.saw("plant/temp", "温度 こんにちは".as_bytes()));
        assert!(!w.saw("plant/温度", "カタカナ".as_bytes()));
        assert!(!w.watching());

        // Seen while the search runs: told when it fails, once.
        let mut w = MissingCjkFont::new(true);
        assert!(!w.saw("家/온도", b"21"));
        assert!(w.search_done(false));
        assert!(!w.saw("家/온도", b"22"));

        // A font was found: never told.
        let mut w = MissingCjkFont::new(true);
        assert!(!w.search_done(true));
        assert!(!w.watching());
        assert!(!w.saw("家/온도", b"21"));
    }
}
