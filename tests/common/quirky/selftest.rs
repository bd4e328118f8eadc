//! Self-tests of the quirky broker: rumqttc (3.1.1 and 5) for the normal paths and the
//! aliases, raw TCP for the byte-level shapes (refusals, MQTT 3.1, hostile bytes).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::codec::{frame, put_binary};
use super::*;

const WAIT: Duration = Duration::from_secs(5);

// ---- raw socket helpers ----------------------------------------------------------------

fn raw(broker: &QuirkyBroker) -> TcpStream {
    TcpStream::connect(("127.0.0.1", broker.port)).expect("connect")
}

/// CONNECT with clean session, keep alive 60 and no properties.
fn connect_packet(protocol: &str, level: u8, client_id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    put_binary(&mut body, protocol.as_bytes());
    body.extend_from_slice(&[level, 0x02, 0, 60]);
    if level == 5 {
        body.push(0);
    }
    put_binary(&mut body, client_id.as_bytes());
    frame(0x10, &body)
}

/// SUBSCRIBE packet id 1, one filter at QoS 1 (3.x format).
fn subscribe_packet(filter: &str) -> Vec<u8> {
    let mut body = vec![0, 1];
    put_binary(&mut body, filter.as_bytes());
    body.push(1);
    frame(0x82, &body)
}

/// Everything readable until the peer closes (`true`) or goes quiet (`false`): up to 5 s for
/// the first `at_least` bytes (a loaded machine), then 500 ms of silence.
fn read_until_quiet(s: &mut TcpStream, at_least: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let patience = if out.len() < at_least { 5000 } else { 500 };
        s.set_read_timeout(Some(Duration::from_millis(patience))).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (out, false);
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (out, true),
            Err(e) => panic!("read: {e}"),
        }
    }
}

// ---- rumqttc helpers -----------------------------------------------------------------

async fn next_publish(el: &mut rumqttc::EventLoop) -> rumqttc::Publish {
    loop {
        let ev = tokio::time::timeout(WAIT, el.poll())
            .await
            .expect("publish in time");
        if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) = ev.expect("no error") {
            return p;
        }
    }
}

async fn next_incoming(el: &mut rumqttc::EventLoop, pick: impl Fn(&rumqttc::Packet) -> bool) {
    loop {
        let ev = tokio::time::timeout(WAIT, el.poll())
            .await
            .expect("packet in time");
        if let rumqttc::Event::Incoming(p) = ev.expect("no error")
            && pick(&p)
        {
            return;
        }
    }
}

mod v5 {
    pub use rumqttc::v5::mqttbytes::QoS;
    pub use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
    pub use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
}

async fn next_v5(el: &mut v5::EventLoop) -> v5::Packet {
    loop {
        let ev = tokio::time::timeout(WAIT, el.poll())
            .await
            .expect("packet in time");
        if let v5::Event::Incoming(p) = ev.expect("no error") {
            return p;
        }
    }
}

async fn next_publish_v5(el: &mut v5::EventLoop) -> v5::Publish {
    loop {
        if let v5::Packet::Publish(p) = next_v5(el).await {
            return p;
        }
    }
}

// ---- normal behaviour ----------------------------------------------------------------

#[test]
fn quirky_topic_matching() {
    assert!(topic_matches("a/#", "a", false));
    assert!(topic_matches("a/+/c", "a/b/c", false));
    assert!(!topic_matches("a/+", "a/b/c", false));
    assert!(topic_matches("#", "a/b", false));
    assert!(!topic_matches("#", "$SYS/x", false));
    assert!(topic_matches("#", "$SYS/x", true), "aedes");
    assert!(!topic_matches("+/x", "$SYS/x", true));
    assert!(topic_matches("$SYS/#", "$SYS/x", false));
}

