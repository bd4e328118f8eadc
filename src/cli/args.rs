//! Connection arguments shared by every subcommand.

use std::path::PathBuf;

use clap::{ArgAction, Args};

use crate::model::message::QoS;
use crate::profiles::profile::{LastWill, MqttVersion, Profile, TransportKind};
use crate::profiles::store;

/// Where and how to connect: a saved profile, a URL, or individual options (later options
/// override earlier sources: profile, then URL, then the individual flags).
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Use a saved connection profile by name.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Profiles file (default: the one the window uses).
    #[arg(long, value_name = "FILE", env = "CANOPY_PROFILES")]
    pub profiles_file: Option<PathBuf>,
    /// Broker URL: mqtt://, mqtts://, ws://, wss:// with optional user:pass@ and port.
    #[arg(long, short = 'L', value_name = "URL")]
    pub url: Option<String>,
    /// Broker host.
    #[arg(short = 'h', long, value_name = "HOST")]
    pub host: Option<String>,
    /// Broker port (default: the transport's usual port).
    #[arg(short = 'p', long)]
    pub port: Option<u16>,
    /// Transport: tcp, tls, ws or wss.
    #[arg(long, value_parser = parse_transport)]
    pub transport: Option<TransportKind>,
    /// WebSocket path.
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,
    /// MQTT version: auto (the default: 5, falling back to 3.1.1 then 3.1 when the broker
    /// refuses), 5, 3.1.1 or 3.1.
    #[arg(short = 'V', long = "mqtt-version", value_parser = parse_version)]
    pub mqtt_version: Option<MqttVersion>,
    /// Client id (default: canopy- and a random suffix).
    #[arg(short = 'i', long)]
    pub id: Option<String>,
    /// User name.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password (prefer the CANOPY_PASSWORD environment variable: arguments are visible to
    /// other users of the machine).
    #[arg(short = 'P', long, env = "CANOPY_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Proxy: `http://[user:pass@]host:port`, `socks5://[user:pass@]host:port`, or `system` for
    /// the ALL_PROXY / HTTPS_PROXY / NO_PROXY environment variables.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Keep-alive in seconds (at least 5).
    #[arg(short = 'k', long)]
    pub keepalive: Option<u16>,
    /// Keep the session on the broker (clean session / clean start off).
    #[arg(short = 'c', long)]
    pub no_clean: bool,
    /// MQTT 5 session expiry interval in seconds (with -c and none given: never, as
    /// mosquitto_sub does; without an expiry the broker drops the session at disconnect).
    /// Ignored, with a warning, on MQTT 3.1.1 and 3.1.
    #[arg(long)]
    pub session_expiry: Option<u32>,
    /// CA certificate file (PEM); implies TLS.
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Client certificate file (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Client private key file (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// ALPN protocol to offer (repeatable).
    #[arg(long)]
    pub alpn: Vec<String>,
    /// Verify the server certificate against this name instead of the host.
    #[arg(long)]
    pub server_name: Option<String>,
    /// Do not verify the server certificate. DANGEROUS: anyone can impersonate the broker.
    #[arg(long)]
    pub insecure: bool,
    /// Write TLS session keys to the file named by SSLKEYLOGFILE (for Wireshark; debugging
    /// only: anyone with the file can read the traffic).
    #[arg(long)]
    pub keylog: bool,
    /// Last will topic.
    #[arg(long)]
    pub will_topic: Option<String>,
    /// Last will payload.
    #[arg(long, default_value = "")]
    pub will_payload: String,
    /// Last will QoS.
    #[arg(long, default_value = "0", value_parser = parse_qos)]
    pub will_qos: QoS,
    /// Retain the last will.
    #[arg(long)]
    pub will_retain: bool,
    /// Reconnect attempts after the connection is lost (0 = forever).
    #[arg(long)]
    pub reconnect_attempts: Option<u32>,
    /// Keep trying when the first connection attempt fails (default: give up at once).
    #[arg(long)]
    pub retry: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// Parses a QoS level `0`, `1` or `2`.
pub fn parse_qos(s: &str) -> Result<QoS, String> {
    s.parse::<u8>()
        .map_err(|_| format!("QoS must be 0, 1 or 2, not `{s}`"))
        .and_then(QoS::try_from)
}

fn parse_transport(s: &str) -> Result<TransportKind, String> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" | "mqtt" => Ok(TransportKind::Tcp),
        "tls" | "mqtts" | "ssl" => Ok(TransportKind::Tls),
        "ws" | "websocket" => Ok(TransportKind::Ws),
        "wss" => Ok(TransportKind::Wss),
        _ => Err(format!("unknown transport `{s}`: use tcp, tls, ws or wss")),
    }
}

