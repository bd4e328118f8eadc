//! Time series charted from messages: a topic's numeric payload, or a number inside its JSON
//! payload picked by path. Fed as messages arrive; bounded in length.

use std::collections::{HashMap, VecDeque};
use std::time::UNIX_EPOCH;

use super::message::Message;
use super::topic_tree::TopicTree;

/// Points kept per series (the oldest go first).
pub const MAX_POINTS: usize = 100_000;

/// One charted value.
#[derive(Debug, Clone)]
pub struct Series {
    /// The topic.
    pub topic: String,
    /// Keys and array indices into the JSON payload (empty: the payload itself is the number).
    pub path: Vec<String>,
    /// (seconds since the Unix epoch, value), oldest first.
    pub points: VecDeque<[f64; 2]>,
}

impl Series {
    /// `topic` or `topic $.a[0].b`.
    pub fn label(&self) -> String {
        if self.path.is_empty() {
            self.topic.clone()
        } else {
            // Array indices are the all-digit keys (good enough for a label).
            let path =
                super::export::json_path(&self.path, |i| self.path[i].bytes().all(|b| b.is_ascii_digit()));
            format!("{} {path}", self.topic)
        }
    }

    fn push(&mut self, t: f64, v: f64) {
        if self.points.len() == MAX_POINTS {
            self.points.pop_front();
        }
        self.points.push_back([t, v]);
    }
}

/// The series of one connection.
#[derive(Debug, Clone, Default)]
pub struct Charts {
    /// The series, in the order added.
    pub series: Vec<Series>,
    by_topic: HashMap<String, Vec<usize>>,
    /// While paused, new points are not recorded.
    pub paused: bool,
    /// The connection's protobuf schema: payloads of bound topics are decoded with it (only
    /// those of charted topics, as they come).
    pub decoder: Option<super::proto::Decoder>,
}

/// The number at `path` in a payload: a number (or numeric text), or a JSON value reached by
/// keys and indices; `true`/`false` count as 1/0.
pub fn extract(payload: &[u8], path: &[String]) -> Option<f64> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    if path.is_empty()
        && let Ok(v) = text.parse::<f64>()
    {
        return v.is_finite().then_some(v);
    }
    pick(serde_json::from_str(text).ok()?, path)
}

