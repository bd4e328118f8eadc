//! Exports: a topic's history or a subtree's latest values as JSON Lines (the recording
//! format, so an export can be replayed) or CSV.

use super::recording::Line;
use super::topic_tree::{NodeId, StoredMessage, TopicTree};

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, as `canopy record` writes.
    JsonLines,
    /// `time_utc,topic,qos,retain,bytes,encoding,payload`.
    Csv,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::JsonLines => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// A message to export with its topic.
pub type Entry = (String, StoredMessage);

/// A topic's messages, oldest first.
pub fn history(tree: &TopicTree, id: NodeId) -> Vec<Entry> {
    let topic = tree.full_topic(id);
    let node = tree.node(id);
    // A topic no subscription asked for is never exported (see `Node::unasked`).
    let kept = if node.unasked() { 0 } else { node.history_len() };
    (0..kept)
        .rev()
        .filter_map(|i| node.message(i))
        .map(|m| (topic.clone(), m.clone()))
        .collect()
}

/// The latest message of every topic at or below `id`, in tree order.
pub fn latest_below(tree: &mut TopicTree, id: NodeId) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        let node = tree.node(n);
        // Topics no subscription asked for stay out of exports (see `Node::unasked`).
        if let Some(m) = node.latest().filter(|_| !node.unasked()) {
            out.push((tree.full_topic(n), m.clone()));
        }
        stack.extend(tree.sorted_children(n).iter().rev().copied());
    }
    out
}

fn line(topic: &str, m: &StoredMessage) -> Line {
    Line::new(
        topic,
        &m.payload,
        m.qos,
        m.retain,
        m.dup,
        m.received(),
        m.properties(),
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The entries in `format`.
pub fn write(entries: &[Entry], format: Format) -> String {
    write_decoded(entries, format, None)
}

/// The entries in `format`, payloads of topics bound to a protobuf type decoded with
/// `decoder`: JSON Lines carry the JSON beside the payload (`"protobuf": {"type", "json"}`),
/// CSV puts it in the payload column (encoding `protobuf`).
pub fn write_decoded(entries: &[Entry], format: Format, decoder: Option<&super::proto::Decoder>) -> String {
    let mut out = String::new();
    if format == Format::Csv {
        out.push_str("time_utc,topic,qos,retain,bytes,encoding,payload\n");
    }
    for (topic, m) in entries {
        let mut l = line(topic, m);
        l.protobuf = decoder.and_then(|d| d.decode_json(topic, &m.payload));
        if format == Format::Csv
            && let Some(json) = l.protobuf.as_ref().and_then(|p| p.json.as_ref())
        {
            l.payload = json.to_string();
            l.encoding = "protobuf".into();
        }
        match format {
            Format::JsonLines => {
                out.push_str(&l.to_json());
                out.push('\n');
            }
            Format::Csv => {
                let when = chrono::DateTime::from_timestamp_millis(l.timestamp_ms as i64)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{when},{},{},{},{},{},{}\n",
                    csv_field(topic),
                    l.qos,
                    l.retain,
                    m.original_len(),
                    l.encoding,
                    csv_field(&l.payload)
                ));
            }
        }
    }
    out
}

/// A JSON path (`$.a.b[0]`) from keys and indices as the JSON tree gives them.
pub fn json_path(path: &[String], value_is_index: impl Fn(usize) -> bool) -> String {
    let mut out = String::from("$");
    for (i, key) in path.iter().enumerate() {
        if value_is_index(i) {
            out.push_str(&format!("[{key}]"));
        } else if key.chars().all(|c| c.is_alphanumeric() || c == '_') && !key.is_empty() {
            out.push('.');
            out.push_str(key);
        } else {
            out.push_str(&format!("[{:?}]", key));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use bytes::Bytes;

    use super::*;
    use crate::model::message::{Message, Properties, QoS};
    use crate::model::recording::parse_line;

    fn msg(topic: &str, payload: &[u8], secs: u64) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload),
            qos: QoS::AtLeastOnce,
            retain: true,
            dup: false,
            received: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            properties: Properties::default(),
            subscribed: true,
        }
    }

    #[test]
    fn history_and_subtree_exports_round_trip_as_recordings() {
        let mut t = TopicTree::new();
        t.insert(msg("a/x", b"1", 1), Instant::now());
        t.insert(msg("a/x", b"2, \"two\"", 2), Instant::now());
        t.insert(msg("a/y", &[0xff, 0], 3), Instant::now());
        t.insert(msg("b", b"other", 4), Instant::now());
        let x = t.find("a/x").unwrap();
        let jsonl = write(&history(&t, x), Format::JsonLines);
        let back: Vec<Message> = jsonl.lines().map(|l| parse_line(l).unwrap().unwrap()).collect();
        assert_eq!(back.len(), 2);
        assert_eq!(&back[0].payload[..], b"1", "oldest first");
        assert_eq!(back[1].received, SystemTime::UNIX_EPOCH + Duration::from_secs(2));

        let a = t.find("a").unwrap();
        let csv = write(&latest_below(&mut t, a), Format::Csv);
        assert_eq!(
            csv,
            "time_utc,topic,qos,retain,bytes,encoding,payload\n\
             1970-01-01T00:00:02.000Z,a/x,1,true,8,utf8,\"2, \"\"two\"\"\"\n\
             1970-01-01T00:00:03.000Z,a/y,1,true,2,base64,/wA=\n"
        );
    }

    #[test]
    fn json_paths() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(json_path(&p(&["temp", "value"]), |_| false), "$.temp.value");
        assert_eq!(json_path(&p(&["tags", "0"]), |i| i == 1), "$.tags[0]");
        assert_eq!(json_path(&p(&["a b"]), |_| false), "$[\"a b\"]");
    }
}
