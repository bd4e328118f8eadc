//! What the broker supports: protocol versions, QoS, retained messages, wildcards, `$SYS`,
//! shared subscriptions and the MQTT 5 extras. Each is tried where trying is possible; what
//! only CONNACK can say is reported as announced.

use std::collections::HashSet;
use std::time::Instant;

use bytes::Bytes;

use super::driver::Missed;
use super::report::{Check, Mqtt5, Report, Versions};
use super::{Ctx, MAIN_ID, ProbeStep, SESSION_ID, SYS_ID, VERSION_IDS, skipped};
use crate::engine::{BrokerCapabilities, ConnectError, ErrorKind, PublishOutcome};
use crate::model::message::{Message, OutgoingMessage, Properties, QoS};
use crate::profiles::profile::MqttVersion;

/// Distinct `$SYS` topics counted at most (a broker could publish without end).
const SYS_TOPICS_MAX: usize = 100_000;

/// Where mosquitto (and brokers copying its layout) publishes its name and version.
const SOFTWARE_TOPIC: &str = "$SYS/broker/version";
/// Characters of that name kept at most: it is the broker's text, shown in a header.
const SOFTWARE_MAX_CHARS: usize = 80;

/// The broker's "name version" text: one line, printable, bounded; `None` if it is not text.
fn software_name(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?;
    let line: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(SOFTWARE_MAX_CHARS)
        .collect();
    let line = line.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// Failures that no other protocol version can change: the probe stops with them.
fn unreachable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::Dns
            | ErrorKind::TlsUnknownCa
            | ErrorKind::TlsNameMismatch
            | ErrorKind::TlsExpired
            | ErrorKind::TlsCertificateRequired
            | ErrorKind::TlsClientCertificateRejected
            | ErrorKind::Tls
            | ErrorKind::BadCredentials
            | ErrorKind::NotAuthorized
            | ErrorKind::Settings
            | ErrorKind::WebSocket
    )
}

/// Connects once with each version pinned, newest first, and picks the newest accepted for
/// the rest of the probe. Fails when the broker cannot be reached or accepts no version.
pub(super) fn versions(
    ctx: &mut Ctx,
    progress: &mut impl FnMut(ProbeStep),
) -> Result<Versions, ConnectError> {
    let order = [MqttVersion::V5, MqttVersion::V311, MqttVersion::V31];
    let mut results = Vec::new();
    for (n, version) in order.into_iter().enumerate() {
        if ctx.options.cancel.is_cancelled() {
            return Err(ConnectError::new(ErrorKind::Other, "cancelled"));
        }
        progress(ProbeStep::Version(version));
        let id = VERSION_IDS[n];
        let profile = ctx.profile(version, "v");
        let result = ctx.driver.connect(id, profile, ctx.until(ctx.options.wait * 2));
        match &result {
            Ok(_) => ctx.driver.disconnect(id),
            Err(e) if unreachable(e.kind) => return Err(e.clone()),
            Err(_) => {}
        }
        results.push(result);
    }
    let Some(best) = results.iter().position(Result::is_ok) else {
        return Err(results
            .into_iter()
            .find_map(Result::err)
            .unwrap_or_else(|| ConnectError::new(ErrorKind::Other, "no version was tried")));
    };
    ctx.version = order[best];
    // With one connection publishing and receiving QoS 1 at once, Canopy's MQTT 5 client is
    // the bottleneck (about 1,800 msg/s against mosquitto here, where 3.1.1 does ~6,000;
    // receiving alone or publishing alone, 5.0 and 3.1.1 are alike: tests/flow_control.rs).
    // Speed is measured on 3.1.1 when the broker speaks it, so the figures are the broker's.
    ctx.perf_version = if results[1].is_ok() {
        MqttVersion::V311
    } else {
        ctx.version
    };
    let check = |result: &Result<_, ConnectError>| match result {
        Ok(_) => Check::yes("accepted"),
        Err(e) if e.kind == ErrorKind::UnsupportedVersion => Check::no(format!("refused: {e}")),
        // Another version connects, so a close, silence or garbage answering this one is the
        // broker's way of refusing it (RabbitMQ closes, amqtt stays silent on MQTT 5).
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::ConnectionLost
                    | ErrorKind::Timeout
                    | ErrorKind::ProtocolViolation
                    | ErrorKind::Refused
            ) =>
        {
            Check::no(format!("{e} (read as a refusal: other versions connect)"))
        }
        Err(e) => Check::unknown(e.to_string()),
    };
    Ok(Versions {
        v5: check(&results[0]),
        v3_1_1: check(&results[1]),
        v3_1: check(&results[2]),
    })
}

