//! The connection profile: the single source of connection settings shared by the GUI and CLI.

use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::engine::backoff::ReconnectPolicy;
use crate::engine::options::ConnectOptions;
pub use crate::engine::options::{
    LastWill, MqttVersion, RetainHandling, Subscription, TlsSettings, TransportKind, random_client_id,
};
use crate::model::message::QoS;
use crate::model::present::Presentation;
use crate::model::template::Template;

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
    /// Saved publish templates (the publish panel, `canopy pub --template`).
    pub templates: Vec<Template>,
    /// Presentation mode: pinned tiles and what is redacted.
    pub presentation: Presentation,
    /// The `.proto` schema and the topic patterns bound to its message types.
    pub proto: crate::model::proto::ProtoSettings,
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
            templates: Vec::new(),
            presentation: Presentation::default(),
            proto: Default::default(),
        }
    }
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

    /// What the engine needs to connect: the settings without name, group, sandbox or where
    /// the password is kept. The password must already be here (from the file, the
    /// credential store, or a prompt).
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions::from(self)
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

impl From<&Profile> for ConnectOptions {
    fn from(p: &Profile) -> Self {
        ConnectOptions {
            host: p.host.clone(),
            port: p.port,
            transport: p.transport,
            ws_path: p.ws_path.clone(),
            version: p.version,
            client_id: p.client_id.clone(),
            username: p.username.clone(),
            password: p.password.clone(),
            keep_alive_secs: p.keep_alive_secs,
            clean_session: p.clean_session,
            session_expiry: p.effective_session_expiry(),
            proxy: p.proxy.clone(),
            last_will: p.last_will.clone(),
            subscriptions: p.subscriptions.clone(),
            tls: p.tls.clone(),
            reconnect: p.reconnect,
            // The window asks for its timeline when it connects; the CLI when told.
            trace: crate::engine::TraceLevel::Off,
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

    #[test]
    fn profiles_saved_before_presentation_mode_still_load() {
        let text = toml::to_string(&Profile::default()).unwrap();
        let cut = text.find("[presentation]").unwrap();
        let (old, section) = text.split_at(cut);
        assert!(section.contains("redact = true"), "{section}");
        let p: Profile = toml::from_str(old).unwrap();
        assert_eq!(p.presentation, Presentation::default());

        let mut p = Profile::default();
        p.presentation.pinned.push(crate::model::present::Tile {
            field: "value".into(),
            unit: "°C".into(),
            min: Some(0.0),
            max: Some(250.5),
            ..crate::model::present::Tile::new("plant/oven/temperature")
        });
        p.presentation.redaction = vec![
            crate::model::redact::Rule::Topic("plant/+/#".into()),
            crate::model::redact::Rule::Level(3),
            crate::model::redact::Rule::Field("customer.name".into()),
        ];
        p.presentation.subtree = "plant".into();
        let text = toml::to_string(&p).unwrap();
        assert!(text.contains("[[presentation.pinned]]"), "{text}");
        let back: Profile = toml::from_str(&text).unwrap();
        assert_eq!(back, p);
    }
}
