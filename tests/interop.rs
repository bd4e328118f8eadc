//! Correct with every broker: each behaviour of aedes, amqtt, rumqttd and RabbitMQ that once
//! made Canopy lose data or loop, reproduced by the quirky test broker, against the engine and
//! against the built `canopy` binary. Named after what broke.

use std::process::{Command as Process, Output};
use std::time::{Duration, Instant};

use canopy::engine::{Command, ConnectionId, ConnectionState, ErrorKind, Event, PublishOutcome, Token};
use canopy::model::message::{OutgoingMessage, QoS};
use canopy::profiles::profile::{MqttVersion, Profile, Subscription};

use crate::common::quirky::{QuirkyBroker, Script, V5Refusal};
use crate::common::{Client, quick};

fn profile(broker: &QuirkyBroker, filters: &[&str]) -> Profile {
    let mut p = quick(Profile::tcp(broker.host(), broker.port));
    p.subscriptions = filters
        .iter()
        .map(|f| Subscription::new(*f, QoS::AtLeastOnce))
        .collect();
    p
}

fn canopy(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_canopy"))
        .env_remove("CANOPY_PASSWORD")
        .env_remove("CANOPY_PROFILES")
        .args(args)
        .output()
        .expect("run canopy")
}

/// amqtt pushes retained messages of other clients' subscriptions at CONNECT: `clear-retained
/// -t 'mine/#'` once deleted `other/secret`.
#[test]
fn clear_retained_never_deletes_what_the_broker_pushed_unasked() {
    let mut script = Script::amqtt(vec![("other/secret".into(), b"keep me".to_vec())]);
    script.retained = vec![
        ("mine/a".into(), b"1".to_vec()),
        ("mine/b".into(), b"2".to_vec()),
        ("other/secret".into(), b"keep me".to_vec()),
    ];
    let broker = QuirkyBroker::start(script);
    let port = broker.port.to_string();
    let out = canopy(&[
        "clear-retained",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-V",
        "3.1.1",
        "-t",
        "mine/#",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("outside the given filters"), "{stderr}");
    let left: Vec<String> = broker.retained().into_iter().map(|(t, _)| t).collect();
    assert_eq!(left, vec!["other/secret".to_owned()], "{stderr}");
}

/// aedes delivers `$` topics to `#`: they are marked unasked, and `sub -t '#'` does not print
/// them.
#[test]
fn dollar_topics_sent_to_hash_are_marked_and_not_printed() {
    let broker = QuirkyBroker::start(Script::aedes());
    broker.publish("$SYS/broker/uptime", b"42", true);
    broker.publish("plant/temp", b"21.5", true);
    let mut c = Client::new();
    c.connect(1, profile(&broker, &["#"]));
    c.wait_messages(1, "plant/temp", 1);
    c.wait_messages(1, "$SYS/broker/uptime", 1);
    for m in c.messages(1) {
        assert_eq!(m.subscribed, !m.topic.starts_with('$'), "{}", m.topic);
    }
    let port = broker.port.to_string();
    let out = canopy(&[
        "sub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "#",
        "-v",
        "-W",
        "2",
        "-C",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("plant/temp 21.5"), "{stdout}");
    assert!(!stdout.contains("$SYS"), "{stdout}");
}

/// rumqttd sends topic aliases and reuses alias 1 for other topics without sending them: every
/// message once arrived with topic "" after the first (and, with aliases resolved, with the
/// first topic). Canopy allows no aliases, so every topic arrives whole.
#[test]
fn reused_topic_aliases_resolve_to_the_right_topics() {
    let broker = QuirkyBroker::start(Script::rumqttd());
    let mut p = profile(&broker, &["t/#"]);
    p.version = MqttVersion::V5;
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_subscribed(1, 1);
    assert_eq!(
        broker.connects()[0].topic_alias_max,
        None,
        "no topic aliases allowed"
    );
    for topic in ["t/1", "t/1", "t/2", "t/1", "t/2", "t/2"] {
        broker.publish(topic, topic.as_bytes(), false);
    }
    c.wait_until("six messages", Duration::from_secs(10), |ev| {
        ev.iter()
            .filter_map(|e| match e {
                Event::Messages { messages, .. } => Some(messages.len()),
                _ => None,
            })
            .sum::<usize>()
            >= 6
    });
    let seen: Vec<(&str, &[u8])> = c
        .messages(1)
        .iter()
        .map(|m| (m.topic.as_str(), &m.payload[..]))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("t/1", &b"t/1"[..]),
            ("t/1", b"t/1"),
            ("t/2", b"t/2"),
            ("t/1", b"t/1"),
            ("t/2", b"t/2"),
            ("t/2", b"t/2"),
        ]
    );
    // The recording of the same traffic has no empty topic either.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rec.jsonl");
    let port = broker.port.to_string();
    let recorder = std::thread::spawn({
        let file = file.clone();
        move || {
            canopy(&[
                "record",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-V",
                "5",
                "-t",
                "t/#",
                "-o",
                file.to_str().expect("path"),
                "-D",
                "3",
            ])
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    for topic in ["t/1", "t/2", "t/1"] {
        broker.publish(topic, b"x", false);
    }
    let out = recorder.join().expect("recorder");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("recording");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains(r#""topic":"""#), "{text}");
}

/// Auto negotiation against each shape of version refusal seen in the wild.
#[test]
fn auto_falls_back_on_each_shape_of_version_refusal() {
    for (shape, accept, expected, why) in [
        (
            V5Refusal::V3ConnackRc1,
            vec![3, 4],
            MqttVersion::V311,
            "refused MQTT 5.0",
        ),
        (
            V5Refusal::V5Reason0x84,
            vec![3, 4],
            MqttVersion::V311,
            "refused MQTT 5.0",
        ),
        (
            V5Refusal::CloseSocket,
            vec![3, 4],
            MqttVersion::V311,
            "closed the connection when offered MQTT 5.0",
        ),
        (
            V5Refusal::V3ConnackRc1,
            vec![3],
            MqttVersion::V31,
            "refused MQTT 3.1.1",
        ),
        // An MQTT 5 CONNACK (reason 0x84) to a 3.1.1 CONNECT cannot be read as 3.1.1.
        (
            V5Refusal::V5Reason0x84,
            vec![3],
            MqttVersion::V31,
            "answered MQTT 3.1.1 with a packet",
        ),
    ] {
        let broker = QuirkyBroker::start(Script {
            accept,
            refuse_v5_as: shape,
            ..Script::default()
        });
        let mut c = Client::new();
        c.connect(1, profile(&broker, &["x/#"]));
        c.wait_connected(1);
        let (version, note) = c.connected_version();
        assert_eq!(version, expected, "{shape:?}");
        let note = note.unwrap_or_default();
        assert!(note.contains(why), "{shape:?}: {note}");
        assert!(
            !c.states(Some(1))
                .iter()
                .any(|s| matches!(s, ConnectionState::Reconnecting { .. })),
            "negotiation waits for no backoff"
        );
    }
}

/// amqtt sometimes never answers an MQTT 5 CONNECT: Auto moves on after the connect timeout.
#[test]
fn auto_falls_back_when_the_broker_never_answers_mqtt_5() {
    let broker = QuirkyBroker::start(Script::amqtt(Vec::new()));
    let mut c = Client::new();
    c.connect(1, profile(&broker, &["x/#"]));
    c.wait_until(
        "connected after the silent MQTT 5 attempt",
        Duration::from_secs(25),
        |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    Event::State {
                        state: ConnectionState::Connected { .. },
                        ..
                    }
                )
            })
        },
    );
    let (version, note) = c.connected_version();
    assert_eq!(version, MqttVersion::V311);
    assert!(note.unwrap_or_default().contains("did not answer MQTT 5.0"));
}