#[tokio::test]
async fn quirky_v311_round_trip() {
    let broker = QuirkyBroker::start(Script {
        retained: vec![("a/kept".into(), b"old".to_vec())],
        ..Script::default()
    });
    let mut opts = rumqttc::MqttOptions::new("selftest-311", broker.host(), broker.port);
    opts.set_keep_alive(Duration::from_secs(7));
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    client.subscribe("a/#", rumqttc::QoS::AtLeastOnce).await.unwrap();

    let p = next_publish(&mut el).await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.retain),
        ("a/kept", &b"old"[..], true)
    );

    client
        .publish("a/b", rumqttc::QoS::AtLeastOnce, false, "hello")
        .await
        .unwrap();
    let p = next_publish(&mut el).await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.retain),
        ("a/b", &b"hello"[..], false)
    );
    assert_eq!(p.qos, rumqttc::QoS::AtLeastOnce);

    broker.publish("a/c", b"from broker", false);
    let p = next_publish(&mut el).await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("a/c", &b"from broker"[..]));

    client
        .publish("x/q2", rumqttc::QoS::ExactlyOnce, true, "two")
        .await
        .unwrap();
    next_incoming(&mut el, |p| matches!(p, rumqttc::Packet::PubComp(_))).await;
    assert_eq!(
        broker.retained(),
        vec![
            ("a/kept".into(), b"old".to_vec()),
            ("x/q2".into(), b"two".to_vec())
        ]
    );

    let c = &broker.connects()[0];
    assert_eq!(
        (c.protocol_name.as_str(), c.level, c.client_id.as_str()),
        ("MQTT", 4, "selftest-311")
    );
    assert_eq!((c.clean, c.keep_alive, c.session_expiry), (true, 7, None));
    assert_eq!(broker.subscribes(), vec![vec!["a/#".to_string()]]);
    assert_eq!(
        broker.published(),
        vec![
            ("a/b".into(), b"hello".to_vec(), 1, false),
            ("x/q2".into(), b"two".to_vec(), 2, true)
        ]
    );
    assert_eq!(broker.clients(), 1);
}

#[tokio::test]
async fn quirky_v5_round_trip() {
    let broker = QuirkyBroker::start(Script::default());
    let mut opts = v5::MqttOptions::new("selftest-5", broker.host(), broker.port);
    opts.set_session_expiry_interval(Some(3600));
    let (client, mut el) = v5::AsyncClient::new(opts, 10);
    client.subscribe("s/+", v5::QoS::AtMostOnce).await.unwrap();
    loop {
        if let v5::Packet::SubAck(_) = next_v5(&mut el).await {
            break;
        }
    }
    client
        .publish("s/1", v5::QoS::AtLeastOnce, false, "five")
        .await
        .unwrap();
    let p = next_publish_v5(&mut el).await;
    assert_eq!((&p.topic[..], &p.payload[..]), (&b"s/1"[..], &b"five"[..]));
    assert_eq!(p.qos, v5::QoS::AtMostOnce, "min(message QoS, subscription QoS)");
    // No alias without alias_reuse.
    assert!(p.properties.as_ref().and_then(|p| p.topic_alias).is_none());

    let c = &broker.connects()[0];
    assert_eq!(
        (c.protocol_name.as_str(), c.level, c.session_expiry),
        ("MQTT", 5, Some(3600))
    );
    assert_eq!(
        broker.published(),
        vec![("s/1".into(), b"five".to_vec(), 1, false)]
    );
}

#[test]
fn quirky_mqtt31_connect_and_subscribe_raw() {
    let broker = QuirkyBroker::start(Script::default());
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQIsdp", 3, "old-client")).unwrap();
    s.write_all(&subscribe_packet("t")).unwrap();
    broker.wait_for("the subscription", WAIT, |b| b.subscribes().len() == 1);
    broker.publish("t", b"hi", false);
    let (bytes, closed) = read_until_quiet(&mut s, 18);
    assert!(!closed);
    let mut want = vec![0x20, 2, 0, 0]; // CONNACK, 3.x format
    want.extend([0x90, 3, 0, 1, 1]); // SUBACK granting QoS 1
    want.extend([0x32, 7, 0, 1, b't', 0, 1, b'h', b'i']); // PUBLISH QoS 1, packet id 1
    assert_eq!(bytes, want);
    let c = &broker.connects()[0];
    assert_eq!(
        (c.protocol_name.as_str(), c.level, c.client_id.as_str()),
        ("MQIsdp", 3, "old-client")
    );
}

