//! Packet ids of outgoing publishes in Canopy's patched rumqttc (`vendor/rumqttc`, see
//! CANOPY-PATCH.md), driven through its public `MqttState` so the exact sequence of acks can
//! be set up (a real broker acks in order too fast to hit it reliably).
//!
//! What broke: the chaos test under CPU load ("5550 of 9130 publishes settled"). mosquitto
//! announces a Receive Maximum of 20 to MQTT 5 clients, so the window is 20 ids. After a
//! reconnect rumqttc sent every pending publish regardless of that window and took the next id
//! blindly, reusing ids still in flight; each collision overwrote the previous one (a publish
//! lost, and the engine's token order shifted, so tokens were reported acknowledged for
//! messages never sent), and a collision left from the last connection stopped the publisher
//! until two keep-alives had passed.

use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnAckProperties, ConnectReturnCode, Packet as Packet5, PubAck as PubAck5, PubComp as PubComp5,
    PubRec as PubRec5, Publish as Publish5,
};

/// A v5 state after a CONNACK announcing `window` as the broker's Receive Maximum.
fn state5(window: u16) -> rumqttc::v5::MqttState {
    let mut state = rumqttc::v5::MqttState::new(u16::MAX, false);
    let properties = ConnAckProperties {
        session_expiry_interval: None,
        receive_max: Some(window),
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: None,
        topic_alias_max: None,
        reason_string: None,
        user_properties: Vec::new(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    };
    state
        .handle_incoming_packet(Packet5::ConnAck(ConnAck {
            session_present: false,
            code: ConnectReturnCode::Success,
            properties: Some(properties),
        }))
        .unwrap();
    state
}

/// Hands one publish to the state; the packet id it was written with, or None when held back.
fn publish5(state: &mut rumqttc::v5::MqttState, qos: QoS5) -> Option<u16> {
    let request = rumqttc::v5::Request::Publish(Publish5::new("t", qos, "x", None));
    match state.handle_outgoing_packet(request).unwrap() {
        Some(Packet5::Publish(p)) => Some(p.pkid),
        _ => None,
    }
}

fn ack5(state: &mut rumqttc::v5::MqttState, packet: Packet5) {
    state.handle_incoming_packet(packet).unwrap();
}

#[test]
fn mqtt5_acks_out_of_order_never_make_a_publish_reuse_an_id_in_flight() {
    let mut state = state5(4);
    let ids: Vec<_> = (0..4).map(|_| publish5(&mut state, QoS5::AtLeastOnce)).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3), Some(4)]);
    // The broker acks 2 and 3; 1 and 4 are still in flight.
    ack5(&mut state, Packet5::PubAck(PubAck5::new(2, None)));
    ack5(&mut state, Packet5::PubAck(PubAck5::new(3, None)));
    let next: Vec<_> = (0..2).map(|_| publish5(&mut state, QoS5::AtLeastOnce)).collect();
    assert_eq!(
        next,
        [Some(2), Some(3)],
        "the free ids, not 1 (awaiting its PUBACK)"
    );
    assert!(state.collision.is_none());
}

#[test]
fn mqtt5_a_qos2_id_awaiting_pubcomp_is_not_reused() {
    let mut state = state5(2);
    assert_eq!(publish5(&mut state, QoS5::ExactlyOnce), Some(1));
    assert_eq!(publish5(&mut state, QoS5::ExactlyOnce), Some(2));
    // 1 is received (PUBREL on its way, PUBCOMP awaited); 2 is complete.
    ack5(&mut state, Packet5::PubRec(PubRec5::new(1, None)));
    ack5(&mut state, Packet5::PubRec(PubRec5::new(2, None)));
    ack5(&mut state, Packet5::PubComp(PubComp5::new(2, None)));
    assert_eq!(publish5(&mut state, QoS5::ExactlyOnce), Some(2));
}

#[test]
fn mqtt5_a_publish_held_by_a_collision_is_replayed_after_a_reconnect() {
    let mut state = state5(2);
    let held = Publish5 {
        pkid: 1,
        ..Publish5::new("held", QoS5::AtLeastOnce, "x", None)
    };
    state.collision = Some(held);
    let pending = state.clean();
    assert!(state.collision.is_none(), "no collision outlives its connection");
    assert!(
        pending
            .iter()
            .any(|r| matches!(r, rumqttc::v5::Request::Publish(p) if &p.topic[..] == b"held" && p.pkid == 0)),
        "the held publish is sent again as a new packet: {pending:?}"
    );
}

/// Hands one MQTT 3.1.1 publish to the state; the packet id it was written with.
fn publish4(state: &mut rumqttc::MqttState) -> Option<u16> {
    let request = rumqttc::Request::Publish(rumqttc::Publish::new("t", rumqttc::QoS::AtLeastOnce, "x"));
    match state.handle_outgoing_packet(request).unwrap() {
        Some(rumqttc::Packet::Publish(p)) => Some(p.pkid),
        _ => None,
    }
}

#[test]
fn mqtt311_acks_out_of_order_never_make_a_publish_reuse_an_id_in_flight() {
    let mut state = rumqttc::MqttState::new(4, false);
    let ids: Vec<_> = (0..4).map(|_| publish4(&mut state)).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3), Some(4)]);
    for pkid in [2, 3] {
        state
            .handle_incoming_packet(rumqttc::Packet::PubAck(rumqttc::PubAck::new(pkid)))
            .unwrap();
    }
    let next: Vec<_> = (0..2).map(|_| publish4(&mut state)).collect();
    assert_eq!(
        next,
        [Some(2), Some(3)],
        "the free ids, not 1 (awaiting its PUBACK)"
    );
    assert!(state.collision.is_none());
}
