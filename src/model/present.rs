//! Presentation mode's data: which topics are tiles (saved per profile), and what a tile
//! reads from a payload: a number with its unit, a state with its tone, or text, plus the
//! range its gauge spans. Pure: the window draws what this decides.

use serde::{Deserialize, Serialize};

use super::redact::Rule;

/// A pinned topic, as saved in the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tile {
    /// The topic shown.
    pub topic: String,
    /// JSON field shown, as a dotted path (`value`, `sensor.temperature`); empty: found from
    /// the payload (see [`read`]).
    pub field: String,
    /// Unit shown; empty: from the payload's `unit` / `units` field or the topic's name.
    pub unit: String,
    /// Lower end of the gauge; `None`: from the unit (0 for %) or the lowest value seen.
    pub min: Option<f64>,
    /// Upper end of the gauge; `None`: from the unit (100 for %) or the highest value seen.
    pub max: Option<f64>,
}

// Why by hand: `Profile` is `Eq`, and a tile's bounds are floats. A bound is only ever set
// from a finite number the user typed (NaN never compares equal, which would only make a
// profile look edited).
impl Eq for Tile {}

impl Tile {
    /// A tile of `topic` with everything found from its payloads.
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            ..Self::default()
        }
    }

    /// The field path as keys.
    pub fn path(&self) -> Vec<String> {
        split_path(&self.field)
    }
}

/// `a.b` as `["a", "b"]`; empty for "".
pub fn split_path(field: &str) -> Vec<String> {
    field
        .split('.')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A profile's presentation: its tiles and what is hidden while presenting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Presentation {
    /// Topics pinned as tiles, in order.
    pub pinned: Vec<Tile>,
    /// Every topic below this one is a tile too (after the pinned ones); empty: none.
    pub subtree: String,
    /// What is hidden behind `•••`.
    pub redaction: Vec<Rule>,
    /// Whether the rules apply (everywhere in the window, not only in presentation mode).
    pub redact: bool,
}

impl Default for Presentation {
    fn default() -> Self {
        Self {
            pinned: Vec::new(),
            subtree: String::new(),
            redaction: Vec::new(),
            redact: true,
        }
    }
}

impl Presentation {
    /// The rules in force (none while redaction is off).
    pub fn redactor(&self) -> super::redact::Redactor {
        if self.redact {
            super::redact::Redactor::new(&self.redaction)
        } else {
            super::redact::Redactor::default()
        }
    }

    /// Whether `topic` is pinned.
    pub fn is_pinned(&self, topic: &str) -> bool {
        self.pinned.iter().any(|t| t.topic == topic)
    }
}

/// How a state looks: the window gives each tone a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Working as it should (`running`, `on`, `true`, `ok`).
    Good,
    /// At rest (`idle`, `off`, `false`, `closed`).
    Off,
    /// Worth a look (`setup`, `warning`, `open`, `maintenance`).
    Attention,
    /// Something is wrong (`alarm`, `error`, `fault`).
    Alarm,
    /// Any other word.
    Neutral,
}

/// The tone of a state word (case and `-`/`_` ignored).
pub fn tone(state: &str) -> Tone {
    let word = state.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let is = |words: &[&str]| {
        words
            .iter()
            .any(|w| word == *w || word.starts_with(&format!("{w}_")))
    };
    if is(&[
        "alarm",
        "error",
        "fault",
        "failed",
        "failure",
        "critical",
        "emergency",
        "triggered",
        "down",
        "tripped",
    ]) {
        Tone::Alarm
    } else if is(&[
        "warning",
        "warn",
        "setup",
        "maintenance",
        "open",
        "opened",
        "paused",
        "starting",
        "stopping",
        "degraded",
        "offline",
        "disconnected",
        "low",
        "high",
    ]) {
        Tone::Attention
    } else if is(&[
        "running",
        "on",
        "true",
        "ok",
        "online",
        "connected",
        "active",
        "enabled",
        "armed",
        "up",
        "yes",
        "normal",
        "healthy",
        "ready",
        "producing",
    ]) {
        Tone::Good
    } else if is(&[
        "idle", "off", "false", "closed", "stopped", "standby", "disabled", "disarmed", "no", "inactive",
        "sleeping", "parked",
    ]) {
        Tone::Off
    } else {
        Tone::Neutral
    }
}