// ---- scripted quirks -----------------------------------------------------------------

#[tokio::test]
async fn quirky_alias_reuse_gives_rumqttc_an_empty_topic() {
    let broker = QuirkyBroker::start(Script::rumqttd());
    let mut opts = v5::MqttOptions::new("selftest-alias", broker.host(), broker.port);
    opts.set_topic_alias_max(Some(10));
    let (client, mut el) = v5::AsyncClient::new(opts, 10);
    client.subscribe("#", v5::QoS::AtMostOnce).await.unwrap();
    loop {
        if let v5::Packet::SubAck(_) = next_v5(&mut el).await {
            break;
        }
    }
    for (topic, payload) in [("t/1", "a"), ("t/1", "b"), ("t/2", "c"), ("t/1", "d")] {
        broker.publish(topic, payload.as_bytes(), false);
    }
    let mut seen = Vec::new();
    for _ in 0..4 {
        let p = next_publish_v5(&mut el).await;
        let alias = p.properties.as_ref().and_then(|p| p.topic_alias);
        seen.push((
            String::from_utf8(p.topic.to_vec()).unwrap(),
            alias,
            p.payload.to_vec(),
        ));
    }
    // Alias 1 stands for t/1, yet later deliveries to t/2 use it too (rumqttd's bug).
    let want = [("t/1", b"a"), ("", b"b"), ("", b"c"), ("", b"d")];
    let want: Vec<_> = want
        .iter()
        .map(|(t, p)| (t.to_string(), Some(1), p.to_vec()))
        .collect();
    assert_eq!(
        seen, want,
        "rumqttc hands out the aliased PUBLISH with an empty topic"
    );
    assert_eq!(broker.connects()[0].topic_alias_max, Some(10));
}

#[test]
fn quirky_refusal_shapes_raw() {
    let cases = [
        (V5Refusal::V3ConnackRc1, vec![0x20, 2, 0, 1], true),
        (V5Refusal::V5Reason0x84, vec![0x20, 3, 0, 0x84, 0], true),
        (V5Refusal::CloseSocket, vec![], true),
        (V5Refusal::Silent, vec![], false),
    ];
    for (refusal, want, want_closed) in cases {
        let broker = QuirkyBroker::start(Script {
            accept: vec![3, 4],
            refuse_v5_as: refusal,
            ..Script::default()
        });
        let mut s = raw(&broker);
        s.write_all(&connect_packet("MQTT", 5, "v5-client")).unwrap();
        let (bytes, closed) = read_until_quiet(&mut s, want.len());
        assert_eq!((bytes, closed), (want, want_closed), "{refusal:?}");
        assert_eq!(broker.connects()[0].level, 5);
        assert_eq!(broker.clients(), 0);
    }
    // The refusal applies to any level not accepted, e.g. 3.1 at a 3.1.1-only broker.
    let broker = QuirkyBroker::start(Script {
        accept: vec![4],
        refuse_v5_as: V5Refusal::V3ConnackRc1,
        ..Script::default()
    });
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQIsdp", 3, "old")).unwrap();
    assert_eq!(read_until_quiet(&mut s, 4), (vec![0x20, 2, 0, 1], true));
}

#[tokio::test]
async fn quirky_disconnect_on_subscribe() {
    let broker = QuirkyBroker::start(Script::rumqttd());
    let opts = rumqttc::MqttOptions::new("selftest-sys", broker.host(), broker.port);
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    client
        .subscribe("$SYS/#", rumqttc::QoS::AtMostOnce)
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(WAIT, el.poll())
            .await
            .expect("event in time")
        {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => panic!("got a SUBACK"),
            Ok(_) => {}
            Err(_) => break, // connection closed by the broker
        }
    }
    assert_eq!(broker.subscribes(), vec![vec!["$SYS/#".to_string()]]);
    broker.wait_for("the client to be gone", WAIT, |b| b.clients() == 0);
}

