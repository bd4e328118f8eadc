//! The engine against a real mosquitto: transports, versions, QoS, retained, large payloads,
//! errors in words, reconnects and graceful disconnect.

use std::time::Duration;

use bytes::Bytes;
use canopy::engine::{Command, ConnectionId, ConnectionState, ErrorKind, Event, PublishOutcome, Token};
use canopy::model::message::{OutgoingMessage, Properties, QoS};
use canopy::profiles::profile::{MqttVersion, Profile, Subscription, TransportKind};

use crate::common::{Broker, Client, PASSWORD, USER};

fn message(topic: &str, payload: impl Into<Bytes>, qos: QoS) -> OutgoingMessage {
    OutgoingMessage {
        topic: topic.into(),
        payload: payload.into(),
        qos,
        retain: false,
        properties: Properties::default(),
    }
}

fn publish(c: &Client, id: u64, token: u64, m: OutgoingMessage) {
    c.send(Command::Publish {
        id: ConnectionId(id),
        token: Token(token),
        message: Box::new(m),
    });
}

fn subscribed(mut p: Profile, filter: &str, qos: QoS) -> Profile {
    p.subscriptions = vec![Subscription::new(filter, qos)];
    p
}

fn failure(state: &ConnectionState) -> (ErrorKind, String) {
    match state {
        ConnectionState::Failed { reason } => (reason.kind, reason.message.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Connects with `profile` on both versions and checks a message makes the round trip.
fn round_trip(broker: &Broker, profile: Profile) {
    for version in [MqttVersion::V311, MqttVersion::V5] {
        let mut p = subscribed(profile.clone(), "rt/#", QoS::AtLeastOnce);
        p.version = version;
        let mut c = Client::new();
        c.connect(1, p);
        c.wait_connected(1);
        c.wait_subscribed(1, 1);
        publish(&c, 1, 7, message("rt/x", "hello", QoS::AtLeastOnce));
        assert_eq!(c.wait_outcome(1, 7), PublishOutcome::Acknowledged);
        c.wait_messages(1, "rt/x", 1);
        assert_eq!(&c.messages(1)[0].payload[..], b"hello");
        match &c.states(Some(1))[1] {
            ConnectionState::Connected { version: v, .. } => assert_eq!(*v, version),
            other => panic!("expected connected, got {other:?} (log: {})", broker.log()),
        }
        c.send(Command::Disconnect { id: ConnectionId(1) });
        assert_eq!(c.wait_final(1), ConnectionState::Disconnected);
    }
}

#[test]
fn every_transport_round_trips_on_both_versions() {
    let broker = Broker::start();
    for transport in TransportKind::ALL {
        round_trip(&broker, broker.profile(transport));
    }
    // Mutual TLS with a client certificate.
    let mut mtls = broker.profile(TransportKind::Tls);
    mtls.port = broker.ports.mtls;
    mtls.tls.client_cert_file = Some(broker.pki.client_cert.clone());
    mtls.tls.client_key_file = Some(broker.pki.client_key.clone());
    round_trip(&broker, mtls);
    // Password authentication.
    let mut auth = broker.tcp_profile();
    auth.port = broker.ports.auth;
    auth.username = Some(USER.into());
    auth.password = Some(PASSWORD.into());
    round_trip(&broker, auth);
    // The URL form of a profile connects too.
    let mut from_url = broker.tcp_profile();
    from_url
        .apply_url(&format!("ws://127.0.0.1:{}/mqtt", broker.ports.ws))
        .unwrap();
    round_trip(&broker, from_url);
}

#[test]
fn v5_properties_survive_the_round_trip() {
    let broker = Broker::start();
    let mut c = Client::new();
    c.connect(1, subscribed(broker.tcp_profile(), "props/#", QoS::ExactlyOnce));
    c.wait_subscribed(1, 1);
    let mut m = message("props/a", "{\"t\":21.5}", QoS::ExactlyOnce);
    m.properties = Properties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(3600),
        response_topic: Some("props/reply".into()),
        correlation_data: Some(Bytes::from_static(b"\x00\x01corr")),
        user_properties: vec![
            ("site".into(), "plant-7".into()),
            ("site".into(), "dup ok".into()),
        ],
        content_type: Some("application/json".into()),
        ..Properties::default()
    };
    let sent = m.properties.clone();
    publish(&c, 1, 1, m);
    assert_eq!(c.wait_outcome(1, 1), PublishOutcome::Acknowledged);
    c.wait_messages(1, "props/a", 1);
    let got = &c.messages(1)[0];
    assert_eq!(got.qos, QoS::ExactlyOnce);
    assert_eq!(got.properties.user_properties, sent.user_properties);
    assert_eq!(got.properties.content_type, sent.content_type);
    assert_eq!(got.properties.response_topic, sent.response_topic);
    assert_eq!(got.properties.correlation_data, sent.correlation_data);
    assert_eq!(got.properties.payload_format_indicator, Some(1));
    let expiry = got.properties.message_expiry_interval.expect("expiry");
    assert!((3590..=3600).contains(&expiry), "expiry {expiry}");
}

#[test]
fn subscription_identifiers_are_reported() {
    let broker = Broker::start();
    let mut c = Client::new();
    c.connect(1, broker.tcp_profile());
    c.wait_connected(1);
    c.send(Command::Subscribe {
        id: ConnectionId(1),
        subscriptions: vec![Subscription::new("sid/#", QoS::AtMostOnce)],
        subscription_id: Some(42),
    });
    c.wait_subscribed(1, 1);
    publish(&c, 1, 1, message("sid/x", "v", QoS::AtMostOnce));
    c.wait_messages(1, "sid/x", 1);
    assert_eq!(c.messages(1)[0].properties.subscription_identifiers, vec![42]);
}

#[test]
fn qos_levels_are_granted_and_delivered() {
    let broker = Broker::start();
    for version in [MqttVersion::V311, MqttVersion::V5] {
        let mut c = Client::new();
        let mut p = broker.tcp_profile();
        p.version = version;
        p.subscriptions = QoS::ALL
            .iter()
            .map(|q| Subscription::new(format!("q{}/#", q.level()), *q))
            .collect();
        c.connect(1, p);
        c.wait_subscribed(1, 1);
        let granted: Vec<QoS> = c
            .events
            .iter()
            .find_map(|e| match e {
                Event::Subscribed { results, .. } => {
                    Some(results.iter().map(|r| r.granted.clone().unwrap()).collect())
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(granted, QoS::ALL.to_vec());
        for (token, q) in QoS::ALL.iter().enumerate() {
            publish(
                &c,
                1,
                token as u64,
                message(&format!("q{}/m", q.level()), "x", *q),
            );
        }
        assert_eq!(c.wait_outcome(1, 0), PublishOutcome::Sent);
        assert_eq!(c.wait_outcome(1, 1), PublishOutcome::Acknowledged);
        assert_eq!(c.wait_outcome(1, 2), PublishOutcome::Acknowledged);
        for q in QoS::ALL {
            let topic = format!("q{}/m", q.level());
            c.wait_messages(1, &topic, 1);
            let got = c.messages(1).into_iter().find(|m| m.topic == topic).unwrap();
            assert_eq!(got.qos, q, "{version:?}");
        }
    }
}

#[test]
fn retained_messages_are_flagged_and_can_be_cleared() {
    let broker = Broker::start();
    let mut c = Client::new();
    c.connect(1, broker.tcp_profile());
    c.wait_connected(1);
    let mut m = message("ret/a", "kept", QoS::AtLeastOnce);
    m.retain = true;
    publish(&c, 1, 1, m);
    assert_eq!(c.wait_outcome(1, 1), PublishOutcome::Acknowledged);

    let mut late = Client::new();
    late.connect(2, subscribed(broker.tcp_profile(), "ret/#", QoS::AtMostOnce));
    late.wait_messages(2, "ret/a", 1);
    let got = late.messages(2)[0];
    assert!(got.retain, "a late subscriber sees the retained flag");
    assert_eq!(&got.payload[..], b"kept");

    c.send(Command::ClearRetained {
        id: ConnectionId(1),
        token: Token(2),
        topic: "ret/a".into(),
    });
    assert_eq!(c.wait_outcome(1, 2), PublishOutcome::Acknowledged);
    let mut later = Client::new();
    later.connect(3, subscribed(broker.tcp_profile(), "ret/#", QoS::AtMostOnce));
    later.wait_subscribed(3, 1);
    std::thread::sleep(Duration::from_millis(300));
    later.wait_until("no event", Duration::from_millis(10), |_| true);
    assert!(later.messages(3).is_empty(), "the retained message is gone");
}

#[test]
fn a_five_megabyte_binary_payload_arrives_whole() {
    let broker = Broker::start();
    let payload: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for version in [MqttVersion::V311, MqttVersion::V5] {
        let mut c = Client::new();
        let mut p = subscribed(broker.tcp_profile(), "big/#", QoS::AtLeastOnce);
        p.version = version;
        c.connect(1, p);
        c.wait_subscribed(1, 1);
        publish(&c, 1, 1, message("big/blob", payload.clone(), QoS::AtLeastOnce));
        assert_eq!(c.wait_outcome(1, 1), PublishOutcome::Acknowledged);
        c.wait_messages(1, "big/blob", 1);
        let got = &c.messages(1)[0].payload;
        assert_eq!(got.len(), payload.len());
        assert!(got[..] == payload[..], "payload differs");
    }
}

#[test]
fn tls_problems_are_named_in_plain_words() {
    let broker = Broker::start();
    let mut c = Client::new();

    let mut wrong_ca = broker.profile(TransportKind::Tls);
    wrong_ca.tls.ca_file = Some(broker.pki.other_ca.clone());
    c.connect(1, wrong_ca);
    let (kind, text) = failure(&c.wait_final(1));
    assert_eq!(kind, ErrorKind::TlsUnknownCa, "{text}");
    assert!(text.contains("unknown CA"), "{text}");

    let mut mismatch = broker.profile(TransportKind::Tls);
    mismatch.port = broker.ports.wrong_name;
    c.connect(2, mismatch.clone());
    let (kind, text) = failure(&c.wait_final(2));
    assert_eq!(kind, ErrorKind::TlsNameMismatch, "{text}");
    assert!(text.contains("name mismatch"), "{text}");

    // The server-name override makes the same listener acceptable.
    mismatch.tls.server_name = Some("broker.invalid".into());
    c.connect(3, mismatch);
    c.wait_connected(3);

    let mut no_cert = broker.profile(TransportKind::Tls);
    no_cert.port = broker.ports.mtls;
    c.connect(4, no_cert.clone());
    let (kind, text) = failure(&c.wait_final(4));
    assert_eq!(kind, ErrorKind::TlsCertificateRequired, "{text}");
    assert!(text.contains("requires a client certificate"), "{text}");

    let mut untrusted = no_cert;
    untrusted.tls.client_cert_file = Some(broker.pki.untrusted_client_cert.clone());
    untrusted.tls.client_key_file = Some(broker.pki.untrusted_client_key.clone());
    c.connect(5, untrusted);
    let (kind, text) = failure(&c.wait_final(5));
    assert!(
        matches!(
            kind,
            ErrorKind::TlsClientCertificateRejected | ErrorKind::TlsCertificateRequired
        ),
        "{kind:?}: {text}"
    );

    // Skipping verification (explicit opt-in) accepts the wrong-name listener.
    let mut insecure = broker.profile(TransportKind::Tls);
    insecure.port = broker.ports.wrong_name;
    insecure.tls.ca_file = None;
    insecure.tls.skip_verification = true;
    c.connect(6, insecure);
    c.wait_connected(6);
}

#[test]
fn bad_settings_and_files_fail_before_connecting() {
    let broker = Broker::start();
    let mut c = Client::new();
    let mut missing = broker.profile(TransportKind::Tls);
    missing.tls.ca_file = Some("/nonexistent/ca.pem".into());
    c.connect(1, missing);
    let (kind, text) = failure(&c.wait_final(1));
    assert_eq!(kind, ErrorKind::Settings);
    assert!(
        text.contains("/nonexistent/ca.pem") && text.contains("not found"),
        "{text}"
    );

    let garbage = broker.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate").unwrap();
    let mut bad = broker.profile(TransportKind::Tls);
    bad.tls.ca_file = Some(garbage);
    c.connect(2, bad);
    let (kind, text) = failure(&c.wait_final(2));
    assert_eq!(kind, ErrorKind::Settings);
    assert!(text.contains("not a PEM"), "{text}");

    let mut bad_filter = broker.tcp_profile();
    bad_filter.subscriptions = vec![Subscription::new("a/#/b", QoS::AtMostOnce)];
    c.connect(3, bad_filter);
    let (kind, text) = failure(&c.wait_final(3));
    assert_eq!(kind, ErrorKind::Settings);
    assert!(text.contains("a/#/b"), "{text}");
}

#[test]
fn bad_password_wrong_port_and_unknown_host() {
    let broker = Broker::start();
    let mut c = Client::new();
    for (id, version) in [(1, MqttVersion::V311), (2, MqttVersion::V5)] {
        let mut p = broker.tcp_profile();
        p.port = broker.ports.auth;
        p.version = version;
        p.username = Some(USER.into());
        p.password = Some("wrong".into());
        c.connect(id, p);
        let (kind, text) = failure(&c.wait_final(id));
        assert!(
            matches!(kind, ErrorKind::BadCredentials | ErrorKind::NotAuthorized),
            "{version:?}: {kind:?} {text}"
        );
        assert!(!text.contains("wrong"), "the password must not appear: {text}");
    }

    let mut closed = broker.tcp_profile();
    closed.port = crate::common::free_ports(1)[0];
    closed.reconnect.max_attempts = 2;
    c.connect(3, closed);
    let state = c.wait_final(3);
    let (kind, text) = failure(&state);
    assert_eq!(kind, ErrorKind::ConnectionRefused, "{text}");
    assert!(
        text.contains("gave up after 2 failed attempts") && text.contains("refused"),
        "{text}"
    );
    let reconnecting = c
        .states(Some(3))
        .iter()
        .filter(|s| matches!(s, ConnectionState::Reconnecting { .. }))
        .count();
    assert_eq!(reconnecting, 2);

    let mut unknown = broker.tcp_profile();
    unknown.host = "no-such-host.invalid".into();
    unknown.reconnect.max_attempts = 1;
    c.connect(4, unknown);
    let (kind, text) = failure(&c.wait_final(4));
    assert_eq!(kind, ErrorKind::Dns, "{text}");
}

#[test]
fn invalid_filters_are_rejected_before_sending() {
    let broker = Broker::start();
    let mut c = Client::new();
    c.connect(1, broker.tcp_profile());
    c.wait_connected(1);
    c.send(Command::Subscribe {
        id: ConnectionId(1),
        subscriptions: vec![
            Subscription::new("bad/#/x", QoS::AtMostOnce),
            Subscription::new("ok/+", QoS::AtMostOnce),
        ],
        subscription_id: None,
    });
    c.wait_subscribed(1, 2);
    let results: Vec<_> = c
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Subscribed { results, .. } => Some(results.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let bad = results.iter().find(|r| r.filter == "bad/#/x").unwrap();
    assert!(bad.granted.as_ref().unwrap_err().contains("invalid topic filter"));
    let ok = results.iter().find(|r| r.filter == "ok/+").unwrap();
    assert_eq!(ok.granted, Ok(QoS::AtMostOnce));
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::Error { message, .. } if message.contains("bad/#/x")))
    );
    // Publishing to a wildcard topic is refused with a reason, not dropped.
    publish(&c, 1, 9, message("a/+", "x", QoS::AtMostOnce));
    assert!(matches!(c.wait_outcome(1, 9), PublishOutcome::Failed(why) if why.contains("wildcard")));
    // The connection is still fine.
    assert!(matches!(
        c.states(Some(1)).last(),
        Some(ConnectionState::Connected { .. })
    ));
}

#[test]
fn broker_restart_reconnects_resubscribes_and_delivers_outage_publishes() {
    let mut broker = Broker::start();
    for version in [MqttVersion::V311, MqttVersion::V5] {
        let mut c = Client::new();
        let mut p = subscribed(broker.tcp_profile(), "outage/#", QoS::AtLeastOnce);
        p.version = version;
        c.connect(1, p);
        c.wait_subscribed(1, 1);

        broker.kill();
        c.wait_until("reconnecting state", Duration::from_secs(10), |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    Event::State {
                        state: ConnectionState::Reconnecting { .. },
                        ..
                    }
                )
            })
        });
        // Published while the broker is down: must arrive once it is back.
        for token in 0..5 {
            publish(
                &c,
                1,
                token,
                message(&format!("outage/during/{token}"), "queued", QoS::AtLeastOnce),
            );
        }
        std::thread::sleep(Duration::from_millis(600));
        broker.restart();
        c.wait_until("connected again", Duration::from_secs(15), |ev| {
            ev.iter()
                .filter(|e| {
                    matches!(
                        e,
                        Event::State {
                            state: ConnectionState::Connected { .. },
                            ..
                        }
                    )
                })
                .count()
                >= 2
        });
        for token in 0..5 {
            assert_eq!(
                c.wait_outcome(1, token),
                PublishOutcome::Acknowledged,
                "{version:?}"
            );
        }
        // Re-subscribed: both the outage publishes and new ones come back to us.
        c.wait_subscribed(1, 2);
        for token in 0..5 {
            c.wait_messages(1, &format!("outage/during/{token}"), 1);
        }
        publish(&c, 1, 100, message("outage/after", "flowing", QoS::AtLeastOnce));
        c.wait_messages(1, "outage/after", 1);

        let states = c.states(Some(1));
        let first_reconnecting = states
            .iter()
            .find_map(|s| match s {
                ConnectionState::Reconnecting {
                    attempt, last_error, ..
                } => Some((*attempt, last_error.kind)),
                _ => None,
            })
            .unwrap();
        assert_eq!(first_reconnecting, (1, ErrorKind::ConnectionLost));
        c.send(Command::Disconnect { id: ConnectionId(1) });
        assert_eq!(c.wait_final(1), ConnectionState::Disconnected);
    }
}