fn parse_version(s: &str) -> Result<MqttVersion, String> {
    match s.to_ascii_lowercase().as_str() {
        "5" | "5.0" | "mqttv5" | "v5" => Ok(MqttVersion::V5),
        "3.1.1" | "311" | "4" | "mqttv311" | "v311" => Ok(MqttVersion::V311),
        "3.1" | "31" | "3" | "mqttv31" | "v31" => Ok(MqttVersion::V31),
        "auto" => Ok(MqttVersion::Auto),
        _ => Err(format!("unknown MQTT version `{s}`: use auto, 5, 3.1.1 or 3.1")),
    }
}

impl ConnectionArgs {
    /// The profile, or (after saying what is wrong on stderr) the usage exit code.
    pub fn profile_or_exit(&self) -> Result<Profile, u8> {
        self.profile().map_err(|e| {
            super::complain(e);
            super::exit::USAGE
        })
    }

    /// The profile subscribing to `filters` at `qos` (its own subscriptions replaced). An invalid
    /// filter is reported with the subscription exit code, before anything else.
    pub fn subscribing_profile(&self, filters: &[String], qos: QoS) -> Result<Profile, u8> {
        for filter in filters {
            if let Err(e) = crate::model::topic::validate_filter(filter) {
                super::complain(format!("invalid topic filter `{}`: {e}", filter.escape_debug()));
                return Err(super::exit::SUBSCRIBE);
            }
        }
        let mut profile = self.profile_or_exit()?;
        profile.subscriptions = filters
            .iter()
            .map(|f| crate::profiles::profile::Subscription::new(f.clone(), qos))
            .collect();
        Ok(profile)
    }

    /// Builds the profile these arguments describe.
    pub fn profile(&self) -> Result<Profile, String> {
        let mut p = match &self.profile {
            Some(name) => {
                let path = match &self.profiles_file {
                    Some(path) => path.clone(),
                    None => store::default_path().map_err(|e| e.to_string())?,
                };
                let file = match store::load(&path) {
                    Ok(file) => file,
                    Err(store::StoreError::NewerVersion { .. }) => {
                        return Err(format!("{} was written by a newer Canopy", path.display()));
                    }
                    // The store's errors name the file and never quote a secret.
                    Err(e) => return Err(e.to_string()),
                };
                store::find(&file, name).map_err(|e| e.to_string())?
            }
            None => Profile::default(),
        };
        if let Some(url) = &self.url {
            p.apply_url(url).map_err(|e| e.to_string())?;
        }
        if let Some(t) = self.transport {
            p.transport = t;
            if self.port.is_none() && self.url.is_none() {
                p.port = t.default_port();
            }
        }
        if self.cafile.is_some() && !p.transport.is_tls() {
            p.transport = match p.transport {
                TransportKind::Ws => TransportKind::Wss,
                _ => TransportKind::Tls,
            };
            if self.port.is_none() && self.url.is_none() && self.profile.is_none() {
                p.port = p.transport.default_port();
            }
        }
        if let Some(h) = &self.host {
            p.host.clone_from(h);
        }
        if let Some(port) = self.port {
            p.port = port;
        }
        if let Some(path) = &self.ws_path {
            p.ws_path.clone_from(path);
        }
        if let Some(v) = self.mqtt_version {
            p.version = v;
        }
        if let Some(id) = &self.id {
            p.client_id.clone_from(id);
        }
        if let Some(u) = &self.username {
            p.username = Some(u.clone());
        }
        if let Some(pw) = &self.password {
            p.password = Some(pw.clone());
        }
        if let Some(k) = self.keepalive {
            p.keep_alive_secs = k;
        }
        if self.no_clean {
            p.clean_session = false;
        }
        if let Some(s) = self.session_expiry {
            p.session_expiry_secs = s;
        }
        if let Some(proxy) = &self.proxy {
            p.proxy.clone_from(proxy);
        }
        if let Some(ca) = &self.cafile {
            p.tls.ca_file = Some(ca.clone());
        }
        if let Some(cert) = &self.cert {
            p.tls.client_cert_file = Some(cert.clone());
        }
        if let Some(key) = &self.key {
            p.tls.client_key_file = Some(key.clone());
        }
        if !self.alpn.is_empty() {
            p.tls.alpn.clone_from(&self.alpn);
        }
        if let Some(name) = &self.server_name {
            p.tls.server_name = Some(name.clone());
        }
        if self.insecure {
            p.tls.skip_verification = true;
        }
        if self.keylog {
            p.tls.key_log = true;
        }
        if let Some(topic) = &self.will_topic {
            p.last_will = Some(LastWill {
                topic: topic.clone(),
                payload: self.will_payload.clone(),
                qos: self.will_qos,
                retain: self.will_retain,
            });
        }
        if let Some(n) = self.reconnect_attempts {
            p.reconnect.max_attempts = n;
        }
        if self.profile.is_some() {
            super::password::fill(&mut p)?;
        }
        Ok(p)
    }
}