/// A pinned version the broker refuses is a permanent error in plain words, never retried
/// (it once looped for seven minutes); in the CLI, exit 3 at once.
#[test]
fn a_refused_pinned_version_fails_at_once_in_plain_words() {
    let broker = QuirkyBroker::start(Script::aedes());
    let mut p = profile(&broker, &["x/#"]);
    p.version = MqttVersion::V5;
    let mut c = Client::new();
    c.connect(1, p);
    match c.wait_final(1) {
        ConnectionState::Failed { reason } => {
            assert_eq!(reason.kind, ErrorKind::UnsupportedVersion);
            assert!(
                reason.message.contains("does not accept MQTT 5.0"),
                "{}",
                reason.message
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(
        !c.states(Some(1))
            .iter()
            .any(|s| matches!(s, ConnectionState::Reconnecting { .. }))
    );
    let port = broker.port.to_string();
    let started = Instant::now();
    let out = canopy(&[
        "sub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-V",
        "5",
        "-t",
        "x",
        "--retry",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("does not accept MQTT 5.0"), "{stderr}");
    assert!(
        !stderr.contains("Mqtt state") && !stderr.contains("Other("),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// rumqttd drops a client subscribing to `$SYS/#`: that filter is dropped from the session
/// with a notice, and the others keep working.
#[test]
fn a_subscription_the_broker_answers_by_disconnecting_is_dropped_and_the_rest_works() {
    let broker = QuirkyBroker::start(Script::rumqttd());
    let mut c = Client::new();
    c.connect(1, profile(&broker, &["#", "$SYS/#"]));
    c.wait_until("the $SYS/# subscription dropped", Duration::from_secs(20), |ev| {
        ev.iter().any(|e| {
            matches!(e, Event::Subscribed { results, .. }
                if results.iter().any(|r| r.filter == "$SYS/#" && r.granted.is_err()))
        })
    });
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::Error { message, .. } if message.contains("$SYS/#")))
    );
    // Granted alone while `$SYS/#` was under suspicion, then again on the last connection.
    c.wait_until("`#` granted twice", Duration::from_secs(20), |ev| {
        ev.iter()
            .filter(|e| {
                matches!(e, Event::Subscribed { results, .. }
                    if results.iter().any(|r| r.filter == "#" && r.granted.is_ok()))
            })
            .count()
            >= 2
    });
    std::thread::sleep(Duration::from_millis(300));
    broker.publish("plant/after", b"ok", false);
    c.wait_messages(1, "plant/after", 1);
    assert!(!c.states(Some(1)).iter().any(ConnectionState::is_final));
}

/// A QoS 1 publish the broker refuses by closing the connection was resent through every
/// reconnect: refused twice, it is reported failed with the reason.
#[test]
fn a_publish_the_broker_answers_by_closing_fails_after_the_second_time() {
    let broker = QuirkyBroker::start(Script {
        close_on_publish_topic: vec!["forbidden/topic".into()],
        ..Script::default()
    });
    let mut c = Client::new();
    c.connect(1, profile(&broker, &[]));
    c.wait_connected(1);
    let started = Instant::now();
    for (token, topic) in [(1, "forbidden/topic"), (2, "fine/topic")] {
        c.send(Command::Publish {
            id: ConnectionId(1),
            token: Token(token),
            message: Box::new(OutgoingMessage {
                topic: topic.into(),
                payload: "x".into(),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Default::default(),
            }),
        });
    }
    match c.wait_outcome(1, 1) {
        PublishOutcome::Failed(why) => assert!(why.contains("closed the connection"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(c.wait_outcome(1, 2), PublishOutcome::Acknowledged);
}

/// Hostile or broken servers: every case ends in an error in words, never a panic or a hang.
#[test]
fn hostile_brokers_get_plain_words_and_no_panic() {
    use crate::common::quirky::Hostile;
    for (hostile, at_connect, words) in [
        (Hostile::FiveContinuationBytes, false, "breaks the MQTT protocol"),
        (Hostile::Garbage, false, "breaks the MQTT protocol"),
        (Hostile::UnknownConnackCode(7), true, "breaks the MQTT protocol"),
    ] {
        let broker = QuirkyBroker::start(Script {
            hostile: Some(hostile.clone()),
            hostile_at_connect: at_connect,
            ..Script::default()
        });
        let mut p = profile(&broker, &["x/#"]);
        p.version = MqttVersion::V311;
        p.reconnect.enabled = false;
        let mut c = Client::new();
        c.connect(1, p);
        match c.wait_final(1) {
            ConnectionState::Failed { reason } => {
                assert!(reason.message.contains(words), "{hostile:?}: {}", reason.message);
            }
            other => panic!("{hostile:?}: expected a failure, got {other:?}"),
        }
    }
    // Wildcards in a PUBLISH topic are dropped and reported; the connection goes on.
    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::WildcardTopic),
        ..Script::default()
    });
    let mut c = Client::new();
    c.connect(1, profile(&broker, &["#"]));
    c.wait_subscribed(1, 1);
    broker.publish("after/wildcards", b"ok", false);
    c.wait_messages(1, "after/wildcards", 1);
    assert!(c.messages(1).iter().all(|m| !m.topic.contains(['#', '+'])));
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::Error { message, .. } if message.contains("wildcard")))
    );
}