/// The main value a tile shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number and its unit ("" when none is known).
    Number {
        /// The value.
        value: f64,
        /// Its unit.
        unit: String,
    },
    /// A boolean or a word from a small set.
    State {
        /// As received (`running`, `true`).
        text: String,
        /// How it looks.
        tone: Tone,
    },
    /// Anything else, as text.
    Text(String),
    /// Nothing to show (no message, an empty payload, a missing field).
    Empty,
}

/// What a tile reads from a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The main value.
    pub value: Value,
    /// Other fields of a JSON object, `(name, value)`, at most [`MAX_DETAILS`].
    pub details: Vec<(String, String)>,
}

/// Fields shown below the main value.
pub const MAX_DETAILS: usize = 4;

/// Keys never shown as a tile's value or details: they describe it.
const META_KEYS: [&str; 6] = ["unit", "units", "ts", "timestamp", "time", "t"];

/// Reads a payload for a tile of `topic`: the field at `path` if given; else a plain number
/// (`23.5`, `23.5 °C`), a boolean or word, or from a JSON object its `value`, its `state` /
/// `status`, its only field, its first number, or its first field. The unit is the tile's `unit`, else the
/// payload's `unit` / `units` field, else what the field's or topic's name implies
/// (see [`unit_for`]).
pub fn read(topic: &str, payload: &[u8], path: &[String], unit: &str) -> Reading {
    let last = topic.rsplit('/').next().unwrap_or(topic);
    let text = String::from_utf8_lossy(payload);
    let text = text.trim();
    let empty = Reading {
        value: Value::Empty,
        details: Vec::new(),
    };
    if text.is_empty() {
        return empty;
    }
    let json: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let Some(serde_json::Value::Object(map)) = json else {
        if !path.is_empty() {
            return empty;
        }
        return Reading {
            value: scalar(text, json.as_ref(), last, unit),
            details: Vec::new(),
        };
    };
    let payload_unit = ["unit", "units"]
        .iter()
        .find_map(|k| map.get(*k).and_then(|u| u.as_str()))
        .map(str::to_owned);
    let unit = if unit.is_empty() {
        payload_unit.as_deref().unwrap_or("")
    } else {
        unit
    };
    let main_key = if path.is_empty() { main_key(&map) } else { None };
    let (value, key) = if !path.is_empty() {
        let mut at = Some(serde_json::Value::Object(map.clone()));
        for k in path {
            at = at.and_then(|v| match v {
                serde_json::Value::Object(mut m) => m.remove(k),
                serde_json::Value::Array(mut a) => k
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < a.len())
                    .map(|i| a.swap_remove(i)),
                _ => None,
            });
        }
        let key = path.last().map_or(last, String::as_str);
        (at, key)
    } else {
        match &main_key {
            Some(k) => (map.get(k).cloned(), k.as_str()),
            None => (None, last),
        }
    };
    // "value" names nothing: the topic's name says what it is.
    let name = if key == "value" { last } else { key };
    let value = match &value {
        Some(serde_json::Value::String(s)) => scalar(s, None, name, unit),
        Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
            scalar(&v.to_string(), Some(v), name, unit)
        }
        Some(serde_json::Value::Null) | None => Value::Empty,
        Some(other) => Value::Text(other.to_string()),
    };
    let shown = if path.is_empty() {
        main_key.as_deref()
    } else {
        None
    };
    let details = map
        .iter()
        .filter(|(k, v)| {
            Some(k.as_str()) != shown
                && !META_KEYS.contains(&k.as_str())
                && path.first().is_none_or(|p| p != *k)
                && !v.is_object()
                && !v.is_array()
        })
        .take(MAX_DETAILS)
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();
    Reading { value, details }
}

