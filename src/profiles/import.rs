//! Import and export of profiles: Canopy's own format, MQTT Explorer's settings file and
//! MQTTX's exported JSON. Fields without an equivalent are reported, never dropped silently.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use super::profile::{
    LastWill, MqttVersion, PasswordStorage, Profile, Subscription, TransportKind, random_profile_id,
};
use super::store::ProfilesFile;
use crate::model::message::QoS;

/// What an import produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Where the file came from ("Canopy", "MQTT Explorer", "MQTTX").
    pub source: &'static str,
    /// The profiles read.
    pub profiles: Vec<Profile>,
    /// What could not be carried over, one line each.
    pub notes: Vec<String>,
}

/// How to treat an imported profile whose name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Import it under a new name ("NAME (imported)").
    Rename,
    /// Replace the existing profile.
    Replace,
}

/// Writes profiles as a Canopy file. Passwords are left out unless `include_secrets`.
pub fn export(profiles: &[Profile], include_secrets: bool) -> Result<String, String> {
    let profiles = profiles
        .iter()
        .cloned()
        .map(|mut p| {
            if include_secrets {
                if p.password.is_some() {
                    p.password_storage = PasswordStorage::File;
                }
            } else {
                p.password = None;
            }
            p
        })
        .collect();
    let file = ProfilesFile {
        profiles,
        ..ProfilesFile::default()
    };
    toml::to_string_pretty(&file).map_err(|e| e.to_string())
}

/// Reads a file in any supported format. Certificates embedded in the file (MQTT Explorer)
/// are written as PEM files under `cert_dir`.
pub fn import_file(path: &Path, cert_dir: &Path) -> Result<ImportReport, String> {
    let text = crate::fsutil::read_capped_text(path, crate::fsutil::PROFILES_LIMIT, "a profiles file")
        .map_err(|e| e.to_string())?;
    import_text(&text, cert_dir)
}