/// Subscribes `filter` on the main connection, publishes `message`, and waits for a message
/// on its topic. The error is the finished check (refused, not delivered, unknown).
fn round_trip(
    ctx: &mut Ctx,
    filter: &str,
    sid: Option<usize>,
    message: OutgoingMessage,
) -> Result<Message, Check> {
    let topic = message.topic.clone();
    match ctx.driver.subscribe(
        MAIN_ID,
        filter,
        QoS::AtLeastOnce,
        sid,
        ctx.until(ctx.options.wait),
    ) {
        Ok(Ok(_)) => {}
        Ok(Err(refused)) => {
            return Err(Check::no(format!(
                "a subscription to `{filter}` was refused: {refused}"
            )));
        }
        Err(missed) => return Err(Check::unknown(format!("subscribing to `{filter}`: {missed}"))),
    }
    let token = ctx.driver.publish(MAIN_ID, message);
    match ctx.driver.outcome(MAIN_ID, token, ctx.until(ctx.options.wait)) {
        Ok(PublishOutcome::Failed(why)) => return Err(Check::no(format!("the publish was refused: {why}"))),
        Ok(_) => {}
        Err(missed) => return Err(Check::unknown(format!("publishing: {missed}"))),
    }
    let wait = ctx.options.wait;
    ctx.driver
        .message(MAIN_ID, ctx.until(wait), |m| m.topic == topic)
        .map_err(|missed| match missed {
            Missed::TimedOut => Check::no(format!(
                "`{filter}` received nothing within {:.1} s",
                wait.as_secs_f64()
            )),
            lost @ Missed::Lost(_) => Check::unknown(lost.to_string()),
        })
}

fn message(topic: String, payload: &'static str) -> OutgoingMessage {
    OutgoingMessage {
        topic,
        payload: Bytes::from_static(payload.as_bytes()),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::default(),
    }
}

/// What the broker announced, or MQTT 5's defaults (nothing on 3.1.1).
fn announced(ctx: &Ctx) -> BrokerCapabilities {
    ctx.capabilities.as_deref().cloned().unwrap_or_default()
}

/// Max QoS, retained messages, `+` and `#`, shared subscriptions.
pub(super) fn basics(ctx: &mut Ctx, report: &mut Report) {
    let caps = announced(ctx);
    report.max_qos = max_qos(ctx, &caps);
    report.retained = if caps.retain_available == Some(false) {
        Check::no("the broker announces that it keeps no retained messages (CONNACK)")
    } else {
        retained(ctx)
    };
    let wildcards_off = caps.wildcard_subscriptions == Some(false);
    for (check, filter, topic) in [
        (&mut report.wildcard_plus, "wild/+/plus", "wild/a/plus"),
        (&mut report.wildcard_hash, "wild/hash/#", "wild/hash/a/b"),
    ] {
        *check = if ctx.out_of_time() {
            skipped()
        } else if wildcards_off {
            Check::no("the broker announces no wildcard subscriptions (CONNACK)")
        } else {
            let (filter, topic) = (ctx.topic(filter), ctx.topic(topic));
            round_trip(ctx, &filter, None, message(topic, "wildcard"))
                .map_or_else(|c| c, |_| Check::yes(format!("`{filter}` delivered")))
        };
    }
    report.shared_subscriptions = if ctx.out_of_time() {
        skipped()
    } else if caps.shared_subscriptions == Some(false) {
        Check::no("the broker announces no shared subscriptions (CONNACK)")
    } else {
        let topic = ctx.topic("shared");
        let filter = format!("$share/canopy-probe/{topic}");
        round_trip(ctx, &filter, None, message(topic, "shared"))
            .map_or_else(|c| c, |_| Check::yes(format!("`{filter}` delivered")))
    };
}