#[test]
fn reconnect_delays_follow_the_policy_live() {
    let broker = Broker::start();
    let mut c = Client::new();
    let mut p = broker.tcp_profile();
    p.port = crate::common::free_ports(1)[0];
    p.reconnect.first_delay_ms = 50;
    p.reconnect.multiplier = 3.0;
    p.reconnect.max_delay_ms = 500;
    p.reconnect.max_attempts = 5;
    let policy = p.reconnect;
    let started = std::time::Instant::now();
    c.connect(1, p);
    c.wait_final(1);
    let elapsed = started.elapsed();
    let delays: Vec<Duration> = c
        .states(Some(1))
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Reconnecting {
                next_in,
                attempt,
                max_attempts,
                ..
            } => {
                assert_eq!(*max_attempts, 5);
                assert_eq!(policy.delay(*attempt), Some(*next_in));
                Some(*next_in)
            }
            _ => None,
        })
        .collect();
    let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![50, 150, 450, 500, 500]);
    let total: Duration = delays.iter().sum();
    assert!(
        elapsed >= total,
        "the loop actually waited: {elapsed:?} < {total:?}"
    );
}

#[test]
fn graceful_disconnect_flushes_qos1() {
    let broker = Broker::start();
    let mut receiver = Client::new();
    receiver.connect(2, subscribed(broker.tcp_profile(), "flush/#", QoS::AtLeastOnce));
    receiver.wait_subscribed(2, 1);

    let mut c = Client::new();
    c.connect(1, broker.tcp_profile());
    c.wait_connected(1);
    let n = 2000u64;
    for token in 0..n {
        publish(
            &c,
            1,
            token,
            message("flush/x", token.to_string(), QoS::AtLeastOnce),
        );
    }
    // Disconnect straight away: every message must still be acknowledged first.
    c.send(Command::Disconnect { id: ConnectionId(1) });
    assert_eq!(c.wait_final(1), ConnectionState::Disconnected);
    let acked = (0..n)
        .filter(|t| c.outcome(1, *t) == Some(PublishOutcome::Acknowledged))
        .count();
    assert_eq!(
        acked as u64, n,
        "all QoS 1 publishes acknowledged before the socket closed"
    );
    receiver.wait_messages(2, "flush/x", n as usize);
    let payloads: Vec<u64> = receiver
        .messages(2)
        .iter()
        .map(|m| std::str::from_utf8(&m.payload).unwrap().parse().unwrap())
        .collect();
    assert_eq!(payloads, (0..n).collect::<Vec<_>>(), "in order, none lost");
}