#[tokio::test]
async fn quirky_drop_retained_keeps_nothing() {
    let broker = QuirkyBroker::start(Script {
        drop_retained: true,
        ..Script::default()
    });
    let opts = rumqttc::MqttOptions::new("selftest-noretain", broker.host(), broker.port);
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    client
        .subscribe("kept/#", rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    next_incoming(&mut el, |p| matches!(p, rumqttc::Packet::SubAck(_))).await;
    client
        .publish("kept/x", rumqttc::QoS::AtLeastOnce, true, "live only")
        .await
        .unwrap();
    // Delivered live...
    let p = next_publish(&mut el).await;
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("kept/x", &b"live only"[..]));
    // ...and not kept.
    assert!(broker.retained().is_empty());
}

#[tokio::test]
async fn quirky_unasked_at_connect() {
    let broker = QuirkyBroker::start(Script::amqtt(vec![("elsewhere/x".into(), b"pushed".to_vec())]));
    let opts = rumqttc::MqttOptions::new("selftest-amqtt", broker.host(), broker.port);
    let (_client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    let p = next_publish(&mut el).await;
    assert_eq!(
        (p.topic.as_str(), &p.payload[..], p.retain),
        ("elsewhere/x", &b"pushed"[..], true)
    );
    assert!(broker.subscribes().is_empty());
}

#[test]
fn quirky_close_on_publish_topic_raw() {
    let broker = QuirkyBroker::start(Script {
        close_on_publish_topic: vec!["die".into()],
        ..Script::default()
    });
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQTT", 4, "c")).unwrap();
    let mut body = Vec::new();
    put_binary(&mut body, b"die");
    body.extend_from_slice(&[0, 9, b'!']);
    s.write_all(&frame(0x32, &body)).unwrap(); // QoS 1, packet id 9
    assert_eq!(
        read_until_quiet(&mut s, 4),
        (vec![0x20, 2, 0, 0], true),
        "no PUBACK, closed"
    );
    assert_eq!(broker.published(), vec![("die".into(), b"!".to_vec(), 1, false)]);
}

#[test]
fn quirky_dollar_topics_reach_hash_on_aedes() {
    for (script, delivered) in [(Script::default(), false), (Script::aedes(), true)] {
        let broker = QuirkyBroker::start(script);
        let mut s = raw(&broker);
        s.write_all(&connect_packet("MQTT", 4, "c")).unwrap();
        s.write_all(&subscribe_packet("#")).unwrap();
        broker.wait_for("the subscription", WAIT, |b| b.subscribes().len() == 1);
        broker.publish("$SYS/x", b"1", false);
        let (bytes, _) = read_until_quiet(&mut s, 9);
        assert_eq!(bytes.len() > 9, delivered, "{bytes:?}");
    }
}

/// After CONNACK + SUBACK (`20 02 00 00 90 03 00 01 01`), the hostile bytes.
fn hostile_after_suback(h: Hostile) -> (Vec<u8>, bool) {
    let broker = QuirkyBroker::start(Script {
        hostile: Some(h),
        ..Script::default()
    });
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQTT", 4, "c")).unwrap();
    s.write_all(&subscribe_packet("#")).unwrap();
    let (bytes, closed) = read_until_quiet(&mut s, 10);
    assert_eq!(bytes[..9], [0x20, 2, 0, 0, 0x90, 3, 0, 1, 1]);
    (bytes[9..].to_vec(), closed)
}

#[test]
fn quirky_hostile_bytes_raw() {
    let huge = vec![0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0, 1, b'a', b'x', b'x', b'x'];
    assert_eq!(hostile_after_suback(Hostile::HugeRemainingLength), (huge, false));
    let five = vec![0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 1, b'a', b'x'];
    assert_eq!(
        hostile_after_suback(Hostile::FiveContinuationBytes),
        (five, false)
    );
    let bad_utf8 = vec![0x30, 9, 0, 6, b'b', b'a', b'd', b'/', 0xFF, 0xFE, b'x'];
    assert_eq!(hostile_after_suback(Hostile::InvalidUtf8Topic), (bad_utf8, false));
    let (wild, _) = hostile_after_suback(Hostile::WildcardTopic);
    assert_eq!(
        wild,
        [&[0x30, 8, 0, 5][..], b"a/#/bx", &[0x30, 4, 0, 1, b'+', b'y']].concat()
    );
    let (noise, closed) = hostile_after_suback(Hostile::Garbage);
    assert_eq!((noise.len(), &noise[..2], closed), (64, &[0u8, 0][..], false));

    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::UnknownConnackCode(0x07)),
        ..Script::default()
    });
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQTT", 5, "c")).unwrap();
    assert_eq!(read_until_quiet(&mut s, 5), (vec![0x20, 3, 0, 7, 0], true));
}

