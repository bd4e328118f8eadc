//! The recording format: JSON Lines, one message per line, exactly what `canopy sub -F jsonl`
//! prints, so that any such output is a recording and any recording is readable with `jq`.
//!
//! ```json
//! {"topic":"plant/line1/temp","payload":"21.5","encoding":"utf8","qos":1,"retain":true,"dup":false,"timestamp_ms":1764140000123,"properties":{"content_type":"text/plain"}}
//! {"topic":"cam/1/frame","payload":"iVBORw0KGgo...","encoding":"base64","qos":0,"retain":false,"dup":false,"timestamp_ms":1764140000200}
//! ```
//!
//! `payload` is the UTF-8 text when the payload is valid UTF-8 (`encoding: "utf8"`), else its
//! base64 (`encoding: "base64"`). `properties` (MQTT 5) is left out when empty; correlation
//! data inside it is base64. Blank lines and lines starting with `#` are skipped when reading.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::message::{Message, OutgoingMessage, Properties, QoS};

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The topic.
    pub topic: String,
    /// UTF-8 text or base64, per `encoding`.
    pub payload: String,
    /// `utf8` or `base64`.
    #[serde(default = "utf8")]
    pub encoding: String,
    /// QoS it was received with.
    #[serde(default)]
    pub qos: u8,
    /// Retain flag.
    #[serde(default)]
    pub retain: bool,
    /// Duplicate-delivery flag.
    #[serde(default)]
    pub dup: bool,
    /// Milliseconds since the Unix epoch when it was received.
    #[serde(default)]
    pub timestamp_ms: u64,
    /// MQTT 5 properties.
    #[serde(default, skip_serializing_if = "Properties::is_empty")]
    pub properties: Properties,
    /// The payload decoded with a protobuf type bound to the topic (`canopy sub --proto`,
    /// exports with a schema); beside `payload`, which stays the bytes so a recording replays
    /// exactly. Ignored when reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protobuf: Option<super::proto::ProtoJson>,
}

fn utf8() -> String {
    "utf8".into()
}

impl Line {
    /// The line for a received message.
    pub fn from_message(m: &Message) -> Self {
        Self::new(
            &m.topic,
            &m.payload,
            m.qos,
            m.retain,
            m.dup,
            m.received,
            &m.properties,
        )
    }

    /// A line from a message's parts (the payload as UTF-8 text when it is, else base64).
    pub fn new(
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        dup: bool,
        received: SystemTime,
        properties: &Properties,
    ) -> Self {
        let (payload, encoding) = match std::str::from_utf8(payload) {
            Ok(text) => (text.to_owned(), "utf8"),
            Err(_) => (
                base64::engine::general_purpose::STANDARD.encode(payload),
                "base64",
            ),
        };
        Self {
            topic: topic.to_owned(),
            payload,
            encoding: encoding.into(),
            qos: qos.level(),
            retain,
            dup,
            timestamp_ms: received
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            properties: properties.clone(),
            protobuf: None,
        }
    }

    /// The message it records.
    pub fn to_message(&self) -> Result<Message, String> {
        let payload = match self.encoding.as_str() {
            "utf8" | "text" => Bytes::from(self.payload.clone()),
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(&self.payload)
                .map(Bytes::from)
                .map_err(|e| format!("bad base64 payload: {e}"))?,
            other => return Err(format!("unknown payload encoding `{other}`")),
        };
        Ok(Message {
            topic: self.topic.clone(),
            payload,
            qos: QoS::try_from(self.qos)?,
            retain: self.retain,
            dup: self.dup,
            // `checked_add`: a crafted timestamp must not overflow (it can on Windows).
            received: UNIX_EPOCH
                .checked_add(Duration::from_millis(self.timestamp_ms))
                .ok_or("timestamp out of range")?,
            properties: self.properties.clone(),
            // Only messages a subscription asked for are ever recorded.
            subscribed: true,
        })
    }

    /// One JSON line (without the newline), U+2028 and U+2029 escaped (see
    /// [`escape_line_separators`]).
    pub fn to_json(&self) -> String {
        escape_line_separators(serde_json::to_string(self).unwrap_or_default())
    }

    /// Pretty-printed JSON (several lines), separators escaped as in [`Line::to_json`].
    pub fn to_json_pretty(&self) -> String {
        escape_line_separators(serde_json::to_string_pretty(self).unwrap_or_default())
    }
}

/// Escapes U+2028 (line separator) and U+2029 (paragraph separator) as `\u2028`/`\u2029`.
/// Why: serde_json leaves them raw (valid JSON), but JavaScript before ES2019 and many
/// line-oriented tools take them for line ends, which splits one JSON Lines record in two.
/// In serde_json's output they can only occur inside strings, where the escape means the same.
pub fn escape_line_separators(json: String) -> String {
    if !json.contains(['\u{2028}', '\u{2029}']) {
        return json;
    }
    json.replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
}

/// Parses one line of a recording: `Ok(None)` for blank and comment lines.
pub fn parse_line(text: &str) -> Result<Option<Message>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let line: Line = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if line.topic.is_empty() {
        return Err("empty topic".into());
    }
    line.to_message().map(Some)
}