#[test]
fn several_connections_at_once() {
    let broker = Broker::start();
    let mut c = Client::new();
    c.connect(1, subscribed(broker.tcp_profile(), "multi/#", QoS::AtMostOnce));
    c.connect(
        2,
        subscribed(broker.profile(TransportKind::Ws), "multi/#", QoS::AtMostOnce),
    );
    c.wait_subscribed(1, 1);
    c.wait_subscribed(2, 1);
    publish(&c, 1, 1, message("multi/a", "from 1", QoS::AtLeastOnce));
    c.wait_messages(1, "multi/a", 1);
    c.wait_messages(2, "multi/a", 1);
    c.send(Command::Disconnect { id: ConnectionId(1) });
    assert_eq!(c.wait_final(1), ConnectionState::Disconnected);
    publish(&c, 2, 2, message("multi/b", "from 2", QoS::AtLeastOnce));
    c.wait_messages(2, "multi/b", 1);
    assert!(matches!(
        c.outcome(2, 2),
        Some(PublishOutcome::Acknowledged) | None
    ));
}

#[test]
fn the_embedded_rumqttd_dropping_sys_subscribers_costs_only_that_filter() {
    // rumqttd (the embedded sandbox) closes the connection of a client subscribing to
    // `$SYS/#`. That once looped until the policy gave up; now the filter is dropped from the
    // session with a notice after the second time, and `#` keeps working.
    let ports = canopy::sandbox::ensure_started().unwrap();
    let mut p = Profile::tcp("127.0.0.1", ports.v4);
    p.version = MqttVersion::V311;
    p.subscriptions = vec![
        Subscription::new("sandbox-sys-test/#", QoS::AtLeastOnce),
        Subscription::new("$SYS/#", QoS::AtMostOnce),
    ];
    p.reconnect.first_delay_ms = 50;
    p.reconnect.max_delay_ms = 100;
    p.reconnect.max_attempts = 3;
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_until("`$SYS/#` dropped", Duration::from_secs(20), |ev| {
        ev.iter().any(|e| {
            matches!(e, Event::Subscribed { results, .. }
                if results.iter().any(|r| r.filter == "$SYS/#" && r.granted.is_err()))
        })
    });
    c.wait_until(
        "the other filter granted on the last connection",
        Duration::from_secs(20),
        |ev| {
            ev.iter()
                .filter(|e| {
                    matches!(e, Event::Subscribed { results, .. }
                    if results.iter().any(|r| r.filter == "sandbox-sys-test/#" && r.granted.is_ok()))
                })
                .count()
                >= 2
        },
    );
    std::thread::sleep(Duration::from_millis(200));
    c.send(Command::Publish {
        id: ConnectionId(1),
        token: Token(1),
        message: Box::new(message("sandbox-sys-test/x", "still here", QoS::AtLeastOnce)),
    });
    c.wait_messages(1, "sandbox-sys-test/x", 1);
    assert!(
        !c.states(Some(1)).iter().any(ConnectionState::is_final),
        "gave up"
    );
}
