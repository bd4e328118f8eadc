//! The protocol timeline against a real mosquitto: what the engine traces at each level,
//! acknowledgement latencies, a refused SUBACK (mosquitto with an ACL), the CLI's
//! `--trace-packets`, and `SSLKEYLOGFILE` only when opted in.

use std::process::{Command as Process, Stdio};
use std::time::Duration;

use bytes::Bytes;
use canopy::engine::{Command, ConnectionId, Event, PublishOutcome, Token, TraceLevel};
use canopy::model::message::{OutgoingMessage, Properties, QoS};
use canopy::model::timeline::{Direction, PacketKind, Row, Timeline};
use canopy::profiles::profile::{MqttVersion, Profile, Subscription};

use crate::common::quirky::{QuirkyBroker, Script};
use crate::common::{Broker, Client};

/// Connects `profile` with tracing at `level` as connection 1.
fn connect_traced(c: &mut Client, profile: &Profile, level: TraceLevel) {
    let mut options = profile.connect_options();
    options.trace = level;
    c.send(Command::Connect {
        id: ConnectionId(1),
        options: Box::new(options),
    });
}

/// Every event so far run through a timeline, as the window does (state changes come as
/// trace entries, stamped by the engine).
fn timeline(c: &Client) -> Timeline {
    let mut t = Timeline::default();
    for e in &c.events {
        if let Event::Trace { entries, .. } = e {
            for entry in entries {
                t.push(entry.clone());
            }
        }
    }
    t
}

fn rows(t: &Timeline, dir: Direction, kind: PacketKind) -> Vec<Row> {
    t.rows()
        .iter()
        .filter(|r| r.entry.direction == dir && r.entry.kind == kind)
        .cloned()
        .collect()
}

fn traced(c: &Client, dir: Direction, kind: PacketKind) -> usize {
    rows(&timeline(c), dir, kind).len()
}

fn publish(c: &Client, token: u64, topic: &str, qos: QoS) {
    c.send(Command::Publish {
        id: ConnectionId(1),
        token: Token(token),
        message: Box::new(OutgoingMessage {
            topic: topic.into(),
            payload: Bytes::from_static(b"hello"),
            qos,
            retain: false,
            properties: Properties::default(),
        }),
    });
}