#[tokio::test]
async fn quirky_flood_at_connect() {
    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::Flood { topics: 2000 }),
        hostile_at_connect: true,
        ..Script::default()
    });
    let opts = rumqttc::MqttOptions::new("selftest-flood", broker.host(), broker.port);
    let (_client, mut el) = rumqttc::AsyncClient::new(opts, 10);
    for i in 0..2000 {
        let p = next_publish(&mut el).await;
        assert_eq!(
            (p.topic, p.payload.to_vec()),
            (format!("flood/{i}"), i.to_string().into_bytes())
        );
    }
}

/// How rumqttc 0.25 (3.1.1, default options) reacts to each stream-level hostile: an error
/// from `poll()` within 5 s, printed so the next engineer sees which (`--nocapture`).
#[tokio::test]
async fn quirky_hostiles_make_rumqttc_fail() {
    let hostiles = [
        Hostile::HugeRemainingLength,
        Hostile::FiveContinuationBytes,
        Hostile::InvalidUtf8Topic,
        Hostile::Garbage,
        Hostile::UnknownConnackCode(0x07),
    ];
    for h in hostiles {
        let broker = QuirkyBroker::start(Script {
            hostile: Some(h.clone()),
            hostile_at_connect: true,
            ..Script::default()
        });
        let opts = rumqttc::MqttOptions::new("selftest-hostile", broker.host(), broker.port);
        let (_client, mut el) = rumqttc::AsyncClient::new(opts, 10);
        let err = loop {
            match tokio::time::timeout(WAIT, el.poll()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => break e,
                Err(_) => panic!("{h:?}: rumqttc did not fail within {WAIT:?}"),
            }
        };
        println!("{h:?}: {err:?}");
    }
}

#[test]
fn quirky_v5_suback_unsuback_raw() {
    let broker = QuirkyBroker::start(Script::default());
    let mut s = raw(&broker);
    s.write_all(&connect_packet("MQTT", 5, "c")).unwrap();
    // SUBSCRIBE id 1, no properties, "a/+" with options 0x02 (QoS 2).
    let mut body = vec![0, 1, 0];
    put_binary(&mut body, b"a/+");
    body.push(0x02);
    s.write_all(&frame(0x82, &body)).unwrap();
    // UNSUBSCRIBE id 2, no properties, "a/+".
    let mut body = vec![0, 2, 0];
    put_binary(&mut body, b"a/+");
    s.write_all(&frame(0xA2, &body)).unwrap();
    s.write_all(&[0xC0, 0]).unwrap(); // PINGREQ
    let want = [
        &[0x20, 3, 0, 0, 0][..],    // CONNACK v5
        &[0x90, 4, 0, 1, 0, 2][..], // SUBACK: id, no properties, QoS 2 granted
        &[0xB0, 4, 0, 2, 0, 0][..], // UNSUBACK: id, no properties, reason 0
        &[0xD0, 0][..],             // PINGRESP
    ]
    .concat();
    assert_eq!(read_until_quiet(&mut s, want.len()), (want, false));
}
