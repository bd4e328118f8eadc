//! What the engine needs to open a connection, and the protocol vocabulary it shares with
//! the profiles. The engine depends on nothing above it: `profiles` turns a saved profile
//! into [`ConnectOptions`] (`impl From<&Profile>`), never the other way round.

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::backoff::ReconnectPolicy;
use crate::model::message::QoS;

/// Everything one connection needs, resolved: the password is filled in and the MQTT 5
/// session expiry already follows the keep-session rule (see
/// `Profile::effective_session_expiry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Broker host name or IP address.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Transport to use.
    pub transport: TransportKind,
    /// HTTP path of the WebSocket endpoint (WebSocket transports only).
    pub ws_path: String,
    /// A pinned version, or `Auto` to negotiate.
    pub version: MqttVersion,
    /// Client identifier sent in CONNECT (empty asks the broker for one on MQTT 5).
    pub client_id: String,
    /// User name, if the broker needs one.
    pub username: Option<String>,
    /// Password sent with the user name.
    pub password: Option<String>,
    /// Keep-alive interval in seconds (at least 5).
    pub keep_alive_secs: u16,
    /// Clean session (3.1.1) / clean start (5.0).
    pub clean_session: bool,
    /// MQTT 5 session expiry interval to send, in seconds; `None` sends none (the session
    /// ends with the connection).
    pub session_expiry: Option<u32>,
    /// Empty for none, `system`, or an `http://` / `socks5://` proxy URL.
    pub proxy: String,
    /// The will message, if any.
    pub last_will: Option<LastWill>,
    /// Made on every connect.
    pub subscriptions: Vec<Subscription>,
    /// Used by the `tls` and `wss` transports.
    pub tls: TlsSettings,
    /// What to do after the connection is lost.
    pub reconnect: ReconnectPolicy,
    /// Which packets are reported as [`super::Event::Trace`] from the start (changed later
    /// with [`super::Command::Trace`]).
    pub trace: super::TraceLevel,
}

impl ConnectOptions {
    /// Keep-alive as a duration.
    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(u64::from(self.keep_alive_secs))
    }
}

/// How the client reaches the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Plain TCP (`mqtt://`, usually port 1883).
    #[default]
    Tcp,
    /// TLS over TCP (`mqtts://`, usually port 8883).
    Tls,
    /// WebSocket (`ws://`, path usually `/mqtt`).
    Ws,
    /// WebSocket over TLS (`wss://`).
    Wss,
}

impl TransportKind {
    /// Every transport, in the order the UI lists them.
    pub const ALL: [TransportKind; 4] = [Self::Tcp, Self::Tls, Self::Ws, Self::Wss];

    /// Whether this transport runs over TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Tls | Self::Wss)
    }

    /// Whether this transport is a WebSocket.
    pub fn is_websocket(self) -> bool {
        matches!(self, Self::Ws | Self::Wss)
    }

    /// The conventional port for this transport.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Tcp => 1883,
            Self::Tls => 8883,
            Self::Ws => 8083,
            Self::Wss => 8084,
        }
    }

    /// The URL scheme of this transport.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Tcp => "mqtt",
            Self::Tls => "mqtts",
            Self::Ws => "ws",
            Self::Wss => "wss",
        }
    }

    /// A short human label ("TCP", "TLS", "WebSocket", "Secure WebSocket").
    pub fn label(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Ws => "WebSocket",
            Self::Wss => "Secure WebSocket",
        }
    }
}

/// The MQTT protocol version of a profile: one pinned version, or `Auto` negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MqttVersion {
    /// Try 5.0, then 3.1.1, then 3.1, moving on only when the broker refuses the version
    /// (see `engine::negotiate`). A connection reports the version it settled on.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3): client ids of 1 to 23 characters.
    #[serde(rename = "3.1")]
    V31,
    /// MQTT 3.1.1 (protocol level 4).
    #[serde(rename = "3.1.1")]
    V311,
    /// MQTT 5.0 (protocol level 5).
    #[serde(rename = "5.0")]
    V5,
}

impl MqttVersion {
    /// Every choice, in the order a version picker lists them.
    pub const ALL: [MqttVersion; 4] = [Self::Auto, Self::V5, Self::V311, Self::V31];