#[test]
fn every_packet_of_a_session_is_traced_with_its_latency_on_both_versions() {
    let broker = Broker::start();
    for version in [MqttVersion::V5, MqttVersion::V311] {
        let mut p = broker.tcp_profile();
        p.version = version;
        p.keep_alive_secs = 5;
        p.subscriptions = vec![Subscription::new("tl/#", QoS::ExactlyOnce)];
        let mut c = Client::new();
        connect_traced(&mut c, &p, TraceLevel::Packets);
        c.wait_connected(1);
        c.wait_subscribed(1, 1);
        for (token, qos) in [(1, QoS::AtMostOnce), (2, QoS::AtLeastOnce), (3, QoS::ExactlyOnce)] {
            publish(&c, token, &format!("tl/q{}", qos.level()), qos);
        }
        for token in 2..=3 {
            assert_eq!(c.wait_outcome(1, token), PublishOutcome::Acknowledged);
        }
        c.wait_messages(1, "tl/q2", 1);
        c.wait_until("a ping round trip (keep-alive 5 s)", Duration::from_secs(12), |ev| {
            ev.iter().any(|e| matches!(e, Event::Trace { entries, .. } if entries.iter().any(|x| x.kind == PacketKind::PingResp)))
        });
        c.send(Command::Disconnect { id: ConnectionId(1) });
        c.wait_final(1);
        let t = timeline(&c);
        let log = || {
            t.rows()
                .iter()
                .map(|r| canopy::model::timeline::text_line(r, t.started()))
                .collect::<Vec<_>>()
                .join("\n")
        };

        let connect = rows(&t, Direction::Out, PacketKind::Connect);
        assert_eq!(connect.len(), 1, "{}", log());
        assert!(
            connect[0]
                .entry
                .details
                .contains(&format!("MQTT {}", version.short())),
            "{}",
            log()
        );
        let connack = rows(&t, Direction::In, PacketKind::ConnAck);
        assert!(
            connack[0]
                .entry
                .details
                .starts_with("accepted, session present false"),
            "{}",
            log()
        );
        if version == MqttVersion::V5 {
            // mosquitto announces its limits: every property in words.
            assert!(connack[0].entry.details.contains("receive maximum"), "{}", log());
        }
        let subscribe = rows(&t, Direction::Out, PacketKind::Subscribe);
        assert_eq!(subscribe[0].entry.topic.as_deref(), Some("tl/#"), "{}", log());
        let suback = rows(&t, Direction::In, PacketKind::SubAck);
        assert_eq!(suback[0].entry.details, "granted QoS 2", "{}", log());
        assert!(suback[0].latency.is_some());

        let out: Vec<Row> = rows(&t, Direction::Out, PacketKind::Publish);
        assert_eq!(out.len(), 3, "{}", log());
        assert_eq!(out[0].entry.pkid, 0);
        assert_eq!(out[1].entry.topic.as_deref(), Some("tl/q1"));
        assert_eq!(out[1].entry.size, Some(5));
        assert!(out[1].entry.pkid != 0 && out[2].entry.pkid != 0);
        let acked = |kind, dir, pkid| {
            rows(&t, dir, kind)
                .into_iter()
                .find(|r| r.entry.pkid == pkid)
                .unwrap_or_else(|| panic!("no {kind:?} for pkid {pkid}:\n{}", log()))
        };
        assert!(
            acked(PacketKind::PubAck, Direction::In, out[1].entry.pkid)
                .latency
                .is_some()
        );
        let rec = acked(PacketKind::PubRec, Direction::In, out[2].entry.pkid);
        let rel = acked(PacketKind::PubRel, Direction::Out, out[2].entry.pkid);
        let comp = acked(PacketKind::PubComp, Direction::In, out[2].entry.pkid);
        // Each step is timed from the PUBLISH, so they only grow.
        assert!(
            rec.latency.unwrap() <= rel.latency.unwrap() && rel.latency.unwrap() <= comp.latency.unwrap()
        );

        // Received: QoS 2 copy of our own message, with our PUBREC / their PUBREL / our PUBCOMP.
        let incoming = rows(&t, Direction::In, PacketKind::Publish);
        let q2 = incoming
            .iter()
            .find(|r| r.entry.topic.as_deref() == Some("tl/q2"))
            .unwrap_or_else(|| panic!("{}", log()));
        assert_eq!(q2.entry.qos, Some(QoS::ExactlyOnce));
        assert!(
            acked(PacketKind::PubComp, Direction::Out, q2.entry.pkid)
                .latency
                .is_some(),
            "{}",
            log()
        );

        let pong = rows(&t, Direction::In, PacketKind::PingResp);
        assert!(pong[0].latency.is_some(), "{}", log());
        assert_eq!(
            rows(&t, Direction::Out, PacketKind::Disconnect).len(),
            1,
            "{}",
            log()
        );
        assert!(
            rows(&t, Direction::Local, PacketKind::State)
                .iter()
                .any(|r| r.entry.details == "disconnected")
        );
        // In the order they happened, state changes included: "connecting" before the
        // CONNECT, "connected" after the CONNACK (the window once stamped states on arrival).
        let times: Vec<_> = t.rows().iter().map(|r| r.entry.at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{}", log());
        let first: Vec<_> = t.rows().iter().take(4).map(|r| r.entry.kind).collect();
        assert_eq!(
            first,
            [
                PacketKind::State,
                PacketKind::Connect,
                PacketKind::ConnAck,
                PacketKind::State
            ],
            "{}",
            log()
        );
    }
}

#[test]
fn control_level_traces_no_publish_and_off_traces_nothing() {
    let broker = Broker::start();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("ctl/#", QoS::AtLeastOnce)];
    let mut c = Client::new();
    connect_traced(&mut c, &p, TraceLevel::Control);
    c.wait_connected(1);
    c.wait_subscribed(1, 1);
    publish(&c, 1, "ctl/a", QoS::AtLeastOnce);
    c.wait_messages(1, "ctl/a", 1);
    assert_eq!(traced(&c, Direction::In, PacketKind::ConnAck), 1);
    assert_eq!(traced(&c, Direction::In, PacketKind::SubAck), 1);
    assert_eq!(traced(&c, Direction::Out, PacketKind::Publish), 0);
    assert_eq!(traced(&c, Direction::In, PacketKind::PubAck), 0);
    // Turned up while connected (the window opening its timeline): publishes appear.
    c.send(Command::Trace {
        id: ConnectionId(1),
        level: TraceLevel::Packets,
    });
    publish(&c, 2, "ctl/b", QoS::AtLeastOnce);
    c.wait_messages(1, "ctl/b", 1);
    c.wait_until("PUBLISH traced", Duration::from_secs(5), |ev| {
        ev.iter().any(|e| matches!(e, Event::Trace { entries, .. } if entries.iter().any(|x| x.kind == PacketKind::Publish && x.topic.as_deref() == Some("ctl/b"))))
    });

    let mut quiet = Client::new();
    connect_traced(&mut quiet, &p, TraceLevel::Off);
    quiet.wait_connected(1);
    quiet.wait_subscribed(1, 1);
    assert!(!quiet.events.iter().any(|e| matches!(e, Event::Trace { .. })));
}

