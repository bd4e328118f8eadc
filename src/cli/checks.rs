//! Checks made before connecting, so that a bad setting is a usage error in plain words
//! (exit 2) instead of a lost connection, a reconnect loop or a panic.

use std::time::Duration;

use crate::model::message::Properties;
use crate::profiles::Profile;
use crate::profiles::profile::{MqttVersion, RetainHandling};

/// Longest duration argument accepted: 100 years. Why a cap at all: `Duration::from_secs_f64`
/// panics past `u64::MAX` seconds, and `Instant + Duration` overflows long before that.
pub const MAX_SECS: f64 = 100.0 * 365.0 * 86_400.0;

/// Longest MQTT UTF-8 string or binary field (a 2-byte length prefix).
const MAX_FIELD: usize = 65_535;

/// The largest MQTT packet: the remaining length is at most 268,435,455 bytes.
pub const MAX_PACKET: usize = 268_435_455;

/// A clap value parser for seconds: a finite number from 0 to [`MAX_SECS`] (fractions allowed).
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "`{s}` is not a usable number of seconds: give a finite number from 0 to \
             {MAX_SECS} (100 years)"
        ));
    }
    if secs > MAX_SECS {
        return Err(format!(
            "`{s}` seconds is too long: at most {MAX_SECS} (100 years)"
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{s}` is not a usable number of seconds"))
}

/// Why a string field of the connection is not usable: longer than 65,535 bytes or holding
/// NUL (forbidden in MQTT strings; the argument line cannot hold one, a profile can).
fn check_field(what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_FIELD {
        return Err(format!(
            "the {what} is {} bytes long; MQTT allows at most 65535",
            text.len()
        ));
    }
    if text.contains('\0') {
        return Err(format!("the {what} contains a NUL character"));
    }
    Ok(())
}

/// Checks what the engine would otherwise only learn from the broker closing the connection.
pub fn check_profile(p: &Profile) -> Result<(), String> {
    check_field("client id (-i)", &p.client_id)?;
    if p.client_id.chars().any(char::is_control) {
        return Err("the client id (-i) contains a control character".into());
    }
    if let Some(user) = &p.username {
        check_field("user name (-u)", user)?;
    }
    if let Some(password) = &p.password
        && password.len() > MAX_FIELD
    {
        return Err(format!(
            "the password is {} bytes long; MQTT allows at most 65535",
            password.len()
        ));
    }
    if let Some(will) = p.last_will.as_ref().filter(|w| !w.topic.is_empty()) {
        crate::model::topic::validate_topic_name(&will.topic)
            .map_err(|e| format!("invalid last will topic (--will-topic): {e}"))?;
        if will.payload.len() > MAX_FIELD {
            return Err(format!(
                "the last will payload is {} bytes long; MQTT allows at most 65535",
                will.payload.len()
            ));
        }
    }
    for sub in &p.subscriptions {
        crate::model::topic::validate_filter(&sub.filter)
            .map_err(|e| format!("invalid topic filter `{}`: {e}", sub.filter.escape_debug()))?;
    }
    if p.transport.is_tls()
        && let Some(problem) = crate::engine::tls::check_files(&p.tls).into_iter().next()
    {
        return Err(problem.to_string());
    }
    Ok(())
}

/// Warnings printed before connecting: certificate checks turned off, and MQTT 5 options
/// that MQTT 3.1.1 cannot carry (silently dropped before).
pub fn warnings(p: &Profile) -> Vec<String> {
    let mut out = Vec::new();
    if p.tls.skip_verification {
        out.push(
            "warning: --insecure: the broker's certificate is not checked; anyone on the way \
             can pose as the broker and read the password and the messages"
                .to_owned(),
        );
    }
    out.extend(super::trace_out::keylog_warning(p));
    let mut ignored = Vec::new();
    if p.session_expiry_secs > 0 {
        ignored.push("--session-expiry");
    }
    if p.subscriptions.iter().any(|s| s.no_local) {
        ignored.push("no-local");
    }
    if p.subscriptions
        .iter()
        .any(|s| s.retain_handling != RetainHandling::SendOnSubscribe)
    {
        ignored.push("retain handling");
    }
    if let Some(w) = v5_only_warning(p.version, &ignored) {
        out.push(w);
    }
    out
}

/// The warning for MQTT 5-only options given on a connection asked to speak an older
/// version. Only an explicit older version is warned about: a version negotiated at connect
/// time is not known here.
pub fn v5_only_warning(version: MqttVersion, options: &[&str]) -> Option<String> {
    (matches!(version, MqttVersion::V311 | MqttVersion::V31) && !options.is_empty()).then(|| {
        format!(
            "warning: {} cannot carry {}: ignored (use -V 5)",
            version.label(),
            options.join(", ")
        )
    })
}

/// The MQTT 5-only publish options that are set.
pub fn v5_publish_options(props: &Properties) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !props.user_properties.is_empty() {
        out.push("--user-property");
    }
    if props.content_type.is_some() {
        out.push("--content-type");
    }
    if props.response_topic.is_some() {
        out.push("--response-topic");
    }
    if props.correlation_data.is_some() {
        out.push("--correlation-data");
    }
    if props.message_expiry_interval.is_some() {
        out.push("--message-expiry");
    }
    if props.payload_format_indicator.is_some() {
        out.push("--utf8-payload");
    }
    out
}

/// The largest payload that fits one PUBLISH to `topic` with `props` (MQTT 5) or without
/// (3.1.1): the packet maximum less the topic, packet id and properties (counted generously).
pub fn max_payload(topic: &str, props: &Properties, v5: bool) -> usize {
    let mut header = 2 + topic.len() + 2;
    if v5 {
        let text = |s: &Option<String>| s.as_ref().map_or(0, |s| 3 + s.len());
        header += 4
            + props.payload_format_indicator.map_or(0, |_| 2)
            + props.message_expiry_interval.map_or(0, |_| 5)
            + text(&props.response_topic)
            + text(&props.content_type)
            + props.correlation_data.as_ref().map_or(0, |d| 3 + d.len())
            + props
                .user_properties
                .iter()
                .map(|(k, v)| 5 + k.len() + v.len())
                .sum::<usize>();
    }
    MAX_PACKET.saturating_sub(header)
}

/// The error for a payload over [`max_payload`].
pub fn payload_too_large(what: &str, len: usize, max: usize) -> String {
    format!(
        "{what} is {len} bytes; the largest MQTT message to this topic holds {max} bytes \
         (the protocol's limit is 268435455 bytes for the whole packet)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_finite_non_negative_and_bounded() {
        assert_eq!(parse_secs("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_secs("0"), Ok(Duration::ZERO));
        for bad in ["inf", "-inf", "NaN", "1e300", "-1", "-0.5", "", "x", "1e10"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payload_room_shrinks_with_topic_and_properties() {
        let plain = max_payload("a", &Properties::default(), false);
        assert_eq!(plain, MAX_PACKET - 5);
        let props = Properties {
            content_type: Some("text/plain".into()),
            ..Properties::default()
        };
        assert!(max_payload("a", &props, true) < plain);
    }
}
