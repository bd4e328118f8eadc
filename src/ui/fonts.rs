//! A system CJK-capable font as a fallback, found in the background with `fontdb`, so Chinese,
//! Japanese and Korean payloads render instead of showing boxes. The app works without one.

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
