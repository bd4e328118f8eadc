//! The connection profile: the single source of connection settings shared by the GUI and CLI.

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::engine::backoff::ReconnectPolicy;
use crate::model::message::QoS;

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
}

/// Settings of the embedded sandbox broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxSettings {
    /// Publish demo traffic (a plant and smart-home tree) while connected.
    pub demo_traffic: bool,
    /// Demo messages per second.
    pub rate: u32,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            demo_traffic: true,
            rate: 20,
        }
    }
}

/// Where a profile's password is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PasswordStorage {
    /// In the OS credential store (Secret Service, Keychain, Credential Manager).
    #[default]
    Keyring,
    /// Not saved: asked for on connect.
    Ask,
    /// In the profiles file, in plain text (shown with a warning).
    File,
}

/// A saved connection: everything needed to connect to one broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Stable identity (survives renames; keys the saved password).
    pub id: ProfileId,
    /// Display name, unique among saved profiles.
    pub name: String,
    /// Folder the profile is shown in ("" = none).
    pub group: String,
    /// When set, connect to the embedded sandbox broker instead of `host`/`port`.
    pub sandbox: Option<SandboxSettings>,
    /// Where the password is kept.
    pub password_storage: PasswordStorage,
    /// Broker host name or IP address.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Transport to use.
    pub transport: TransportKind,
    /// HTTP path of the WebSocket endpoint.
    pub ws_path: String,
    /// MQTT protocol version.
    pub version: MqttVersion,
    /// Client identifier sent in CONNECT.
    pub client_id: String,
    /// User name, if the broker needs one.
    pub username: Option<String>,
    /// Password, if the broker needs one.
    pub password: Option<String>,
    /// Keep-alive interval in seconds.
    pub keep_alive_secs: u16,
    /// Clean session (3.1.1) / clean start (5.0).
    pub clean_session: bool,
    /// MQTT 5 session expiry interval in seconds. 0 means the default: "never" when the
    /// session is kept (`clean_session` off, as `mosquitto_sub -c` does), else the session
    /// ends with the connection. Without an expiry an MQTT 5 broker drops a kept session at
    /// every disconnect, and QoS 1/2 messages sent meanwhile are lost.
    pub session_expiry_secs: u32,
    /// Proxy: empty for none, `system` for the `ALL_PROXY`/`HTTPS_PROXY`/`NO_PROXY`
    /// environment, or a URL `http://[user:pass@]host:port` / `socks5://[user:pass@]host:port`.
    pub proxy: String,
    /// Optional last will.
    pub last_will: Option<LastWill>,
    /// Subscriptions made on every connect.
    pub subscriptions: Vec<Subscription>,
    /// TLS settings.
    pub tls: TlsSettings,
    /// Reconnect policy after a connection is lost.
    pub reconnect: ReconnectPolicy,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            id: random_profile_id(),
            name: "New connection".to_owned(),
            group: String::new(),
            sandbox: None,
            password_storage: PasswordStorage::Keyring,
            host: "localhost".to_owned(),
            port: 1883,
            transport: TransportKind::Tcp,
            ws_path: "/mqtt".to_owned(),
            version: MqttVersion::Auto,
            client_id: random_client_id(),
            username: None,
            password: None,
            keep_alive_secs: 60,
            clean_session: true,
            session_expiry_secs: 0,
            proxy: String::new(),
            last_will: None,
            subscriptions: vec![
                Subscription::new("#", QoS::AtMostOnce),
                Subscription::new("$SYS/#", QoS::AtMostOnce),
            ],
            tls: TlsSettings::default(),
            reconnect: ReconnectPolicy::default(),
        }
    }
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

/// A fresh profile id (16 hex digits).
pub fn random_profile_id() -> ProfileId {
    ProfileId(format!("{:016x}", rand::rng().random::<u64>()))
}

/// The stable identity of a profile: what survives renames, reordering and merges with other
/// windows, so work that outlives a frame (a file picker, a saved password) names its profile
/// by this, never by its position in the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub String);