/// mosquitto 2.0 grants a filter its ACL forbids (it filters at delivery), so the refusal
/// comes from the scripted broker answering as EMQX and HiveMQ do (0x87 on MQTT 5).
#[test]
fn a_refused_filter_shows_its_refusal_in_the_suback() {
    let broker = QuirkyBroker::start(Script {
        refuse_filters: vec!["secret/#".into()],
        ..Script::default()
    });
    let mut p = crate::common::quick(Profile::tcp("127.0.0.1", broker.port));
    p.version = MqttVersion::V5;
    p.subscriptions = vec![
        Subscription::new("open/#", QoS::AtLeastOnce),
        Subscription::new("secret/#", QoS::AtLeastOnce),
    ];
    let mut c = Client::new();
    connect_traced(&mut c, &p, TraceLevel::Control);
    c.wait_connected(1);
    c.wait_subscribed(1, 1);
    let t = timeline(&c);
    let suback = rows(&t, Direction::In, PacketKind::SubAck);
    assert_eq!(suback.len(), 1);
    assert_eq!(suback[0].entry.topic.as_deref(), Some("open/#, secret/#"));
    assert_eq!(suback[0].entry.details, "granted QoS 1; refused: not authorised");
}

#[test]
fn sub_trace_packets_prints_one_line_per_packet_on_stderr() {
    let broker = Broker::start();
    let port = broker.ports.tcp.to_string();
    let mut child = Process::new(env!("CARGO_BIN_EXE_canopy"))
        .args([
            "sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "tr/#",
            "-q",
            "1",
            "-C",
            "1",
        ])
        .args(["--trace-packets", "-W", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Publish until the subscriber has it (it may not have subscribed yet).
    let mut publisher = Client::new();
    publisher.connect(2, broker.tcp_profile());
    publisher.wait_connected(2);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut token = 10;
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "canopy sub got nothing");
        publisher.send(Command::Publish {
            id: ConnectionId(2),
            token: Token(token),
            message: Box::new(OutgoingMessage {
                topic: "tr/x".into(),
                payload: Bytes::from_static(b"payload"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Properties::default(),
            }),
        });
        token += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // stdout stays the messages.
    assert_eq!(stdout, "payload\n");
    for word in [
        "→ CONNECT",
        "← CONNACK",
        "→ SUBSCRIBE",
        "← SUBACK",
        "← PUBLISH",
        "→ PUBACK",
        "→ DISCONNECT",
    ] {
        assert!(stderr.contains(word), "no `{word}` in:\n{stderr}");
    }
    assert!(stderr.contains("topic=tr/x size=7"), "{stderr}");
    assert!(stderr.contains("granted QoS 1"), "{stderr}");

    // -F jsonl: the packets as JSON Lines on stderr.
    let out = Process::new(env!("CARGO_BIN_EXE_canopy"))
        .args(["sub", "-h", "127.0.0.1", "-p", &port, "-t", "none/#", "-W", "1"])
        .args(["--trace-packets", "-F", "jsonl"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let packets: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = packets
        .iter()
        .filter_map(|p| p["type"].as_str())
        .filter(|t| *t != "STATE")
        .collect();
    assert_eq!(&types[..2], ["CONNECT", "CONNACK"], "{stderr}");
    assert!(
        types.contains(&"SUBSCRIBE") && types.contains(&"SUBACK"),
        "{stderr}"
    );
}

#[test]
fn tls_keys_are_logged_only_when_opted_in() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let port = broker.ports.tls.to_string();
    let ca = broker.pki.ca.display().to_string();
    let run = |keylog: bool, file: &std::path::Path| {
        let mut cmd = Process::new(env!("CARGO_BIN_EXE_canopy"));
        cmd.args([
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--cafile",
            &ca,
            "-t",
            "k",
            "-m",
            "x",
        ])
        .env("SSLKEYLOGFILE", file);
        if keylog {
            cmd.arg("--keylog");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let without = dir.path().join("without.keys");
    let stderr = run(false, &without);
    assert!(!without.exists(), "keys written without --keylog");
    assert!(!stderr.contains("keylog"), "{stderr}");

    let with = dir.path().join("with.keys");
    let stderr = run(true, &with);
    assert!(
        stderr.contains("for debugging only"),
        "the user is told: {stderr}"
    );
    let keys = std::fs::read_to_string(&with).unwrap();
    assert!(keys.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), "{keys}");
}
