use std::time::{Duration, SystemTime};

use super::*;

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)
}

fn publish(ms: u64, dir: Direction, pkid: u16, topic: &str) -> PacketEntry {
    let mut e = PacketEntry::new(at(ms), dir, PacketKind::Publish).with_pkid(pkid);
    e.topic = Some(topic.into());
    e.qos = Some(if pkid == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    });
    e.size = Some(5);
    e
}

fn ack(ms: u64, dir: Direction, kind: PacketKind, pkid: u16) -> PacketEntry {
    PacketEntry::new(at(ms), dir, kind).with_pkid(pkid)
}

#[test]
fn the_ring_keeps_the_newest_and_counts_what_it_dropped() {
    let mut t = Timeline::with_capacity(3);
    for i in 0..5u16 {
        t.push(publish(u64::from(i), Direction::In, 0, &format!("t/{i}")));
    }
    assert_eq!(t.rows().len(), 3);
    assert_eq!(t.dropped(), 2);
    assert_eq!(t.generation(), 5);
    assert_eq!(t.rows()[0].entry.topic.as_deref(), Some("t/2"));
}

#[test]
fn acknowledgements_pair_with_their_publish_by_packet_id_and_direction() {
    let mut t = Timeline::default();
    t.push(PacketEntry::new(at(0), Direction::Out, PacketKind::Connect));
    t.push(publish(10, Direction::Out, 1, "a"));
    t.push(publish(12, Direction::In, 1, "b"));
    // Broker's PUBACK to our pkid 1, and our PUBACK to its pkid 1: two separate flows.
    assert_eq!(
        t.push(ack(15, Direction::Out, PacketKind::PubAck, 1)).latency,
        Some(Duration::from_millis(3))
    );
    assert_eq!(
        t.push(ack(40, Direction::In, PacketKind::PubAck, 1)).latency,
        Some(Duration::from_millis(30))
    );
    // Paired once: a second PUBACK answers nothing.
    assert_eq!(
        t.push(ack(50, Direction::In, PacketKind::PubAck, 1)).latency,
        None
    );
}

#[test]
fn every_step_of_qos_2_is_timed_from_the_publish() {
    let mut t = Timeline::default();
    t.push(publish(0, Direction::Out, 7, "a"));
    assert_eq!(
        t.push(ack(5, Direction::In, PacketKind::PubRec, 7)).latency,
        Some(Duration::from_millis(5))
    );
    assert_eq!(
        t.push(ack(6, Direction::Out, PacketKind::PubRel, 7)).latency,
        Some(Duration::from_millis(6))
    );
    assert_eq!(
        t.push(ack(9, Direction::In, PacketKind::PubComp, 7)).latency,
        Some(Duration::from_millis(9))
    );
    // Incoming QoS 2: our PUBREC, its PUBREL, our PUBCOMP.
    t.push(publish(20, Direction::In, 3, "b"));
    assert_eq!(
        t.push(ack(21, Direction::Out, PacketKind::PubRec, 3)).latency,
        Some(Duration::from_millis(1))
    );
    assert_eq!(
        t.push(ack(24, Direction::In, PacketKind::PubRel, 3)).latency,
        Some(Duration::from_millis(4))
    );
    assert_eq!(
        t.push(ack(25, Direction::Out, PacketKind::PubComp, 3)).latency,
        Some(Duration::from_millis(5))
    );
}

#[test]
fn pings_and_subscriptions_are_timed_and_a_slow_one_stands_out() {
    let mut t = Timeline::default();
    t.push(PacketEntry::new(at(0), Direction::Out, PacketKind::PingReq));
    let pong = t.push(PacketEntry::new(at(4), Direction::In, PacketKind::PingResp));
    assert_eq!(pong.latency, Some(Duration::from_millis(4)));
    assert!(!pong.stands_out());
    t.push(ack(10, Direction::Out, PacketKind::Subscribe, 2));
    let suback = t.push(ack(1_510, Direction::In, PacketKind::SubAck, 2));
    assert_eq!(suback.latency, Some(Duration::from_millis(1_500)));
    assert!(suback.slow, "over a second is slow");
}

#[test]
fn an_acknowledgement_far_above_the_median_is_slow_and_a_dup_stands_out() {
    let mut t = Timeline::default();
    let mut ms = 0;
    for pkid in 1..=40u16 {
        t.push(publish(ms, Direction::Out, pkid, "a"));
        let row = t.push(ack(ms + 2, Direction::In, PacketKind::PubAck, pkid));
        assert!(!row.slow, "2 ms like the others is not slow");
        ms += 10;
    }
    t.push(publish(ms, Direction::Out, 41, "a"));
    let row = t.push(ack(ms + 300, Direction::In, PacketKind::PubAck, 41));
    assert!(row.slow, "300 ms where the median is 2 ms stands out");
    let mut again = publish(ms + 400, Direction::Out, 42, "a");
    again.dup = true;
    assert!(t.push(again).stands_out());
}

#[test]
fn a_retransmission_keeps_the_time_of_the_first_send() {
    let mut t = Timeline::default();
    t.push(publish(0, Direction::Out, 9, "a"));
    let mut dup = publish(500, Direction::Out, 9, "a");
    dup.dup = true;
    t.push(dup);
    assert_eq!(
        t.push(ack(600, Direction::In, PacketKind::PubAck, 9)).latency,
        Some(Duration::from_millis(600))
    );
}

#[test]
fn the_filter_narrows_by_type_topic_and_packet_id() {
    let mut t = Timeline::default();
    t.push(PacketEntry::new(at(0), Direction::Out, PacketKind::Connect));
    t.push(publish(1, Direction::Out, 1, "Home/Kitchen"));
    t.push(publish(2, Direction::Out, 2, "garden"));
    t.push(ack(3, Direction::In, PacketKind::PubAck, 1));
    assert_eq!(t.matching(&Filter::default()).len(), 4);
    let mut f = Filter::default();
    f.set_shown(PacketKind::PubAck, false);
    f.set_shown(PacketKind::Connect, false);
    assert_eq!(t.matching(&f), vec![1, 2]);
    f.topic = "kitchen".into();
    assert_eq!(t.matching(&f), vec![1]);
    let f = Filter {
        pkid: Some(1),
        ..Filter::default()
    };
    assert_eq!(t.matching(&f), vec![1, 3]);
}

#[test]
fn jsonl_has_one_object_per_row_with_the_fields_that_apply() {
    let mut t = Timeline::default();
    t.push(PacketEntry::new(at(0), Direction::Out, PacketKind::Connect).with_details("client id a"));
    let mut p = publish(10, Direction::Out, 1, "a/b");
    p.retain = true;
    t.push(p);
    t.push(ack(1_500, Direction::In, PacketKind::PubAck, 1));
    let text = t.to_jsonl(&Filter::default());
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "CONNECT");
    assert_eq!(lines[0]["details"], "client id a");
    assert!(lines[0].get("pkid").is_none());
    assert_eq!(lines[1]["dir"], "out");
    assert_eq!(lines[1]["topic"], "a/b");
    assert_eq!(lines[1]["qos"], 1);
    assert_eq!(lines[1]["retain"], true);
    assert_eq!(lines[1]["t_ms"].as_f64(), Some(10.0));
    assert_eq!(lines[2]["latency_ms"].as_f64(), Some(1490.0));
    assert_eq!(lines[2]["slow"], true);
    let text_line = text_line(&t.rows()[2], t.started());
    assert!(
        text_line.contains("PUBACK") && text_line.ends_with("SLOW"),
        "{text_line}"
    );
}