/// The key of a JSON object a tile shows when none was chosen.
fn main_key(map: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let primitive = |v: &serde_json::Value| !v.is_object() && !v.is_array() && !v.is_null();
    for k in ["value", "state", "status"] {
        if map.get(k).is_some_and(primitive) {
            return Some(k.to_owned());
        }
    }
    let candidates: Vec<&String> = map
        .iter()
        .filter(|(k, v)| primitive(v) && !META_KEYS.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    if let [only] = candidates[..] {
        return Some(only.clone());
    }
    // Else the first number (a reading), else the first field (a name, a model).
    candidates
        .iter()
        .find(|k| map.get(**k).is_some_and(serde_json::Value::is_number))
        .or(candidates.first())
        .map(|k| (*k).clone())
}

/// A single value: a number (with a unit written after it, or one found from `name`), a
/// boolean or word as a state, else text.
fn scalar(text: &str, json: Option<&serde_json::Value>, name: &str, unit: &str) -> Value {
    if let Some(serde_json::Value::Bool(b)) = json {
        let text = b.to_string();
        return Value::State {
            tone: tone(&text),
            text,
        };
    }
    let text = text.trim();
    let (number, written_unit) = match text.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))) {
        Some(at) if at > 0 => (&text[..at], text[at..].trim()),
        _ => (text, ""),
    };
    if let Ok(value) = number.parse::<f64>()
        && value.is_finite()
        && written_unit.chars().count() <= 12
    {
        let unit = if !unit.is_empty() {
            unit.to_owned()
        } else if !written_unit.is_empty() {
            written_unit.to_owned()
        } else {
            unit_for(name, value).to_owned()
        };
        return Value::Number { value, unit };
    }
    let is_word = text.len() <= 24
        && text.chars().any(char::is_alphabetic)
        && text.chars().all(|c| c.is_alphanumeric() || "_- ".contains(c));
    if is_word {
        Value::State {
            text: text.to_owned(),
            tone: tone(text),
        }
    } else {
        Value::Text(text.to_owned())
    }
}

/// The unit a name implies by convention (`temperature` °C, `humidity` %, `battery_pct` %,
/// `speed_kmh` km/h…); "" when it implies none. `value` tells hPa (air) from bar.
pub fn unit_for(name: &str, value: f64) -> &'static str {
    let name = name.to_ascii_lowercase();
    let suffix = |s: &str| name.ends_with(&format!("_{s}"));
    if suffix("pct") || suffix("percent") || suffix("pc") {
        return "%";
    }
    for (s, unit) in [
        ("kmh", "km/h"),
        ("mph", "mph"),
        ("ms", "m/s"),
        ("c", "°C"),
        ("f", "°F"),
        ("kw", "kW"),
        ("kwh", "kWh"),
        ("w", "W"),
        ("v", "V"),
        ("a", "A"),
        ("hz", "Hz"),
        ("rpm", "rpm"),
        ("ppm", "ppm"),
        ("lux", "lx"),
        ("db", "dB"),
        ("s", "s"),
    ] {
        if suffix(s) {
            return unit;
        }
    }
    match name.as_str() {
        "temperature" | "temp" | "temp_c" => "°C",
        "humidity" | "rh" | "battery" | "level" | "load" | "cpu" | "soc" => "%",
        "pressure" if (850.0..=1100.0).contains(&value) => "hPa",
        "pressure" => "bar",
        "power" => "W",
        "energy" => "kWh",
        "voltage" => "V",
        "current" => "A",
        "frequency" => "Hz",
        "co2" => "ppm",
        "illuminance" | "lux" => "lx",
        "rpm" => "rpm",
        _ => "",
    }
}

/// The range a gauge spans: the tile's bounds where set, else 0–100 for %, else the lowest
/// and highest of `seen` (two distinct values at least). `None`: no gauge.
pub fn gauge_range(tile: &Tile, unit: &str, seen: &[f64]) -> Option<(f64, f64)> {
    let by_unit = (unit == "%").then_some((0.0, 100.0));
    let lowest = seen.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = seen.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let by_seen = (seen.len() >= 2 && lowest < highest).then_some((lowest, highest));
    let fallback = by_unit.or(by_seen);
    let min = tile.min.or(fallback.map(|r| r.0))?;
    let max = tile.max.or(fallback.map(|r| r.1))?;
    (min.is_finite() && max.is_finite() && min < max).then_some((min, max))
}

/// Where `value` sits in `range`, 0 to 1 (clamped).
pub fn fraction(value: f64, (min, max): (f64, f64)) -> f32 {
    (((value - min) / (max - min)).clamp(0.0, 1.0)) as f32
}

/// A number as a tile shows it: as sent when it has few decimals (`181.25`), else rounded to
/// two (three below 1, none from 10,000), no trailing zeros, thin-space thousands from
/// 10,000.
pub fn format_number(value: f64) -> String {
    let abs = value.abs();
    let decimals = if abs >= 10_000.0 || value.fract() == 0.0 {
        0
    } else if abs >= 1.0 {
        2
    } else {
        3
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 && whole.len() > 4 {
            grouped.push('\u{2009}');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests;
