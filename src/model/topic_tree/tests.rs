//! Tests of [`super`] (kept apart so the module reads in one sitting).

use super::*;
use crate::model::message::{Properties, QoS};
use std::time::SystemTime;

fn msg(topic: &str, payload: &str, retain: bool) -> Message {
    Message {
        topic: topic.into(),
        payload: Bytes::from(payload.to_owned()),
        qos: QoS::AtMostOnce,
        retain,
        dup: false,
        received: SystemTime::now(),
        properties: Properties::default(),
        subscribed: true,
    }
}

fn tree() -> TopicTree {
    let mut t = TopicTree::new();
    let now = Instant::now();
    t.insert(msg("plant/line1/temp", "20", true), now);
    t.insert(msg("plant/line1/temp", "21", false), now);
    t.insert(msg("plant/line2/Pressure", "1.1", false), now);
    t.insert(msg("home/kitchen", "on", false), now);
    t.insert(msg("$SYS/broker/uptime", "5", false), now);
    t
}

#[test]
fn counts_and_latest() {
    let t = tree();
    assert_eq!(t.topic_count(), 4);
    assert_eq!(t.total_messages(), 5);
    let temp = t.find("plant/line1/temp").unwrap();
    let node = t.node(temp);
    assert_eq!(node.messages(), 2);
    assert_eq!(&node.latest().unwrap().payload[..], b"21");
    assert_eq!(&node.message(1).unwrap().payload[..], b"20");
    assert!(node.message(1).unwrap().retain);
    assert!(!node.retained());
    assert_eq!(node.history_len(), 2);
    let plant = t.find("plant").unwrap();
    assert_eq!(t.node(plant).subtree_messages(), 3);
    assert_eq!(t.node(plant).subtree_topics(), 2);
    assert!(!t.node(plant).is_topic());
    assert_eq!(t.full_topic(temp), "plant/line1/temp");
    assert_eq!(t.ancestors(temp).count(), 2);
    assert_eq!(t.node(plant).parent(), Some(ROOT));
    assert_eq!(t.node(ROOT).parent(), None);
    assert!(t.last_update(temp).is_some());
    assert!(t.find("plant/line3").is_none());
    assert!(t.find("nothing").is_none());
}

#[test]
fn empty_segments_and_odd_topics_are_kept_apart() {
    let mut t = TopicTree::new();
    let now = Instant::now();
    for topic in ["/a", "a", "a/", "a//b", "/", "ü/Ö"] {
        t.insert(msg(topic, topic, false), now);
    }
    assert_eq!(t.topic_count(), 6);
    for topic in ["/a", "a", "a/", "a//b", "/", "ü/Ö"] {
        let id = t.find(topic).unwrap();
        assert_eq!(t.full_topic(id), topic);
        assert_eq!(&t.node(id).latest().unwrap().payload[..], topic.as_bytes());
    }
    assert_eq!(t.lower_name(t.find("ü/Ö").unwrap()), "ö");
}

#[test]
fn history_is_bounded_per_topic() {
    let mut t = TopicTree::new();
    let per_topic = t.limits().history_per_topic;
    for i in 0..(per_topic + 10) {
        t.insert(msg("a", &i.to_string(), false), Instant::now());
    }
    let node = t.node(t.find("a").unwrap());
    assert_eq!(node.history_len(), per_topic);
    assert_eq!(node.messages(), (per_topic + 10) as u64);
    assert_eq!(
        &node.latest().unwrap().payload[..],
        (per_topic + 9).to_string().as_bytes()
    );
    assert_eq!(
        &node.message(per_topic - 1).unwrap().payload[..],
        10.to_string().as_bytes()
    );
    assert!(!node.history_trimmed(), "the per-topic bound is not a trim");
}

#[test]
fn global_budget_evicts_oldest_history_first_and_keeps_every_latest() {
    let limits = Limits {
        history_budget: 20 * (HISTORY_ENTRY_OVERHEAD + 101),
        history_per_topic: 1000,
        history_payload_cap: 1000,
    };
    let mut t = TopicTree::with_limits(limits);
    let payload = "x".repeat(100);
    // 10 topics, 10 messages each, round robin: 90 history entries wanted, 20 fit.
    for round in 0..10 {
        for topic in 0..10 {
            t.insert(
                msg(&format!("t/{topic}"), &format!("{round}{payload}"), false),
                Instant::now(),
            );
        }
    }
    assert!(t.history_bytes() <= limits.history_budget);
    assert_eq!(t.history_evicted(), 70);
    for topic in 0..10 {
        let node = t.node(t.find(&format!("t/{topic}")).unwrap());
        assert_eq!(node.latest().unwrap().payload[0], b'9', "latest kept");
        assert_eq!(node.history_len(), 3, "the two newest older messages survive");
        assert_eq!(node.message(2).unwrap().payload[0], b'7');
        assert!(node.history_trimmed());
    }
    // Shrinking the budget evicts at once.
    t.set_limits(Limits {
        history_budget: 0,
        ..limits
    });
    assert_eq!(t.history_bytes(), 0);
    assert_eq!(t.node(t.find("t/3").unwrap()).history_len(), 1);
}