impl ProfileId {
    /// The id as written in the profiles file and used as the credential store key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ProfileId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ProfileId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProfileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ProfileId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<String> for ProfileId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl PartialEq<str> for ProfileId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ProfileId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Why a broker URL could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The text is not a URL at all.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// The scheme is not one Canopy knows.
    #[error("unknown scheme `{0}`: use mqtt://, mqtts://, ws:// or wss://")]
    UnknownScheme(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    MissingHost,
}

impl Profile {
    /// A profile with default settings pointing at `host:port` over plain TCP.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            ..Self::default()
        }
    }

    /// Fills host, port, transport, WebSocket path and credentials from a broker URL such as
    /// `mqtts://user:pass@broker.example.com:8883` or `wss://host:8084/mqtt`. Fields the URL
    /// does not mention are left as they are (the port defaults to the scheme's usual one).
    pub fn apply_url(&mut self, text: &str) -> Result<(), UrlError> {
        let text = text.trim();
        let parsed = url::Url::parse(text).map_err(|e| UrlError::Invalid(e.to_string()))?;
        let transport = match parsed.scheme() {
            "mqtt" | "tcp" => TransportKind::Tcp,
            "mqtts" | "ssl" | "tls" | "mqtt+ssl" => TransportKind::Tls,
            "ws" => TransportKind::Ws,
            "wss" => TransportKind::Wss,
            other => return Err(UrlError::UnknownScheme(other.to_owned())),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(UrlError::MissingHost)?;
        // IPv6 literals come back bracketed; the socket layer wants them bare.
        self.host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        self.transport = transport;
        self.port = parsed.port().unwrap_or(transport.default_port());
        if transport.is_websocket() {
            let path = parsed.path();
            self.ws_path = if path.is_empty() || path == "/" {
                "/mqtt".to_owned()
            } else {
                path.to_owned()
            };
        }
        if !parsed.username().is_empty() {
            self.username = Some(percent_decode(parsed.username()));
        }
        if let Some(password) = parsed.password() {
            self.password = Some(percent_decode(password));
        }
        Ok(())
    }

    /// The profile as a URL without credentials, e.g. `mqtts://host:8883`.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = if self.transport.is_websocket() {
            self.ws_path.as_str()
        } else {
            ""
        };
        format!("{}://{host}:{}{path}", self.transport.scheme(), self.port)
    }

    /// Keep-alive as a duration.
    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(u64::from(self.keep_alive_secs))
    }

    /// The MQTT 5 session expiry to send, in seconds: the configured one, or "never"
    /// (`u32::MAX`) when the session is kept and none is configured, `None` when the session
    /// ends with the connection.
    pub fn effective_session_expiry(&self) -> Option<u32> {
        match (self.session_expiry_secs, self.clean_session) {
            (0, true) => None,
            (0, false) => Some(u32::MAX),
            (secs, _) => Some(secs),
        }
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_fills_fields() {
        let mut p = Profile::default();
        p.apply_url("mqtts://al%40ice:s3cr%3At@broker.example.com:8885")
            .unwrap();
        assert_eq!(p.transport, TransportKind::Tls);
        assert_eq!(p.host, "broker.example.com");
        assert_eq!(p.port, 8885);
        assert_eq!(p.username.as_deref(), Some("al@ice"));
        assert_eq!(p.password.as_deref(), Some("s3cr:t"));
    }

    #[test]
    fn url_defaults_port_and_path() {
        let mut p = Profile::default();
        p.apply_url("wss://broker.emqx.io").unwrap();
        assert_eq!(
            (p.transport, p.port, p.ws_path.as_str()),
            (TransportKind::Wss, 8084, "/mqtt")
        );
        p.apply_url("ws://h:9001/ws").unwrap();
        assert_eq!(
            (p.transport, p.port, p.ws_path.as_str()),
            (TransportKind::Ws, 9001, "/ws")
        );
        p.apply_url("mqtt://[::1]").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 1883));
        assert_eq!(p.url(), "mqtt://[::1]:1883");
    }

    #[test]
    fn bad_urls_are_explained() {
        let mut p = Profile::default();
        assert!(matches!(p.apply_url("http://x"), Err(UrlError::UnknownScheme(_))));
        assert!(matches!(p.apply_url("not a url"), Err(UrlError::Invalid(_))));
    }

    #[test]
    fn client_ids_are_random() {
        let a = random_client_id();
        assert!(a.starts_with("canopy-") && a.len() == 15);
        assert_ne!(a, random_client_id());
    }

    #[test]
    fn profile_round_trips_through_toml() {
        let mut p = Profile {
            last_will: Some(LastWill {
                topic: "t".into(),
                payload: "gone".into(),
                qos: QoS::ExactlyOnce,
                retain: true,
            }),
            ..Profile::default()
        };
        p.tls.alpn = vec!["mqtt".into()];
        let text = toml::to_string(&p).unwrap();
        let back: Profile = toml::from_str(&text).unwrap();
        assert_eq!(p, back);
    }
}