fn max_qos(ctx: &mut Ctx, caps: &BrokerCapabilities) -> Check {
    let filter = ctx.topic("qos");
    let check = match ctx.driver.subscribe(
        MAIN_ID,
        &filter,
        QoS::ExactlyOnce,
        None,
        ctx.until(ctx.options.wait),
    ) {
        Ok(Ok(granted)) => Check::yes(format!("a QoS 2 subscription was granted QoS {granted}"))
            .with_value(u64::from(granted.level())),
        Ok(Err(refused)) => Check::no(format!("a QoS 2 subscription was refused: {refused}")),
        Err(missed) => Check::unknown(format!("subscribing: {missed}")),
    };
    match caps.maximum_qos {
        Some(q) => Check {
            detail: format!("{}; CONNACK allows publishes up to QoS {q}", check.detail),
            ..check
        },
        None => check,
    }
}

fn retained(ctx: &mut Ctx) -> Check {
    let topic = ctx.topic("retained");
    // Listed before publishing: cleanup deletes it even if this step goes wrong.
    ctx.retained_topics.push(topic.clone());
    let token = ctx.driver.publish(
        MAIN_ID,
        OutgoingMessage {
            retain: true,
            ..message(topic.clone(), "canopy probe: retained test message")
        },
    );
    match ctx.driver.outcome(MAIN_ID, token, ctx.until(ctx.options.wait)) {
        Ok(PublishOutcome::Failed(why)) => {
            return Check::no(format!("a retained publish was refused: {why}"));
        }
        Ok(_) => {}
        Err(missed) => return Check::unknown(format!("publishing: {missed}")),
    }
    match ctx.driver.subscribe(
        MAIN_ID,
        &topic,
        QoS::AtLeastOnce,
        None,
        ctx.until(ctx.options.wait),
    ) {
        Ok(Ok(_)) => {}
        Ok(Err(refused)) => return Check::unknown(format!("subscribing was refused: {refused}")),
        Err(missed) => return Check::unknown(format!("subscribing: {missed}")),
    }
    let wait = ctx.options.wait;
    match ctx.driver.message(MAIN_ID, ctx.until(wait), |m| m.topic == topic) {
        Ok(m) if m.retain => Check::yes("a later subscription received it, retain flag set"),
        Ok(_) => Check::yes("a later subscription received it, but without the retain flag"),
        Err(Missed::TimedOut) => Check::no(format!(
            "a later subscription received nothing within {:.1} s",
            wait.as_secs_f64()
        )),
        Err(lost) => Check::unknown(lost.to_string()),
    }
}

