//! Saved publish templates: a message with variables (`{{now}}`, `{{seq}}`, `{{random 20..30}}`,
//! `{{uuid}}`...) filled in each time it is sent, and a payload written as text, JSON or hex.
//! Used by the publish panel and `canopy pub --template`; pure, so the expansion is tested
//! here.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::message::{OutgoingMessage, Properties, QoS};
use super::topic::validate_topic_name;

/// How a template's payload text becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 text, as written.
    #[default]
    Text,
    /// JSON: checked after the variables are filled in, sent as written.
    Json,
    /// Hex digits (spaces, newlines and `:` between bytes allowed): for binary payloads.
    Hex,
}

/// A saved message to publish, with variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Template {
    /// Unique within a profile; what `canopy pub --template` names.
    pub name: String,
    /// Folder in the list ("" = none).
    pub group: String,
    /// Topic; may hold variables (`sensors/{{seq}}`).
    pub topic: String,
    /// Payload text in `encoding`; may hold variables.
    pub payload: String,
    /// How the payload text becomes bytes.
    pub encoding: Encoding,
    /// QoS to publish with.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// MQTT 5 content type ("" = none).
    pub content_type: String,
    /// MQTT 5 response topic ("" = none).
    pub response_topic: String,
    /// MQTT 5 user properties; values may hold variables.
    pub user_properties: Vec<(String, String)>,
    /// How many messages one "send" publishes (at least 1).
    pub count: u32,
    /// Milliseconds between them when `count` is more than 1.
    pub interval_ms: u64,
}

impl Default for Template {
    fn default() -> Self {
        Self {
            name: String::new(),
            group: String::new(),
            topic: String::new(),
            payload: String::new(),
            encoding: Encoding::Text,
            qos: QoS::AtMostOnce,
            retain: false,
            content_type: String::new(),
            response_topic: String::new(),
            user_properties: Vec::new(),
            count: 1,
            interval_ms: 1000,
        }
    }
}

/// The variables a template may use, for help texts.
pub const VARIABLES: &str = "{{now}} (RFC 3339 time), {{ts}} (Unix ms), {{seq}} (1, 2, 3… per send), \
                             {{random A..B}} (integer, or decimal when A or B has a point), {{uuid}}";

/// Why a template could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{…}}` the template language does not know, or a malformed one.
    #[error("{field}: {why}")]
    Variable {
        /// Where: "topic", "payload" or "user property NAME".
        field: String,
        /// What is wrong, in words.
        why: String,
    },
    /// The filled-in topic is not a valid MQTT topic name.
    #[error("topic `{topic}`: {why}")]
    Topic {
        /// The topic after expansion.
        topic: String,
        /// Why it is not valid.
        why: String,
    },
    /// The payload does not match its encoding (bad JSON, odd hex).
    #[error("payload: {0}")]
    Payload(String),
}

/// What changes from one message to the next: the sequence number.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    next: u64,
}

impl Template {
    /// The `seq`-th message of this template (variables filled in), or why it cannot be sent.
    pub fn render(&self, seq: &mut Sequence) -> Result<OutgoingMessage, TemplateError> {
        seq.next += 1;
        let n = seq.next;
        let fill = |field: &str, text: &str| {
            expand(text, n).map_err(|why| TemplateError::Variable {
                field: field.to_owned(),
                why,
            })
        };
        let topic = fill("topic", &self.topic)?;
        validate_topic_name(&topic).map_err(|e| TemplateError::Topic {
            topic: topic.clone(),
            why: e.to_string(),
        })?;
        let text = fill("payload", &self.payload)?;
        let payload = match self.encoding {
            Encoding::Text => Bytes::from(text),
            Encoding::Json => {
                if !text.trim().is_empty() {
                    serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
                        TemplateError::Payload(format!("not JSON after filling in variables: {e}"))
                    })?;
                }
                Bytes::from(text)
            }
            Encoding::Hex => Bytes::from(parse_hex(&text).map_err(TemplateError::Payload)?),
        };
        let mut user_properties = Vec::with_capacity(self.user_properties.len());
        for (k, v) in self.user_properties.iter().filter(|(k, _)| !k.is_empty()) {
            user_properties.push((k.clone(), fill(&format!("user property {k}"), v)?));
        }
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        Ok(OutgoingMessage {
            topic,
            payload,
            qos: self.qos,
            retain: self.retain,
            properties: Properties {
                content_type: opt(&self.content_type),
                response_topic: opt(&self.response_topic),
                user_properties,
                ..Properties::default()
            },
        })
    }
}

/// Fills in the `{{…}}` variables of `text` for message number `seq`.
pub fn expand(text: &str, seq: u64) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            format!(
                "`{{{{` at byte {} is never closed with `}}}}`",
                text.len() - rest.len() + start
            )
        })?;
        out.push_str(&variable(after[..end].trim(), seq)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn variable(name: &str, seq: u64) -> Result<String, String> {
    let mut words = name.split_whitespace();
    let head = words.next().unwrap_or("");
    let arg: Vec<&str> = words.collect();
    match (head, arg.as_slice()) {
        ("now", []) => Ok(chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)),
        ("ts", []) => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            .to_string()),
        ("seq", []) => Ok(seq.to_string()),
        ("uuid", []) => Ok(uuid_v4()),
        ("random", [range]) => random(range),
        _ => Err(format!("unknown variable `{{{{{name}}}}}`; known: {VARIABLES}")),
    }
}