/// Like [`import_file`] for the file's text.
pub fn import_text(text: &str, cert_dir: &Path) -> Result<ImportReport, String> {
    if let Ok(file) = toml::from_str::<ProfilesFile>(text)
        && !file.profiles.is_empty()
    {
        return Ok(ImportReport {
            source: "Canopy",
            profiles: file.profiles,
            notes: Vec::new(),
        });
    }
    let json: Value =
        serde_json::from_str(text).map_err(|e| format!("not a Canopy, MQTT Explorer or MQTTX file: {e}"))?;
    if let Some(connections) = json.get("ConnectionManager_connections") {
        return Ok(mqtt_explorer(connections, cert_dir));
    }
    let list = match &json {
        Value::Array(items) => Some(items.clone()),
        Value::Object(o) => o.get("connections").and_then(Value::as_array).cloned(),
        _ => None,
    };
    match list {
        Some(items) => Ok(mqttx(&items)),
        None => Err("not a Canopy, MQTT Explorer or MQTTX file: no connections found".into()),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn qos(v: Option<&Value>) -> QoS {
    v.and_then(Value::as_u64)
        .and_then(|q| QoS::try_from(q as u8).ok())
        .unwrap_or_default()
}

fn subscriptions(v: Option<&Value>) -> Vec<Subscription> {
    v.and_then(Value::as_array)
        .map(|subs| {
            subs.iter()
                .filter_map(|sub| Some(Subscription::new(s(sub, "topic")?, qos(sub.get("qos")))))
                .collect()
        })
        .unwrap_or_default()
}

fn write_cert(dir: &Path, name: String, base64_data: &str) -> Result<PathBuf, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_data.trim())
        .map_err(|e| format!("embedded certificate is not base64: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// MQTT Explorer keeps `{"ConnectionManager_connections": {"<id>": ConnectionOptions}}`.
fn mqtt_explorer(connections: &Value, cert_dir: &Path) -> ImportReport {
    let mut report = ImportReport {
        source: "MQTT Explorer",
        ..ImportReport::default()
    };
    let Some(map) = connections.as_object() else {
        report
            .notes
            .push("ConnectionManager_connections is not an object".into());
        return report;
    };
    for (key, c) in map {
        let name = s(c, "name").unwrap_or(key).to_owned();
        if s(c, "type").is_some_and(|t| t != "mqtt") {
            report
                .notes
                .push(format!("{name}: skipped, not an MQTT connection"));
            continue;
        }
        let mut p = Profile {
            name: name.clone(),
            host: s(c, "host").unwrap_or("localhost").to_owned(),
            ..Profile::default()
        };
        let tls = c.get("encryption").and_then(Value::as_bool).unwrap_or(false);
        let ws = s(c, "protocol") == Some("ws");
        p.transport = match (ws, tls) {
            (false, false) => TransportKind::Tcp,
            (false, true) => TransportKind::Tls,
            (true, false) => TransportKind::Ws,
            (true, true) => TransportKind::Wss,
        };
        p.port = c
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(p.transport.default_port());
        if let Some(base) = s(c, "basePath") {
            p.ws_path = format!("/{}", base.trim_start_matches('/'));
        }
        // MQTT Explorer speaks MQTT 3.1.1 only.
        p.version = MqttVersion::V311;
        if let Some(id) = s(c, "clientId") {
            p.client_id = id.to_owned();
        }
        p.username = s(c, "username").map(str::to_owned);
        p.password = s(c, "password").map(str::to_owned);
        p.tls.skip_verification = c.get("certValidation").and_then(Value::as_bool) == Some(false);
        let subs = subscriptions(c.get("subscriptions"));
        if !subs.is_empty() {
            p.subscriptions = subs;
        }
        for (field, slot, suffix) in [
            ("selfSignedCertificate", 0, "ca.pem"),
            ("clientCertificate", 1, "client.pem"),
            ("clientKey", 2, "client.key"),
        ] {
            let Some(data) = c.get(field).and_then(|cert| s(cert, "data")) else {
                continue;
            };
            match write_cert(cert_dir, format!("{}-{suffix}", p.id), data) {
                Ok(path) => match slot {
                    0 => p.tls.ca_file = Some(path),
                    1 => p.tls.client_cert_file = Some(path),
                    _ => p.tls.client_key_file = Some(path),
                },
                Err(e) => report.notes.push(format!("{name}: {field} not imported: {e}")),
            }
        }
        if c.get("zlibCompression").and_then(Value::as_bool) == Some(true) {
            report.notes.push(format!(
                "{name}: zlib decompression of payloads is not supported; ignored"
            ));
        }
        report.profiles.push(p);
    }
    report
}

/// MQTTX exports a list of connections (`ConnectionModel`).
fn mqttx(items: &[Value]) -> ImportReport {
    let mut report = ImportReport {
        source: "MQTTX",
        ..ImportReport::default()
    };
    for c in items {
        if c.get("isCollection").and_then(Value::as_bool) == Some(true) {
            let group = s(c, "name").unwrap_or("collection");
            let children = c
                .get("children")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut inner = mqttx(&children);
            for p in &mut inner.profiles {
                p.group = group.to_owned();
            }
            report.profiles.append(&mut inner.profiles);
            report.notes.append(&mut inner.notes);
            continue;
        }
        let name = s(c, "name").unwrap_or("MQTTX connection").to_owned();
        let ssl = c.get("ssl").and_then(Value::as_bool).unwrap_or(false);
        let mut p = Profile {
            name: name.clone(),
            host: s(c, "host").unwrap_or("localhost").to_owned(),
            ..Profile::default()
        };
        p.transport = match (s(c, "protocol").unwrap_or("mqtt"), ssl) {
            ("ws", false) => TransportKind::Ws,
            ("ws" | "wss", _) => TransportKind::Wss,
            ("mqtts", _) | (_, true) => TransportKind::Tls,
            _ => TransportKind::Tcp,
        };
        p.port = c
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(p.transport.default_port());
        if let Some(path) = s(c, "path") {
            p.ws_path = path.to_owned();
        }
        p.version = if s(c, "mqttVersion") == Some("3.1.1") {
            MqttVersion::V311
        } else {
            MqttVersion::V5
        };
        if let Some(id) = s(c, "clientId") {
            p.client_id = id.to_owned();
        }
        p.username = s(c, "username").map(str::to_owned);
        p.password = s(c, "password").map(str::to_owned);
        if let Some(k) = c.get("keepalive").and_then(Value::as_u64) {
            p.keep_alive_secs = u16::try_from(k).unwrap_or(u16::MAX).max(5);
        }
        if let Some(clean) = c.get("clean").and_then(Value::as_bool) {
            p.clean_session = clean;
        }
        p.tls.ca_file = s(c, "ca").map(PathBuf::from);
        p.tls.client_cert_file = s(c, "cert").map(PathBuf::from);
        p.tls.client_key_file = s(c, "key").map(PathBuf::from);
        p.tls.skip_verification = c.get("rejectUnauthorized").and_then(Value::as_bool) == Some(false) && ssl;
        if let Some(alpn) = s(c, "ALPNProtocols") {
            p.tls.alpn = alpn.split(',').map(|a| a.trim().to_owned()).collect();
        }
        let subs = subscriptions(c.get("subscriptions"));
        if !subs.is_empty() {
            p.subscriptions = subs;
        }
        if let Some(w) = c.get("will")
            && let Some(topic) = s(w, "lastWillTopic")
        {
            p.last_will = Some(LastWill {
                topic: topic.to_owned(),
                payload: s(w, "lastWillPayload").unwrap_or_default().to_owned(),
                qos: qos(w.get("lastWillQos")),
                retain: w.get("lastWillRetain").and_then(Value::as_bool).unwrap_or(false),
            });
            if w.get("properties")
                .is_some_and(|v| v.as_object().is_some_and(|o| o.values().any(|x| !x.is_null())))
            {
                report
                    .notes
                    .push(format!("{name}: last-will properties are not supported; ignored"));
            }
        }
        if let Some(props) = c.get("properties") {
            if let Some(e) = props.get("sessionExpiryInterval").and_then(Value::as_u64) {
                p.session_expiry_secs = u32::try_from(e).unwrap_or(u32::MAX);
            }
            for key in [
                "receiveMaximum",
                "maximumPacketSize",
                "topicAliasMaximum",
                "userProperties",
                "authenticationMethod",
            ] {
                if props.get(key).is_some_and(|v| !v.is_null()) {
                    report.notes.push(format!(
                        "{name}: connect property {key} is not supported; ignored"
                    ));
                }
            }
        }
        if c.get("reconnect").and_then(Value::as_bool) == Some(false) {
            p.reconnect.enabled = false;
        }
        if let Some(ms) = c.get("reconnectPeriod").and_then(Value::as_u64) {
            p.reconnect.first_delay_ms = ms;
        }
        if c.get("clientIdWithTime").and_then(Value::as_bool) == Some(true) {
            report.notes.push(format!(
                "{name}: \"client id with time\" is not supported; the client id is used as is"
            ));
        }
        if let Some(n) = c
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::len)
            .filter(|n| *n > 0)
        {
            report
                .notes
                .push(format!("{name}: {n} stored messages are not imported"));
        }
        report.profiles.push(p);
    }
    report
}

/// Adds imported profiles to `existing`; returns one line per name conflict and how it was
/// resolved.
pub fn merge_imported(
    existing: &mut Vec<Profile>,
    imported: Vec<Profile>,
    on_conflict: OnConflict,
) -> Vec<String> {
    let mut report = Vec::new();
    for mut p in imported {
        match existing.iter().position(|e| e.name == p.name) {
            None => {
                if existing.iter().any(|e| e.id == p.id) {
                    p.id = random_profile_id();
                }
                existing.push(p);
            }
            Some(i) => match on_conflict {
                OnConflict::Replace => {
                    report.push(format!("“{}” replaced", p.name));
                    p.id = existing[i].id.clone();
                    existing[i] = p;
                }
                OnConflict::Rename => {
                    let base = format!("{} (imported)", p.name);
                    let mut name = base.clone();
                    let mut n = 2;
                    while existing.iter().any(|e| e.name == name) {
                        name = format!("{base} {n}");
                        n += 1;
                    }
                    report.push(format!("“{}” imported as “{name}”", p.name));
                    p.name = name;
                    p.id = random_profile_id();
                    existing.push(p);
                }
            },
        }
    }
    report
}