/// A PUBLISH header announcing 256 MB followed by a few bytes once hung the connection
/// silently until twice the keep-alive; now the stalled packet is named after 20 s, and memory
/// does not jump by what the header announced.
#[test]
fn a_huge_packet_that_never_comes_is_reported_as_stalled() {
    use crate::common::quirky::Hostile;
    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::HugeRemainingLength),
        ..Script::default()
    });
    let mut p = profile(&broker, &["x/#"]);
    p.version = MqttVersion::V311;
    p.keep_alive_secs = 600;
    p.reconnect.enabled = false;
    let mut c = Client::new();
    let started = Instant::now();
    c.connect(1, p);
    c.wait_until("the stalled packet reported", Duration::from_secs(40), |ev| {
        ev.iter()
            .any(|e| matches!(e, Event::State { state, .. } if state.is_final()))
    });
    match c.states(Some(1)).last() {
        Some(ConnectionState::Failed { reason }) => {
            assert!(reason.message.contains("stalled"), "{}", reason.message);
            assert_eq!(reason.kind, ErrorKind::ProtocolViolation);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(35),
        "well before the 600 s keep-alive"
    );
}

/// A topic that is not UTF-8 was altered under MQTT 5 (so a recording lost its bytes): it is
/// now refused and reported, and the connection goes on.
#[test]
fn a_topic_that_is_not_utf8_is_reported_not_altered() {
    use crate::common::quirky::Hostile;
    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::InvalidUtf8Topic),
        ..Script::default()
    });
    let mut p = profile(&broker, &["#"]);
    p.version = MqttVersion::V5;
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_until("the bad topic reported", Duration::from_secs(10), |ev| {
        ev.iter()
            .any(|e| matches!(e, Event::Error { message, .. } if message.contains("not UTF-8")))
    });
    broker.publish("after/bad", b"ok", false);
    c.wait_messages(1, "after/bad", 1);
    assert!(
        c.messages(1).iter().all(|m| !m.topic.contains('\u{fffd}')),
        "no altered topic"
    );
}