/// `A..B`, both ends included: an integer, or a decimal with as many decimals as the ends
/// are written with (`20.0..30.00` gives two), as people write numbers.
fn random(range: &str) -> Result<String, String> {
    let bad =
        || format!("`random {range}`: write the range as A..B, e.g. `random 20..30` or `random 1.5..2.5`");
    let (a, b) = range.split_once("..").ok_or_else(bad)?;
    let decimals = |s: &str| s.split_once('.').map_or(0, |(_, f)| f.len());
    let places = decimals(a).max(decimals(b));
    let (lo, hi) = (
        a.parse::<f64>().map_err(|_| bad())?,
        b.parse::<f64>().map_err(|_| bad())?,
    );
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return Err(format!(
            "`random {range}`: the first end must not be above the second"
        ));
    }
    let mut rng = rand::rng();
    if places == 0 {
        let (lo, hi) = (lo as i64, hi as i64);
        Ok(rng.random_range(lo..=hi).to_string())
    } else {
        let scale = 10f64.powi(places.min(9) as i32);
        let (lo, hi) = ((lo * scale).round() as i64, (hi * scale).round() as i64);
        let v = rng.random_range(lo..=hi) as f64 / scale;
        Ok(format!("{v:.places$}"))
    }
}

fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// Hex digits to bytes; whitespace, `:` and a `0x` prefix are allowed between bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!("`{c}` is not a hex digit (digit {})", i + 1));
    }
    if digits.len() % 2 == 1 {
        return Err(format!("{} hex digits: a byte needs two", digits.len()));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(topic: &str, payload: &str, encoding: Encoding) -> Template {
        Template {
            name: "t".into(),
            topic: topic.into(),
            payload: payload.into(),
            encoding,
            ..Template::default()
        }
    }

    #[test]
    fn variables_are_filled_in_per_message() {
        let t = template(
            "line/{{seq}}/temp",
            r#"{"v": {{random 20..30}}, "id": "{{uuid}}"}"#,
            Encoding::Json,
        );
        let mut seq = Sequence::default();
        for n in 1..=50 {
            let m = t.render(&mut seq).unwrap();
            assert_eq!(m.topic, format!("line/{n}/temp"));
            let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            let x = v["v"].as_i64().unwrap();
            assert!((20..=30).contains(&x), "{x}");
            let id = v["id"].as_str().unwrap();
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "a version 4 uuid: {id}");
        }
    }

    #[test]
    fn decimals_follow_how_the_range_is_written() {
        for _ in 0..200 {
            let s = expand("{{random 1.5..2.50}}", 1).unwrap();
            let (_, frac) = s.split_once('.').unwrap();
            assert_eq!(frac.len(), 2, "{s}");
            let v: f64 = s.parse().unwrap();
            assert!((1.5..=2.5).contains(&v), "{s}");
        }
        assert!(!expand("{{ random -5..5 }}", 1).unwrap().contains('.'));
    }

    #[test]
    fn time_variables_look_like_time() {
        let ts: u128 = expand("{{ts}}", 1).unwrap().parse().unwrap();
        assert!(ts > 1_700_000_000_000);
        let now = expand("{{now}}", 1).unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(&now).is_ok(), "{now}");
    }

    #[test]
    fn mistakes_are_named_not_sent() {
        let mut seq = Sequence::default();
        let e = template("a/{{nope}}", "", Encoding::Text)
            .render(&mut seq)
            .unwrap_err();
        assert!(
            e.to_string().starts_with("topic: unknown variable `{{nope}}`"),
            "{e}"
        );
        let e = template("a", "{{seq", Encoding::Text)
            .render(&mut seq)
            .unwrap_err();
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = template("a/{{random 3..1}}", "", Encoding::Text)
            .render(&mut seq)
            .unwrap_err();
        assert!(e.to_string().contains("must not be above"), "{e}");
        let e = template("a/+", "", Encoding::Text).render(&mut seq).unwrap_err();
        assert!(matches!(e, TemplateError::Topic { .. }), "{e}");
        let e = template("a", r#"{"v": {{seq}}"#, Encoding::Json)
            .render(&mut seq)
            .unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let e = template("a", "0a 0", Encoding::Hex).render(&mut seq).unwrap_err();
        assert!(e.to_string().contains("3 hex digits"), "{e}");
        let e = template("a", "zz", Encoding::Hex).render(&mut seq).unwrap_err();
        assert!(e.to_string().contains("`z` is not a hex digit"), "{e}");
    }

    #[test]
    fn hex_payloads_are_bytes() {
        let mut seq = Sequence::default();
        let m = template("bin", "0x00 ff:10\n7F", Encoding::Hex)
            .render(&mut seq)
            .unwrap();
        assert_eq!(&m.payload[..], &[0x00, 0xff, 0x10, 0x7f]);
        let m = template("bin", "{{seq}}0", Encoding::Hex)
            .render(&mut seq)
            .unwrap();
        assert_eq!(
            &m.payload[..],
            &[0x20],
            "variables are filled in before the hex is read"
        );
    }

    #[test]
    fn old_files_and_partial_templates_load() {
        let t: Template = toml::from_str("name = \"ping\"\ntopic = \"a/b\"").unwrap();
        assert_eq!((t.count, t.encoding, t.qos), (1, Encoding::Text, QoS::AtMostOnce));
    }
}