/// Subscribes to `$SYS/#` on a connection of its own (rumqttd closes the connection of a
/// client that does) and counts the topics that arrive within the wait. Also returns the
/// broker's name and version when it publishes them (`$SYS/broker/version`, as mosquitto does).
pub(super) fn sys(ctx: &mut Ctx) -> (Check, Option<String>) {
    if ctx.out_of_time() {
        return (skipped(), None);
    }
    let profile = ctx.profile(ctx.version, "sys");
    if let Err(e) = ctx.driver.connect(SYS_ID, profile, ctx.until(ctx.options.wait)) {
        return (Check::unknown(format!("a second connection failed: {e}")), None);
    }
    let wait = ctx.options.wait;
    let mut software = None;
    let check = match ctx
        .driver
        .subscribe(SYS_ID, "$SYS/#", QoS::AtMostOnce, None, ctx.until(wait))
    {
        Ok(Err(refused)) => Check::no(format!("a `$SYS/#` subscription was refused: {refused}")),
        Err(Missed::Lost(why)) => Check::no(format!(
            "the broker closed the connection on a `$SYS/#` subscription ({why})"
        )),
        Err(Missed::TimedOut) => Check::unknown("a `$SYS/#` subscription was not answered"),
        Ok(Ok(_)) => {
            let mut topics = HashSet::new();
            let until = ctx.until(wait);
            while Instant::now() < until && topics.len() < SYS_TOPICS_MAX {
                ctx.driver.pump(until);
                for m in ctx.driver.drain_messages(SYS_ID) {
                    if m.topic == SOFTWARE_TOPIC {
                        software = software_name(&m.payload);
                    }
                    if m.topic.starts_with("$SYS") && topics.len() < SYS_TOPICS_MAX {
                        topics.insert(m.topic);
                    }
                }
            }
            if topics.is_empty() {
                Check::no(format!(
                    "nothing under `$SYS/#` within {:.1} s",
                    wait.as_secs_f64()
                ))
            } else {
                Check::yes(format!(
                    "{} topics under `$SYS/#` within {:.1} s",
                    topics.len(),
                    wait.as_secs_f64()
                ))
                .with_value(topics.len() as u64)
            }
        }
    };
    ctx.driver.disconnect(SYS_ID);
    (check, software)
}

/// An announced flag: absent means available (MQTT 5's default).
fn flag(value: Option<bool>) -> Check {
    match value {
        Some(true) => Check::yes("announced available"),
        Some(false) => Check::no("announced unavailable"),
        None => Check::yes("not announced: available by MQTT 5's default"),
    }
}

/// MQTT 5 extras: tried where possible (user properties, subscription identifiers, session
/// expiry), else read from CONNACK.
pub(super) fn mqtt5(ctx: &mut Ctx) -> Mqtt5 {
    let caps = announced(ctx);
    let user_properties = if ctx.out_of_time() {
        skipped()
    } else {
        let topic = ctx.topic("v5/props");
        let pair = ("canopy-probe".to_owned(), "round-trip".to_owned());
        let mut m = message(topic.clone(), "user properties");
        m.properties.user_properties = vec![pair.clone()];
        match round_trip(ctx, &topic, None, m) {
            Ok(m) if m.properties.user_properties.contains(&pair) => {
                Check::yes("a user property came back with the message")
            }
            Ok(_) => Check::no("the message came back without its user property"),
            Err(check) => check,
        }
    };
    let subscription_identifiers = if ctx.out_of_time() {
        skipped()
    } else if caps.subscription_identifiers == Some(false) {
        Check::no("announced unavailable (CONNACK)")
    } else {
        const SID: usize = 42;
        let topic = ctx.topic("v5/subid");
        match round_trip(ctx, &topic, Some(SID), message(topic.clone(), "subscription id")) {
            Ok(m) if m.properties.subscription_identifiers.contains(&SID) => {
                Check::yes(format!("identifier {SID} came back with the message"))
            }
            Ok(_) => Check::no("the message came back without its subscription identifier"),
            Err(check) => check,
        }
    };
    let session_expiry = if ctx.out_of_time() {
        skipped()
    } else {
        session_expiry(ctx)
    };
    let topic_alias_maximum = match caps.topic_alias_maximum {
        Some(n) if n > 0 => Check::yes(format!("up to {n} (announced; Canopy sends none, so not tried)"))
            .with_value(u64::from(n)),
        _ => Check::no("0: the broker accepts no topic aliases from clients").with_value(0),
    };
    let maximum_packet_size = match caps.maximum_packet_size {
        Some(n) => Check::yes(format!(
            "{} (announced)",
            crate::model::units::bytes(u64::from(n))
        ))
        .with_value(u64::from(n)),
        None => Check::yes("no limit announced (the protocol's 256 MB)"),
    };
    let receive_maximum = match caps.receive_maximum {
        Some(n) => Check::yes(format!("{n} (announced)")).with_value(u64::from(n)),
        None => Check::yes("not announced: 65535 by default").with_value(65_535),
    };
    let server_keep_alive = match caps.server_keep_alive_secs {
        Some(n) => Check::yes(format!("{n} s, imposed by the broker")).with_value(u64::from(n)),
        None => Check::yes("not imposed: the client's keep-alive applies"),
    };
    let maximum_qos = match caps.maximum_qos {
        Some(q) => Check::yes(format!("QoS {q} at most in a PUBLISH (announced)")).with_value(u64::from(q)),
        None => Check::yes("not announced: QoS 2").with_value(2),
    };
    Mqtt5 {
        session_expiry,
        topic_alias_maximum,
        subscription_identifiers,
        wildcard_subscriptions: flag(caps.wildcard_subscriptions),
        user_properties,
        maximum_packet_size,
        receive_maximum,
        server_keep_alive,
        retain_available: flag(caps.retain_available),
        maximum_qos,
    }
}