    /// "MQTT 5.0", "MQTT 3.1.1", "MQTT 3.1" or "Auto".
    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "Auto",
            Self::V31 => "MQTT 3.1",
            Self::V311 => "MQTT 3.1.1",
            Self::V5 => "MQTT 5.0",
        }
    }

    /// "auto", "3.1", "3.1.1" or "5.0", as written in files and on the command line.
    pub fn short(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::V31 => "3.1",
            Self::V311 => "3.1.1",
            Self::V5 => "5.0",
        }
    }

    /// The versions to try, in order: all three for `Auto`, else just the pinned one.
    pub fn candidates(self) -> &'static [MqttVersion] {
        match self {
            Self::Auto => &[Self::V5, Self::V311, Self::V31],
            Self::V31 => &[Self::V31],
            Self::V311 => &[Self::V311],
            Self::V5 => &[Self::V5],
        }
    }

    /// Whether MQTT 5 features (properties, subscription options) may be used: true for
    /// 5.0 and for `Auto`, which tries 5.0 first (a connection knows what it got).
    pub fn allows_v5(self) -> bool {
        matches!(self, Self::V5 | Self::Auto)
    }
}

/// The message the broker publishes for us if we vanish without a clean disconnect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LastWill {
    /// Topic of the will message.
    pub topic: String,
    /// Payload of the will message (UTF-8 text).
    pub payload: String,
    /// QoS of the will message.
    pub qos: QoS,
    /// Whether the broker retains the will message.
    pub retain: bool,
}

/// How the broker should treat retained messages when a subscription is made (MQTT 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RetainHandling {
    /// Send retained messages on every subscribe (the MQTT default).
    #[default]
    SendOnSubscribe,
    /// Send retained messages only if the subscription is new.
    SendIfNew,
    /// Never send retained messages for this subscription.
    DoNotSend,
}

impl RetainHandling {
    /// Every choice, in protocol order.
    pub const ALL: [RetainHandling; 3] = [Self::SendOnSubscribe, Self::SendIfNew, Self::DoNotSend];

    /// A short label for pickers.
    pub fn label(self) -> &'static str {
        match self {
            Self::SendOnSubscribe => "Retained: always",
            Self::SendIfNew => "Retained: if new",
            Self::DoNotSend => "Retained: never",
        }
    }
}

/// One subscription: a topic filter and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Subscription {
    /// Topic filter, possibly with `+` and `#` wildcards.
    pub filter: String,
    /// Maximum QoS requested.
    pub qos: QoS,
    /// MQTT 5: do not receive our own publishes.
    pub no_local: bool,
    /// MQTT 5: keep the retain flag as published instead of clearing it on live messages.
    pub retain_as_published: bool,
    /// MQTT 5: when to send retained messages.
    pub retain_handling: RetainHandling,
}

impl Default for Subscription {
    fn default() -> Self {
        Self::new("#", QoS::AtMostOnce)
    }
}

impl Subscription {
    /// A subscription with default options.
    pub fn new(filter: impl Into<String>, qos: QoS) -> Self {
        Self {
            filter: filter.into(),
            qos,
            no_local: false,
            // An explorer wants to see the real retain flag of every message.
            retain_as_published: true,
            retain_handling: RetainHandling::SendOnSubscribe,
        }
    }
}

/// TLS settings of a profile (used by the `tls` and `wss` transports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TlsSettings {
    /// PEM file with the CA certificate(s) to trust; `None` uses the OS trust store.
    pub ca_file: Option<PathBuf>,
    /// PEM file with the client certificate chain (mutual TLS).
    pub client_cert_file: Option<PathBuf>,
    /// PEM file with the client's private key (PKCS#8, SEC1 or PKCS#1).
    pub client_key_file: Option<PathBuf>,
    /// ALPN protocols to offer, e.g. `mqtt` or `x-amzn-mqtt-ca`.
    pub alpn: Vec<String>,
    /// Check the server certificate against this name instead of the host.
    pub server_name: Option<String>,
    /// Accept any server certificate. Dangerous; always shown as a warning.
    pub skip_verification: bool,
    /// Write the TLS session keys to the file named by `SSLKEYLOGFILE` (when it is set), so
    /// a packet capture can be decrypted in Wireshark. For debugging only: anyone with the
    /// file reads the traffic. Never on unless asked (`--keylog`, the profile's checkbox).
    pub key_log: bool,
}

/// A fresh client id: `canopy-` followed by 8 random lowercase letters and digits.
pub fn random_client_id() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..8)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("canopy-{suffix}")
}