/// The number at `path` in a JSON value (as [`extract`] reads it).
pub fn pick(mut value: serde_json::Value, path: &[String]) -> Option<f64> {
    for key in path {
        value = match value {
            serde_json::Value::Object(mut map) => map.remove(key)?,
            serde_json::Value::Array(mut items) => {
                let i: usize = key.parse().ok()?;
                (i < items.len()).then(|| items.swap_remove(i))?
            }
            _ => return None,
        };
    }
    match value {
        serde_json::Value::Number(n) => n.as_f64().or_else(|| n.to_string().parse().ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// Seconds since the Unix epoch, as the charts' x axis counts time (0 before the epoch).
pub fn unix_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl Charts {
    /// The number at `path` in a payload of `topic`: decoded with its bound protobuf type when
    /// there is one (nothing when it does not decode), else as [`extract`] reads it.
    fn value(&self, topic: &str, payload: &[u8], path: &[String]) -> Option<f64> {
        match self.decoder.as_ref().and_then(|d| d.decode(topic, payload)) {
            Some(decoded) => pick(decoded.ok()?.0, path),
            None => extract(payload, path),
        }
    }

    /// Whether nothing is charted.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Starts charting `path` of `topic` (no-op if already charted), filled from the history
    /// the tree still holds.
    pub fn add(&mut self, topic: &str, path: Vec<String>, tree: &TopicTree) {
        if self.series.iter().any(|s| s.topic == topic && s.path == path) {
            return;
        }
        let mut series = Series {
            topic: topic.to_owned(),
            path,
            points: VecDeque::new(),
        };
        if let Some(id) = tree.find(topic) {
            let node = tree.node(id);
            for i in (0..node.history_len()).rev() {
                if let Some(m) = node.message(i)
                    && let Some(v) = self.value(topic, &m.payload, &series.path)
                {
                    series.push(unix_seconds(m.received()), v);
                }
            }
        }
        self.by_topic
            .entry(series.topic.clone())
            .or_default()
            .push(self.series.len());
        self.series.push(series);
    }

    /// Stops charting series `index`.
    pub fn remove(&mut self, index: usize) {
        if index < self.series.len() {
            self.series.remove(index);
            self.by_topic.clear();
            for (i, s) in self.series.iter().enumerate() {
                self.by_topic.entry(s.topic.clone()).or_default().push(i);
            }
        }
    }

    /// Records the values a message carries for the charted series.
    pub fn feed(&mut self, m: &Message) {
        if self.paused {
            return;
        }
        let Some(indices) = self.by_topic.get(&m.topic) else {
            return;
        };
        for &i in indices {
            let value = self
                .series
                .get(i)
                .and_then(|s| self.value(&m.topic, &m.payload, &s.path));
            if let (Some(series), Some(v)) = (self.series.get_mut(i), value) {
                series.push(unix_seconds(m.received), v);
            }
        }
    }

    /// Every series as CSV: `time_utc,unix_seconds,series,value`, one row per point.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("time_utc,unix_seconds,series,value\n");
        for s in &self.series {
            let label = s.label().replace('"', "\"\"");
            for [t, v] in &s.points {
                let when = chrono::DateTime::from_timestamp_millis((t * 1000.0) as i64)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                    .unwrap_or_default();
                out.push_str(&format!("{when},{t:.3},\"{label}\",{v}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use bytes::Bytes;

    use super::*;
    use crate::model::message::{Properties, QoS};

    fn msg(topic: &str, payload: &str, secs: u64) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::from(payload.to_owned()),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            received: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            properties: Properties::default(),
            subscribed: true,
        }
    }

    #[test]
    fn values_are_extracted_by_path() {
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(extract(b" 21.5 ", &[]), Some(21.5));
        assert_eq!(
            extract(br#"{"a":{"b":[1,{"c":2.5}]}}"#, &p(&["a", "b", "1", "c"])),
            Some(2.5)
        );
        assert_eq!(extract(br#"{"v":"3"}"#, &p(&["v"])), Some(3.0));
        assert_eq!(extract(br#"{"on":true}"#, &p(&["on"])), Some(1.0));
        assert_eq!(extract(br#"{"v":"x"}"#, &p(&["v"])), None);
        assert_eq!(extract(br#"{"v":1}"#, &p(&["w"])), None);
        assert_eq!(extract(b"NaN", &[]), None);
        assert_eq!(extract(&[0xff], &[]), None);
    }

    #[test]
    fn series_backfill_feed_pause_and_csv() {
        let mut tree = TopicTree::new();
        tree.insert(msg("t", r#"{"v":1}"#, 10), Instant::now());
        tree.insert(msg("t", r#"{"v":2}"#, 11), Instant::now());
        let mut charts = Charts::default();
        charts.add("t", vec!["v".into()], &tree);
        charts.add("u", Vec::new(), &tree);
        assert_eq!(charts.series[0].points, [[10.0, 1.0], [11.0, 2.0]]);
        charts.feed(&msg("t", r#"{"v":3}"#, 12));
        charts.feed(&msg("u", "7", 12));
        charts.feed(&msg("other", "7", 12));
        charts.paused = true;
        charts.feed(&msg("t", r#"{"v":4}"#, 13));
        assert_eq!(charts.series[0].points.len(), 3);
        assert_eq!(charts.series[1].points, [[12.0, 7.0]]);
        let csv = charts.to_csv();
        assert!(
            csv.starts_with(
                "time_utc,unix_seconds,series,value\n1970-01-01T00:00:10.000Z,10.000,\"t $.v\",1\n"
            ),
            "{csv}"
        );
        charts.remove(0);
        charts.paused = false;
        charts.feed(&msg("u", "8", 14));
        assert_eq!(charts.series.len(), 1);
        assert_eq!(charts.series[0].points.len(), 2);
    }
}
