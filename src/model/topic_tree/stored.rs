//! A message as the tree keeps it, and what it costs against the history budget.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::model::message::{Message, Properties, QoS};

/// Payloads up to this size are copied out of the network buffer they arrived in, so that one
/// small retained value does not keep a whole read buffer alive.
const COPY_PAYLOAD_BELOW: usize = 64 * 1024;

/// Bytes a history entry costs beyond its payload (the entry and its place in the eviction queue).
pub(super) const HISTORY_ENTRY_OVERHEAD: usize = std::mem::size_of::<StoredMessage>() + 16;

/// A message as the tree keeps it (its topic is the node it is stored in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Payload bytes (cut to [`super::Limits::history_payload_cap`] in history; see
    /// [`StoredMessage::original_len`]).
    pub payload: Bytes,
    original_len: u32,
    received_ms: i64,
    properties: Option<Box<Properties>>,
    pub(super) seq: u64,
    /// QoS it was delivered with.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate-delivery flag.
    pub dup: bool,
}

static NO_PROPERTIES: std::sync::LazyLock<Properties> = std::sync::LazyLock::new(Properties::default);

impl StoredMessage {
    pub(super) fn new(message: Message, seq: u64) -> Self {
        let payload = if message.payload.len() < COPY_PAYLOAD_BELOW {
            Bytes::copy_from_slice(&message.payload)
        } else {
            message.payload
        };
        let received_ms = message
            .received
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            original_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            payload,
            received_ms,
            properties: (!message.properties.is_empty()).then(|| Box::new(message.properties)),
            seq,
            qos: message.qos,
            retain: message.retain,
            dup: message.dup,
        }
    }

    /// When Canopy received it.
    pub fn received(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.received_ms).unwrap_or(0))
    }

    /// Its MQTT 5 properties (empty for MQTT 3.1.1).
    pub fn properties(&self) -> &Properties {
        self.properties.as_deref().unwrap_or(&NO_PROPERTIES)
    }

    /// The payload's length as received.
    pub fn original_len(&self) -> usize {
        self.original_len as usize
    }

    /// Whether the payload was cut when the message moved into history.
    pub fn truncated(&self) -> bool {
        self.payload.len() < self.original_len()
    }

    pub(super) fn cost(&self) -> usize {
        let properties = self.properties.as_ref().map_or(0, |p| {
            std::mem::size_of::<Properties>()
                + p.user_properties
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 48)
                    .sum::<usize>()
                + p.response_topic.as_ref().map_or(0, String::len)
                + p.content_type.as_ref().map_or(0, String::len)
                + p.correlation_data.as_ref().map_or(0, Bytes::len)
        });
        self.payload.len() + HISTORY_ENTRY_OVERHEAD + properties
    }
}