/// Keeps a session for a minute, reconnects with the same client id and checks it was
/// resumed; cleanup ends it afterwards.
fn session_expiry(ctx: &mut Ctx) -> Check {
    const EXPIRY_SECS: u32 = 60;
    let mut profile = ctx.profile(MqttVersion::V5, "sess");
    profile.clean_session = false;
    profile.session_expiry_secs = EXPIRY_SECS;
    ctx.session_client = Some(profile.client_id.clone());
    let wait = ctx.options.wait;
    let imposed_secs = match ctx.driver.connect(SESSION_ID, profile.clone(), ctx.until(wait)) {
        Ok(c) => c.capabilities.and_then(|c| c.session_expiry_secs),
        Err(e) => return Check::unknown(format!("connecting with a session expiry: {e}")),
    };
    let filter = ctx.topic("v5/session");
    let subscribed = ctx
        .driver
        .subscribe(SESSION_ID, &filter, QoS::AtLeastOnce, None, ctx.until(wait));
    ctx.driver.disconnect(SESSION_ID);
    if let Err(missed) = subscribed {
        return Check::unknown(format!("subscribing in the kept session: {missed}"));
    }
    // The broker shortens (or zeroes) the expiry by saying so in CONNACK.
    let imposed = imposed_secs
        .map(|s| format!("; the broker shortened the expiry to {s} s"))
        .unwrap_or_default();
    let resumed = ctx.driver.connect(SESSION_ID, profile, ctx.until(wait));
    ctx.driver.disconnect(SESSION_ID);
    match resumed {
        Ok(c) if c.session_present => Check::yes(format!(
            "a session kept for {EXPIRY_SECS} s was resumed on reconnect{imposed}"
        ))
        .with_value(u64::from(imposed_secs.unwrap_or(EXPIRY_SECS))),
        Ok(_) => Check::no(format!(
            "a session kept for {EXPIRY_SECS} s was gone on reconnect{imposed}"
        )),
        Err(e) => Check::unknown(format!("reconnecting: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::software_name;

    #[test]
    fn broker_software_is_one_short_printable_line() {
        assert_eq!(
            software_name(b"mosquitto version 2.0.11").as_deref(),
            Some("mosquitto version 2.0.11")
        );
        assert_eq!(software_name(b"a\nb\x1b[31m").as_deref(), Some("ab[31m"));
        assert_eq!(software_name(&[b'x'; 500]).map(|s| s.len()), Some(80));
        assert_eq!(software_name(b"  "), None);
        assert_eq!(software_name(&[0xff, 0xfe]), None);
    }
}
