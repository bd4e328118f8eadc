//! Conversions between Canopy's model and rumqttc's two packet vocabularies (3.1.1 and 5),
//! and the per-connection topic-alias table of MQTT 5.

use bytes::Bytes;
use rumqttc::QoS as QoS4;
use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5 as p5;

use crate::model::message::{Properties, QoS};

/// Aliases remembered at most (a broker should send none; see [`Aliases`]).
const MAX_ALIASES: usize = 1024;

pub(super) fn qos4(q: QoS) -> QoS4 {
    match q {
        QoS::AtMostOnce => QoS4::AtMostOnce,
        QoS::AtLeastOnce => QoS4::AtLeastOnce,
        QoS::ExactlyOnce => QoS4::ExactlyOnce,
    }
}

pub(super) fn qos5(q: QoS) -> QoS5 {
    match q {
        QoS::AtMostOnce => QoS5::AtMostOnce,
        QoS::AtLeastOnce => QoS5::AtLeastOnce,
        QoS::ExactlyOnce => QoS5::ExactlyOnce,
    }
}

pub(super) fn from_qos4(q: QoS4) -> QoS {
    match q {
        QoS4::AtMostOnce => QoS::AtMostOnce,
        QoS4::AtLeastOnce => QoS::AtLeastOnce,
        QoS4::ExactlyOnce => QoS::ExactlyOnce,
    }
}

pub(super) fn from_qos5(q: QoS5) -> QoS {
    match q {
        QoS5::AtMostOnce => QoS::AtMostOnce,
        QoS5::AtLeastOnce => QoS::AtLeastOnce,
        QoS5::ExactlyOnce => QoS::ExactlyOnce,
    }
}

/// The topic each alias stands for on the current network connection (MQTT 5 §3.3.2.3.4: an
/// alias is set by a PUBLISH carrying both, may be reassigned to another topic at any time,
/// and is forgotten when the network connection ends). Canopy advertises no alias maximum, so
/// a broker should send none; this keeps the topics right for one that does anyway, and an
/// alias whose topic was never said is reported instead of reaching the tree as "".
#[derive(Default)]
pub(crate) struct Aliases(std::collections::HashMap<u16, String>);

impl Aliases {
    /// A new network connection: MQTT 5 aliases do not outlive the one they were set on.
    pub(super) fn forget(&mut self) {
        self.0.clear();
    }

    /// The full topic of an incoming PUBLISH, learning or applying its alias.
    pub(super) fn resolve(&mut self, topic: String, alias: Option<u16>) -> Result<String, String> {
        match alias {
            Some(0) => Err("the broker sent topic alias 0, which MQTT 5 forbids".into()),
            Some(a) if topic.is_empty() => self
                .0
                .get(&a)
                .cloned()
                .ok_or_else(|| {
                    format!("the broker used topic alias {a} without ever saying its topic (Canopy allows no topic aliases)")
                }),
            Some(a) => {
                // Bounded: we allowed no aliases, so a broker using many is misbehaving.
                if self.0.len() < MAX_ALIASES || self.0.contains_key(&a) {
                    self.0.insert(a, topic.clone());
                }
                Ok(topic)
            }
            None if topic.is_empty() => Err("the broker sent a message with an empty topic".into()),
            None => Ok(topic),
        }
    }
}

pub(super) fn props_to_5(p: &Properties) -> p5::PublishProperties {
    p5::PublishProperties {
        payload_format_indicator: p.payload_format_indicator,
        message_expiry_interval: p.message_expiry_interval,
        topic_alias: None,
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.clone(),
        user_properties: p.user_properties.clone(),
        subscription_identifiers: Vec::new(),
        content_type: p.content_type.clone(),
    }
}

pub(super) fn props_from_5(p: Option<p5::PublishProperties>) -> Properties {
    match p {
        None => Properties::default(),
        Some(p) => Properties {
            payload_format_indicator: p.payload_format_indicator,
            message_expiry_interval: p.message_expiry_interval,
            topic_alias: p.topic_alias,
            response_topic: p.response_topic,
            correlation_data: p.correlation_data,
            user_properties: p.user_properties,
            subscription_identifiers: p.subscription_identifiers,
            content_type: p.content_type,
        },
    }
}

/// An MQTT 5 topic: UTF-8 by the protocol. One that is not is refused rather than altered, so
/// a recording never holds a topic other than the one sent.
pub(super) fn topic_string(bytes: Bytes) -> Result<String, String> {
    String::from_utf8(Vec::from(bytes)).map_err(|e| {
        let shown: String = e.as_bytes().iter().take(64).map(|b| format!("{b:02x}")).collect();
        format!("the broker sent a topic that is not UTF-8 (bytes {shown}), which MQTT forbids")
    })
}