/// The message to publish when replaying a recorded one.
pub fn to_outgoing(m: Message) -> OutgoingMessage {
    let mut properties = m.properties;
    // Assigned by the receiving side; not something a publisher sends.
    properties.subscription_identifiers.clear();
    properties.topic_alias = None;
    OutgoingMessage {
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        properties,
    }
}

/// How fast to replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as the connection takes the messages.
    Fastest,
    /// Real time multiplied by this factor (1.0: as recorded).
    Factor(f64),
}

/// The latest a replayed message is ever due: a century, far beyond any real recording and
/// safe to add to an `Instant`.
const MAX_DUE: Duration = Duration::from_secs(100 * 365 * 86_400);

impl Speed {
    /// When the message recorded at `at` is due, relative to the start of the replay, for a
    /// recording whose first message was recorded at `first`.
    pub fn due(self, first: SystemTime, at: SystemTime) -> Duration {
        match self {
            Speed::Fastest => Duration::ZERO,
            Speed::Factor(f) => {
                let offset = at.duration_since(first).unwrap_or_default();
                // A crafted recording (timestamps centuries apart) at a slow speed would
                // overflow `Duration` or the caller's `Instant + due`: saturate at a century.
                Duration::try_from_secs_f64(offset.as_secs_f64() / f.max(1e-6))
                    .unwrap_or(MAX_DUE)
                    .min(MAX_DUE)
            }
        }
    }
}

impl std::str::FromStr for Speed {
    type Err = String;
    /// `max` (or `0`) for as fast as possible, else a factor like `1`, `2x`, `0.5`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") || s == "0" {
            return Ok(Speed::Fastest);
        }
        let s = s.trim_end_matches(['x', 'X']);
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f.is_finite() => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "speed must be a factor like 1, 10x or 0.5, or `max`; got `{s}`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_round_trip_with_properties() {
        let props = Properties {
            content_type: Some("application/octet-stream".into()),
            correlation_data: Some(Bytes::from_static(&[0, 1, 2, 255])),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        let messages = [
            Message {
                topic: "a/b".into(),
                payload: Bytes::from_static(b"{\"x\":1}"),
                qos: QoS::AtLeastOnce,
                retain: true,
                dup: false,
                received: UNIX_EPOCH + Duration::from_millis(1_764_140_000_123),
                properties: Properties::default(),
                subscribed: true,
            },
            Message {
                topic: "bin".into(),
                payload: Bytes::from_static(&[0xff, 0x00, 0xc3, 0x28]),
                qos: QoS::ExactlyOnce,
                retain: false,
                dup: true,
                received: UNIX_EPOCH + Duration::from_millis(5),
                properties: props,
                subscribed: true,
            },
        ];
        for m in messages {
            let json = Line::from_message(&m).to_json();
            assert!(!json.contains('\n'));
            assert_eq!(parse_line(&json).unwrap().unwrap(), m);
        }
        assert!(
            Line::from_message(&Message {
                payload: Bytes::from_static(&[0xff]),
                ..parse_line(r#"{"topic":"t","payload":""}"#).unwrap().unwrap()
            })
            .to_json()
            .contains("\"base64\"")
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_escaped_in_json_lines() {
        let m = Message {
            topic: "a\u{2028}b".into(),
            payload: Bytes::from("x\u{2029}y\u{2028}"),
            ..parse_line(r#"{"topic":"t","payload":""}"#).unwrap().unwrap()
        };
        let line = Line::from_message(&m);
        for json in [line.to_json(), line.to_json_pretty()] {
            assert!(!json.contains(['\u{2028}', '\u{2029}']), "{json}");
            assert!(
                json.contains(r"a\u2028b") && json.contains(r"x\u2029y\u2028"),
                "{json}"
            );
        }
        // Still the same message when read back.
        assert_eq!(parse_line(&line.to_json()).unwrap().unwrap(), m);
    }

    #[test]
    fn extreme_speeds_and_timestamps_do_not_panic() {
        let t0 = UNIX_EPOCH;
        let far = UNIX_EPOCH + Duration::from_millis(u64::MAX);
        for speed in ["1e-300", "0.000001", "1", "1e300"] {
            if let Ok(s) = speed.parse::<Speed>() {
                let due = s.due(t0, far);
                assert!(std::time::Instant::now().checked_add(due).is_some(), "{speed}");
            }
        }
        assert!("inf".parse::<Speed>().is_err());
        assert!("nan".parse::<Speed>().is_err());
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("# comment").unwrap(), None);
        for bad in [
            "{",
            "[]",
            r#"{"payload":"x"}"#,
            r#"{"topic":"","payload":"x"}"#,
            r#"{"topic":"t","payload":"%%%","encoding":"base64"}"#,
            r#"{"topic":"t","payload":"x","encoding":"rot13"}"#,
            r#"{"topic":"t","payload":"x","qos":7}"#,
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn speeds() {
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!("1".parse::<Speed>().unwrap().due(t0, t1), Duration::from_secs(10));
        assert_eq!(
            "10x".parse::<Speed>().unwrap().due(t0, t1),
            Duration::from_secs(1)
        );
        assert_eq!("max".parse::<Speed>().unwrap().due(t0, t1), Duration::ZERO);
        assert_eq!("1".parse::<Speed>().unwrap().due(t1, t0), Duration::ZERO);
        assert!("-1".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }
}
