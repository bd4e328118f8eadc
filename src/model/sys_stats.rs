//! Broker statistics read from the `$SYS` topics in a topic tree, for the mosquitto layout
//! (`$SYS/broker/...`) and the EMQX one (`$SYS/brokers/<node>/...`).

use super::topic_tree::{NodeId, TopicTree};

/// Which `$SYS` layout the broker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// mosquitto (and brokers copying it): `$SYS/broker/...`.
    Mosquitto,
    /// EMQX: `$SYS/brokers/<node>/...`.
    Emqx,
}

/// One figure: a label, its text, and its recent history as (unix seconds, value) when numeric.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// The latest value as published.
    pub text: String,
    /// Recent values, oldest first (from the topic's history).
    pub history: Vec<[f64; 2]>,
}

/// What the broker says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerStats {
    /// The layout found.
    pub layout: Layout,
    /// The figures found, in display order.
    pub figures: Vec<Figure>,
}

impl BrokerStats {
    /// A figure by label.
    pub fn get(&self, label: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.label == label)
    }
}

/// (label, mosquitto topic, EMQX topic below `$SYS/brokers/<node>/`, chart it).
const FIGURES: &[(&str, &str, &str, bool)] = &[
    ("Version", "$SYS/broker/version", "version", false),
    ("Uptime", "$SYS/broker/uptime", "uptime", false),
    (
        "Clients connected",
        "$SYS/broker/clients/connected",
        "stats/connections/count",
        true,
    ),
    (
        "Clients total",
        "$SYS/broker/clients/total",
        "stats/clients/count",
        false,
    ),
    (
        "Subscriptions",
        "$SYS/broker/subscriptions/count",
        "stats/subscriptions/count",
        false,
    ),
    (
        "Retained messages",
        "$SYS/broker/retained messages/count",
        "stats/retained/count",
        false,
    ),
    (
        "Messages received / min",
        "$SYS/broker/load/messages/received/1min",
        "metrics/messages/received",
        true,
    ),
    (
        "Messages sent / min",
        "$SYS/broker/load/messages/sent/1min",
        "metrics/messages/sent",
        true,
    ),
    (
        "Bytes received / min",
        "$SYS/broker/load/bytes/received/1min",
        "metrics/bytes/received",
        true,
    ),
    (
        "Bytes sent / min",
        "$SYS/broker/load/bytes/sent/1min",
        "metrics/bytes/sent",
        true,
    ),
    ("Messages received", "$SYS/broker/messages/received", "", false),
    ("Messages sent", "$SYS/broker/messages/sent", "", false),
    ("Heap", "$SYS/broker/heap/current", "", false),
];

fn figure(tree: &TopicTree, id: NodeId, label: &'static str, chart: bool) -> Option<Figure> {
    let node = tree.node(id);
    let latest = node.latest()?;
    let text = String::from_utf8_lossy(&latest.payload).trim().to_owned();
    let history = if chart {
        (0..node.history_len())
            .rev()
            .filter_map(|i| node.message(i))
            .filter_map(|m| {
                let v: f64 = std::str::from_utf8(&m.payload).ok()?.trim().parse().ok()?;
                // Stored times are never before the epoch.
                Some([super::series::unix_seconds(m.received()), v])
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(Figure { label, text, history })
}

/// The broker statistics in `tree`, if it holds `$SYS` topics of a known layout.
pub fn read(tree: &mut TopicTree) -> Option<BrokerStats> {
    if tree.find("$SYS/broker").is_some() {
        let figures = FIGURES
            .iter()
            .filter_map(|(label, topic, _, chart)| figure(tree, tree.find(topic)?, label, *chart))
            .collect();
        return Some(BrokerStats {
            layout: Layout::Mosquitto,
            figures,
        });
    }
    let brokers = tree.find("$SYS/brokers")?;
    let node = *tree.sorted_children(brokers).first()?;
    let base = tree.full_topic(node);
    let figures = FIGURES
        .iter()
        .filter(|(_, _, emqx, _)| !emqx.is_empty())
        .filter_map(|(label, _, emqx, chart)| {
            let id = tree.find(&format!("{base}/{emqx}"))?;
            figure(tree, id, label, *chart)
        })
        .collect();
    Some(BrokerStats {
        layout: Layout::Emqx,
        figures,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use bytes::Bytes;

    use super::*;
    use crate::model::message::{Message, Properties, QoS};

    fn put(t: &mut TopicTree, topic: &str, payload: &str, secs: u64) {
        t.insert(
            Message {
                topic: topic.into(),
                payload: Bytes::from(payload.to_owned()),
                qos: QoS::AtMostOnce,
                retain: true,
                dup: false,
                received: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
                properties: Properties::default(),
                subscribed: true,
            },
            Instant::now(),
        );
    }

    #[test]
    fn mosquitto_layout() {
        let mut t = TopicTree::new();
        put(&mut t, "$SYS/broker/version", "mosquitto version 2.0.11", 1);
        put(&mut t, "$SYS/broker/clients/connected", "3", 1);
        put(&mut t, "$SYS/broker/load/messages/received/1min", "10.5", 1);
        put(&mut t, "$SYS/broker/load/messages/received/1min", "12", 2);
        let s = read(&mut t).unwrap();
        assert_eq!(s.layout, Layout::Mosquitto);
        assert_eq!(s.get("Version").unwrap().text, "mosquitto version 2.0.11");
        assert_eq!(s.get("Clients connected").unwrap().text, "3");
        assert_eq!(
            s.get("Messages received / min").unwrap().history,
            [[1.0, 10.5], [2.0, 12.0]]
        );
        assert!(s.get("Uptime").is_none());
    }

    #[test]
    fn emqx_layout_and_none() {
        let mut t = TopicTree::new();
        assert!(read(&mut t).is_none());
        put(&mut t, "$SYS/brokers/emqx@127.0.0.1/version", "5.8.0", 1);
        put(
            &mut t,
            "$SYS/brokers/emqx@127.0.0.1/uptime",
            "1 hours, 2 minutes",
            1,
        );
        put(
            &mut t,
            "$SYS/brokers/emqx@127.0.0.1/stats/connections/count",
            "42",
            1,
        );
        let s = read(&mut t).unwrap();
        assert_eq!(s.layout, Layout::Emqx);
        assert_eq!(s.get("Version").unwrap().text, "5.8.0");
        assert_eq!(s.get("Clients connected").unwrap().text, "42");
        assert_eq!(s.get("Uptime").unwrap().text, "1 hours, 2 minutes");
    }
}
