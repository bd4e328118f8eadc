//! The MQTT 5 CONNACK properties that describe the broker, in the engine's own type (so no
//! rumqttc type crosses the thread protocol).

use rumqttc::v5::mqttbytes::v5::ConnAckProperties;

use crate::engine::BrokerCapabilities;

/// What the broker announced; `None` when the CONNACK carried no properties at all.
pub(crate) fn capabilities(props: Option<&ConnAckProperties>) -> Box<BrokerCapabilities> {
    // Flags are one byte on the wire: 0 = not available, 1 = available (§3.2.2.3).
    let flag = |b: Option<u8>| b.map(|b| b != 0);
    Box::new(match props {
        None => BrokerCapabilities::default(),
        Some(p) => BrokerCapabilities {
            session_expiry_secs: p.session_expiry_interval,
            receive_maximum: p.receive_max,
            maximum_qos: p.max_qos,
            retain_available: flag(p.retain_available),
            maximum_packet_size: p.max_packet_size,
            assigned_client_id: p.assigned_client_identifier.clone(),
            topic_alias_maximum: p.topic_alias_max,
            wildcard_subscriptions: flag(p.wildcard_subscription_available),
            subscription_identifiers: flag(p.subscription_identifiers_available),
            shared_subscriptions: flag(p.shared_subscription_available),
            server_keep_alive_secs: p.server_keep_alive,
        },
    })
}