#[test]
fn eviction_queue_stays_bounded_under_endless_traffic() {
    let mut t = TopicTree::with_limits(Limits {
        history_per_topic: 3,
        ..Limits::default()
    });
    for i in 0..100_000 {
        t.insert(msg(&format!("t/{}", i % 5), "v", false), Instant::now());
    }
    assert_eq!(t.history_entries, 10);
    assert!(t.eviction.len() <= 2 * 10 + 4096 + 1, "{}", t.eviction.len());
}

#[test]
fn large_payloads_are_whole_as_latest_and_cut_in_history() {
    let mut t = TopicTree::with_limits(Limits {
        history_payload_cap: 10,
        ..Limits::default()
    });
    let big = "y".repeat(100_000);
    t.insert(msg("big", &big, true), Instant::now());
    let node = t.node(t.find("big").unwrap());
    assert_eq!(node.latest().unwrap().payload.len(), 100_000);
    assert!(!node.latest().unwrap().truncated());
    t.insert(msg("big", "small", false), Instant::now());
    let node = t.node(t.find("big").unwrap());
    let old = node.message(1).unwrap();
    assert_eq!(old.payload.len(), 10);
    assert_eq!(old.original_len(), 100_000);
    assert!(old.truncated());
    assert!(old.retain);
}

#[test]
fn properties_survive_and_default_when_absent() {
    let mut t = TopicTree::new();
    let mut m = msg("p", "1", false);
    m.properties.content_type = Some("text/plain".into());
    m.properties.user_properties.push(("k".into(), "v".into()));
    t.insert(m, Instant::now());
    t.insert(msg("q", "1", false), Instant::now());
    let p = t.node(t.find("p").unwrap()).latest().unwrap().properties();
    assert_eq!(p.content_type.as_deref(), Some("text/plain"));
    assert_eq!(p.user_properties, vec![("k".to_owned(), "v".to_owned())]);
    assert!(
        t.node(t.find("q").unwrap())
            .latest()
            .unwrap()
            .properties()
            .is_empty()
    );
}

#[test]
fn rows_follow_expansion_sorting_and_sys() {
    let mut t = tree();
    let names = |t: &TopicTree, rows: &[Row]| rows.iter().map(|r| t.full_topic(r.id)).collect::<Vec<_>>();
    let collapsed = t.visible_rows(&HashSet::new(), "", true);
    assert_eq!(names(&t, &collapsed), vec!["$SYS", "home", "plant"]);
    let hidden = t.visible_rows(&HashSet::new(), "", false);
    assert_eq!(names(&t, &hidden), vec!["home", "plant"]);
    let expanded: HashSet<NodeId> = [t.find("plant").unwrap()].into();
    let rows = t.visible_rows(&expanded, "", false);
    assert_eq!(
        names(&t, &rows),
        vec!["home", "plant", "plant/line1", "plant/line2"]
    );
    assert_eq!(rows[2].depth, 1);
}

#[test]
fn retained_below_finds_the_subtree_only() {
    let mut t = tree();
    t.insert(msg("plant/line2/Pressure", "", true), Instant::now());
    t.insert(msg("plant/line3", "9", true), Instant::now());
    let plant = t.find("plant").unwrap();
    let found: Vec<String> = t
        .retained_below(plant)
        .into_iter()
        .map(|n| t.full_topic(n))
        .collect();
    assert_eq!(
        found,
        ["plant/line3"],
        "temp's latest is not retained, an empty one is a deletion"
    );
    let line3 = t.find("plant/line3").unwrap();
    assert_eq!(t.retained_below(line3), vec![line3]);
}

#[test]
fn children_sort_naturally() {
    let mut t = TopicTree::new();
    for topic in ["s/sensor10", "s/sensor2", "s/Sensor1", "s/alpha", "s/sensor02"] {
        t.insert(msg(topic, "1", false), Instant::now());
    }
    let s = t.find("s").unwrap();
    let children: Vec<String> = t
        .sorted_children(s)
        .to_vec()
        .into_iter()
        .map(|c| t.name(c).to_owned())
        .collect();
    assert_eq!(children, ["alpha", "Sensor1", "sensor02", "sensor2", "sensor10"]);
}

#[test]
fn filter_shows_matches_with_ancestors() {
    let mut t = tree();
    let rows = t.visible_rows(&HashSet::new(), "PRESS", true);
    let names: Vec<String> = rows.iter().map(|r| t.full_topic(r.id)).collect();
    assert_eq!(names, vec!["plant", "plant/line2", "plant/line2/Pressure"]);
    let rows = t.visible_rows(&HashSet::new(), "line1/te", true);
    assert_eq!(rows.len(), 3);
    assert!(t.visible_rows(&HashSet::new(), "nothing", true).is_empty());
}