/// A broker flooding distinct topics as fast as it can: every one arrives, in order, with the
/// engine's queue to the consumer bounded by its budget all along (backpressure).
#[test]
fn a_flood_of_distinct_topics_arrives_whole_through_a_bounded_queue() {
    use crate::common::quirky::Hostile;
    const TOPICS: usize = 300_000;
    let broker = QuirkyBroker::start(Script {
        hostile: Some(Hostile::Flood { topics: TOPICS }),
        ..Script::default()
    });
    let limit = 1 << 20;
    let engine = canopy::engine::Engine::with_queue_limit(std::sync::Arc::new(|| {}), limit).expect("engine");
    engine.send(Command::Connect {
        id: ConnectionId(1),
        options: Box::new(profile(&broker, &["flood/#"]).connect_options()),
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut next = 0usize;
    let mut most_waiting = 0usize;
    while next < TOPICS {
        assert!(Instant::now() < deadline, "{next} of {TOPICS} topics after 120 s");
        // What waits for the consumer right now, taken in one go.
        let mut waiting = 0usize;
        while let Some(event) = engine.try_recv() {
            if let Event::Messages { messages, .. } = event {
                for m in &messages {
                    waiting += m.topic.len() + m.payload.len() + 160;
                    assert_eq!(m.topic, format!("flood/{next}"), "out of order or lost");
                    next += 1;
                }
            }
        }
        most_waiting = most_waiting.max(waiting);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        most_waiting <= limit + 4096,
        "{most_waiting} bytes queued (budget {limit})"
    );
}
