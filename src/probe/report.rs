//! The probe's result: plain data, serialisable, rendered by `render.rs`.

use serde::Serialize;

use crate::model::message::QoS;

/// The answer to one question about the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum Support {
    /// The broker does it (tried, or announced and not contradicted).
    Supported,
    /// The broker does not do it (refused, or it did not happen).
    NotSupported,
    /// The probe could not tell: why (a time limit, a lost connection...).
    Unknown(String),
}

/// One line of the report card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The answer.
    #[serde(flatten)]
    pub support: Support,
    /// What was seen, in words ("granted QoS 1 to a QoS 2 subscription").
    pub detail: String,
    /// The number behind the answer when there is one (a QoS, a byte count, a topic count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
}

impl Check {
    /// Supported, with what was seen.
    pub fn yes(detail: impl Into<String>) -> Self {
        Self {
            support: Support::Supported,
            detail: detail.into(),
            value: None,
        }
    }

    /// Not supported, with what was seen.
    pub fn no(detail: impl Into<String>) -> Self {
        Self {
            support: Support::NotSupported,
            detail: detail.into(),
            value: None,
        }
    }

    /// Unknown, with the reason (also shown as the detail).
    pub fn unknown(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            support: Support::Unknown(reason.clone()),
            detail: reason,
            value: None,
        }
    }

    /// The same answer with a number attached.
    pub fn with_value(mut self, value: u64) -> Self {
        self.value = Some(value);
        self
    }
}

/// Which protocol versions the broker accepted, each connected with that version pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Versions {
    /// MQTT 3.1 (`MQIsdp`, level 3).
    pub v3_1: Check,
    /// MQTT 3.1.1 (level 4).
    pub v3_1_1: Check,
    /// MQTT 5.0.
    pub v5: Check,
}

/// What an MQTT 5 broker announced in CONNACK, checked by trying where that is possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mqtt5 {
    /// Sessions kept after a disconnect (reconnected with the same client id).
    pub session_expiry: Check,
    /// Topic aliases the broker accepts from a client (announced only: Canopy sends none).
    pub topic_alias_maximum: Check,
    /// Subscription identifiers come back on the messages they matched.
    pub subscription_identifiers: Check,
    /// Wildcard subscriptions announced (tried for every version: [`Report::wildcard_plus`], [`Report::wildcard_hash`]).
    pub wildcard_subscriptions: Check,
    /// User properties of a PUBLISH reach the subscriber.
    pub user_properties: Check,
    /// Largest packet the broker accepts, as announced.
    pub maximum_packet_size: Check,
    /// QoS 1/2 publishes the broker takes in flight at once, as announced.
    pub receive_maximum: Check,
    /// Keep-alive the broker imposes, as announced.
    pub server_keep_alive: Check,
    /// Whether retained messages are available, as announced.
    pub retain_available: Check,
    /// Highest QoS the broker accepts in a PUBLISH, as announced.
    pub maximum_qos: Check,
}

/// Round-trip latency at one QoS: publish → the probe's own subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// QoS of the messages and of the subscription.
    pub qos: QoS,
    /// Messages published.
    pub sent: u32,
    /// Messages that came back.
    pub received: u32,
    /// Median round trip, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Slowest, in milliseconds.
    pub max_ms: f64,
}

/// A burst at one QoS: as fast as the broker takes it, with a bounded number outstanding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// QoS of the messages and of the subscription.
    pub qos: QoS,
    /// Length of the burst, in seconds.
    pub seconds: f64,
    /// Messages published.
    pub sent: u64,
    /// Messages that came back.
    pub delivered: u64,
    /// Messages published that never came back (after a grace period).
    pub lost: u64,
    /// Messages delivered per second.
    pub msgs_per_sec: f64,
}

/// The report card of one broker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The broker as a URL, without credentials.
    pub broker: String,
    /// The broker's own name and version, when it publishes them under `$SYS` (mosquitto:
    /// "mosquitto version 2.0.11"); bounded to one short line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_software: Option<String>,
    /// When the probe started (RFC 3339, UTC).
    pub started: String,
    /// How long it took, in seconds.
    pub duration_secs: f64,
    /// The topic prefix every test message used (emptied afterwards).
    pub scratch_prefix: String,
    /// The version the tests after the version check ran with (the newest accepted).
    pub tested_with: String,
    /// The version latency and throughput were measured with: 3.1.1 when the broker accepts
    /// it (Canopy's MQTT 5 client is slower at receiving QoS 1 than the brokers it measures).
    pub speed_tested_with: String,
    /// Protocol versions accepted.
    pub versions: Versions,
    /// Highest QoS granted to a QoS 2 subscription.
    pub max_qos: Check,
    /// A retained message reaches a later subscription.
    pub retained: Check,
    /// A `+` filter delivers.
    pub wildcard_plus: Check,
    /// A `#` filter delivers.
    pub wildcard_hash: Check,
    /// Topics seen under `$SYS/#`.
    pub sys_topics: Check,
    /// A `$share/<group>/...` subscription delivers.
    pub shared_subscriptions: Check,
    /// MQTT 5 only; `None` when the broker does not speak it.
    pub mqtt5: Option<Mqtt5>,
    /// Largest payload that made the round trip, in bytes.
    pub max_payload: Check,
    /// Round-trip latency per QoS.
    pub latency: Vec<Latency>,
    /// Burst throughput per QoS.
    pub throughput: Vec<Throughput>,
    /// Whether every retained test message was deleted again.
    pub cleanup: Check,
}
