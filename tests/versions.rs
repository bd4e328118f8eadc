//! Protocol versions against a real mosquitto: MQTT 3.1 (`MQIsdp`) over TCP and WebSocket, Auto
//! negotiation settling on 5.0 where it is offered, and MQTT 5 sessions that survive a
//! disconnect when the session is kept.

use canopy::engine::{Command, ConnectionId, ConnectionState, Token};
use canopy::model::message::{OutgoingMessage, QoS};
use canopy::profiles::profile::{MqttVersion, Subscription, TransportKind};

use crate::common::{Broker, Client};

fn publish(c: &Client, token: u64, topic: &str, payload: &str, qos: QoS) {
    c.send(Command::Publish {
        id: ConnectionId(1),
        token: Token(token),
        message: Box::new(OutgoingMessage {
            topic: topic.into(),
            payload: payload.to_owned().into(),
            qos,
            retain: false,
            properties: Default::default(),
        }),
    });
}

#[test]
fn mqtt_31_round_trips_over_tcp_and_websocket_with_a_short_client_id() {
    let broker = Broker::start();
    for transport in [TransportKind::Tcp, TransportKind::Ws] {
        let mut p = broker.profile(transport);
        p.version = MqttVersion::V31;
        // Too long for MQTT 3.1 (23 characters at most): replaced by a short one, and said so.
        p.client_id = "a-client-id-far-too-long-for-mqtt-3-1".into();
        p.subscriptions = vec![Subscription::new("v31/#", QoS::AtLeastOnce)];
        let mut c = Client::new();
        c.connect(1, p);
        c.wait_connected(1);
        c.wait_subscribed(1, 1);
        publish(&c, 1, "v31/x", "old but gold", QoS::AtLeastOnce);
        c.wait_messages(1, "v31/x", 1);
        let (version, note) = c.connected_version();
        assert_eq!(version, MqttVersion::V31);
        assert!(
            note.is_some_and(|n| n.contains("1 to 23")),
            "the short client id is explained"
        );
        c.send(Command::Disconnect { id: ConnectionId(1) });
        c.wait_final(1);
    }
    // mosquitto logs the protocol of each client: p1 is MQTT 3.1.
    let log = broker.log();
    assert!(log.contains("(p1, "), "mosquitto saw no MQTT 3.1 client:\n{log}");
}

#[test]
fn auto_settles_on_mqtt_5_when_the_broker_speaks_it() {
    let broker = Broker::start();
    let mut p = broker.tcp_profile();
    p.version = MqttVersion::Auto;
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_connected(1);
    assert_eq!(c.connected_version(), (MqttVersion::V5, None));
}

/// `-c` (keep the session) on MQTT 5 must send a session expiry, or the broker drops the session
/// at every disconnect and the QoS 1 messages published meanwhile are lost.
#[test]
fn a_kept_mqtt_5_session_receives_what_was_published_while_away() {
    let broker = Broker::start();
    let mut p = broker.tcp_profile();
    p.version = MqttVersion::V5;
    p.clean_session = false;
    p.client_id = "canopy-kept-session".into();
    p.subscriptions = vec![Subscription::new("kept/#", QoS::AtLeastOnce)];
    let mut c = Client::new();
    c.connect(1, p.clone());
    c.wait_connected(1);
    c.wait_subscribed(1, 1);
    c.send(Command::Disconnect { id: ConnectionId(1) });
    c.wait_final(1);

    let mut publisher = Client::new();
    publisher.connect(1, broker.tcp_profile());
    publisher.wait_connected(1);
    publish(
        &publisher,
        5,
        "kept/while-away",
        "queued for you",
        QoS::AtLeastOnce,
    );
    publisher.wait_outcome(1, 5);

    let mut back = Client::new();
    back.connect(1, p);
    back.wait_connected(1);
    back.wait_messages(1, "kept/while-away", 1);
    assert!(
        back.states(Some(1)).iter().any(|s| matches!(
            s,
            ConnectionState::Connected {
                session_present: true,
                ..
            }
        )),
        "the broker resumed the session"
    );
}
