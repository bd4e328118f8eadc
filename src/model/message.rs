//! Messages as Canopy sees them: received or to be published, with every MQTT 5 property.

use std::time::SystemTime;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// MQTT quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum QoS {
    /// At most once (0).
    #[default]
    AtMostOnce,
    /// At least once (1).
    AtLeastOnce,
    /// Exactly once (2).
    ExactlyOnce,
}

impl QoS {
    /// All levels, 0 to 2.
    pub const ALL: [QoS; 3] = [Self::AtMostOnce, Self::AtLeastOnce, Self::ExactlyOnce];

    /// The numeric level.
    pub fn level(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for QoS {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        match v {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            _ => Err(format!("QoS must be 0, 1 or 2, not {v}")),
        }
    }
}

impl From<QoS> for u8 {
    fn from(q: QoS) -> u8 {
        q.level()
    }
}

impl std::fmt::Display for QoS {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.level())
    }
}

/// MQTT 5 publish properties (all optional; empty for MQTT 3.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Properties {
    /// 1 if the payload is declared UTF-8, 0 if unspecified bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_indicator: Option<u8>,
    /// Message expiry interval in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expiry_interval: Option<u32>,
    /// Topic alias as sent on the wire (the message's topic is always resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias: Option<u16>,
    /// Response topic for request/response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<String>,
    /// Correlation data for request/response.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_bytes_b64")]
    pub correlation_data: Option<Bytes>,
    /// User properties, in order, duplicates allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<(String, String)>,
    /// Subscription identifiers that matched this message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_identifiers: Vec<usize>,
    /// Content type (MIME) of the payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl Properties {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A message received from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Full topic name (topic aliases resolved).
    pub topic: String,
    /// Payload bytes, whole.
    pub payload: Bytes,
    /// QoS it was delivered with.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate-delivery flag.
    pub dup: bool,
    /// When Canopy received it.
    pub received: SystemTime,
    /// MQTT 5 properties (empty for 3.1.1).
    pub properties: Properties,
    /// Whether one of the connection's subscriptions matches the topic. Some brokers send
    /// messages nobody asked for (amqtt pushes retained messages of other clients'
    /// subscriptions at CONNECT; aedes sends `$` topics to `#`): those are shown as such and
    /// never cleared, exported, recorded or printed by a command that filters.
    pub subscribed: bool,
}

impl Message {
    /// A message on `topic` as a subscription delivers it: QoS 0, not retained, received now,
    /// no properties. For tests, benches and offline tabs; the engine fills every field itself.
    pub fn received_now(topic: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        Self {
            topic: topic.into(),
            payload: payload.into(),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            received: SystemTime::now(),
            properties: Properties::default(),
            subscribed: true,
        }
    }
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// Topic name (no wildcards).
    pub topic: String,
    /// Payload bytes.
    pub payload: Bytes,
    /// QoS to publish with.
    pub qos: QoS,
    /// Whether the broker should retain it.
    pub retain: bool,
    /// MQTT 5 properties (ignored on 3.1.1 connections).
    pub properties: Properties,
}

mod opt_bytes_b64 {
    use base64::Engine as _;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map(Bytes::from)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}
