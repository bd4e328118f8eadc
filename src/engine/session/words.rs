//! rumqttc's errors and reason codes in Canopy's terms: a typed [`ConnectError`] (whether
//! retrying can help) with the words shown to the user.

use rumqttc::v5::mqttbytes::v5 as p5;

use super::super::errors::{ConnectError, ErrorKind, describe};
use crate::model::message::QoS;

pub(super) fn refused_words(code: &str) -> ConnectError {
    let (kind, text) = match code {
        "BadUserNamePassword" => (
            ErrorKind::BadCredentials,
            "the broker rejected the user name or password",
        ),
        "NotAuthorized" => (
            ErrorKind::NotAuthorized,
            "the broker says this client is not authorised",
        ),
        "BadClientId" | "ClientIdentifierNotValid" => {
            (ErrorKind::ClientIdRejected, "the broker rejected the client id")
        }
        "ServiceUnavailable" | "ServerUnavailable" | "ServerBusy" | "ConnectionRateExceeded" => {
            (ErrorKind::BrokerUnavailable, "the broker is unavailable or busy")
        }
        "RefusedProtocolVersion" | "UnsupportedProtocolVersion" => (
            ErrorKind::UnsupportedVersion,
            "the broker does not support this MQTT version — try the other one",
        ),
        "Banned" => (ErrorKind::NotAuthorized, "the broker has banned this client"),
        _ => (ErrorKind::Refused, ""),
    };
    if text.is_empty() {
        ConnectError::new(kind, format!("the broker refused the connection ({code})"))
    } else {
        ConnectError::new(kind, text)
    }
}

pub(super) fn map_err4(e: &rumqttc::ConnectionError) -> ConnectError {
    use rumqttc::{ConnectionError as C, StateError as S};
    match e {
        C::ConnectionRefused(code) => refused_words(&format!("{code:?}")),
        C::NetworkTimeout | C::FlushTimeout => timeout(),
        C::MqttState(S::AwaitPingResp) => no_ping(),
        C::MqttState(S::ConnectionAborted) => closed(),
        C::MqttState(S::Io(io)) if is_stall(io) => stalled(io),
        C::MqttState(S::Io(io)) | C::Io(io) => lost_or(describe(io)),
        // A reset while a packet was being read arrives as a deserialisation error; it is a
        // lost connection, not a broken packet.
        C::MqttState(S::Deserialization(rumqttc::mqttbytes::Error::Io(io))) => lost_or(describe(io)),
        C::MqttState(S::Deserialization(e)) => unreadable(e),
        C::MqttState(S::Unsolicited(pkid)) => ConnectError::new(
            ErrorKind::ConnectionLost,
            format!("the broker acknowledged packet {pkid}, which we never sent (protocol error)"),
        ),
        C::NotConnAck(packet) => not_connack(&format!("{packet:?}")),
        C::Proxy(p) => proxy_words(p),
        other => lost_or(describe(other)),
    }
}

/// The patched rumqttc's stalled-packet error (see vendor/rumqttc/CANOPY-PATCH.md).
fn is_stall(io: &std::io::Error) -> bool {
    io.get_ref().is_some_and(|e| e.is::<rumqttc::StalledPacket>())
}

fn stalled(io: &std::io::Error) -> ConnectError {
    ConnectError::new(
        ErrorKind::ProtocolViolation,
        format!("{io}; the connection was closed"),
    )
}

pub(super) fn map_err5(e: &rumqttc::v5::ConnectionError) -> ConnectError {
    use rumqttc::v5::{ConnectionError as C, StateError as S};
    match e {
        C::ConnectionRefused(code) => refused_words(&format!("{code:?}")),
        C::Timeout(_) => timeout(),
        C::MqttState(S::AwaitPingResp) => no_ping(),
        C::MqttState(S::ConnectionAborted) => closed(),
        C::MqttState(S::Io(io)) if is_stall(io) => stalled(io),
        C::MqttState(S::Io(io)) | C::Io(io) => lost_or(describe(io)),
        // rumqttc's v5 deserialisation error does not expose its cause as a source.
        C::MqttState(S::Deserialization(rumqttc::v5::mqttbytes::Error::Io(io))) => lost_or(describe(io)),
        C::MqttState(S::Deserialization(e)) => unreadable(e),
        C::MqttState(S::Unsolicited(pkid)) => ConnectError::new(
            ErrorKind::ConnectionLost,
            format!("the broker acknowledged packet {pkid}, which we never sent (protocol error)"),
        ),
        C::MqttState(S::ServerDisconnect {
            reason_code,
            reason_string,
        }) => ConnectError::new(
            ErrorKind::ConnectionLost,
            match reason_string {
                Some(why) => format!("the broker closed the connection ({reason_code:?}: {why})"),
                None => format!("the broker closed the connection ({reason_code:?})"),
            },
        ),
        C::NotConnAck(packet) => not_connack(&format!("{packet:?}")),
        C::Proxy(p) => proxy_words(p),
        other => lost_or(describe(other)),
    }
}

fn timeout() -> ConnectError {
    ConnectError::new(ErrorKind::Timeout, "the broker did not answer in time")
}

fn no_ping() -> ConnectError {
    ConnectError::new(
        ErrorKind::ConnectionLost,
        "the broker stopped answering (no ping response)",
    )
}

fn closed() -> ConnectError {
    ConnectError::new(ErrorKind::ConnectionLost, "the broker closed the connection")
}

fn unreadable(e: &dyn std::fmt::Debug) -> ConnectError {
    ConnectError::new(
        ErrorKind::ProtocolViolation,
        format!("the broker sent a packet that breaks the MQTT protocol ({e:?}); the connection was closed"),
    )
}

fn not_connack(packet: &str) -> ConnectError {
    let name = packet.split(['(', ' ', '{']).next().unwrap_or(packet);
    ConnectError::new(
        ErrorKind::Refused,
        format!("the broker answered CONNECT with {name} instead of CONNACK (protocol error)"),
    )
}

fn proxy_words(e: &rumqttc::ProxyError) -> ConnectError {
    use rumqttc::ProxyError as P;
    match e {
        P::Io(io) => {
            let inner = describe(io);
            ConnectError::new(inner.kind, format!("proxy: {}", inner.message))
        }
        P::Socks5(why) => ConnectError::new(ErrorKind::Refused, format!("proxy: {why}")),
        P::Proxy(http) => ConnectError::new(
            ErrorKind::Refused,
            format!("proxy: the HTTP proxy refused the tunnel ({http})"),
        ),
        other => ConnectError::new(ErrorKind::Refused, format!("proxy: {other}")),
    }
}

/// Errors we could not name precisely that happen on an open connection are a lost connection.
fn lost_or(e: ConnectError) -> ConnectError {
    if e.kind == ErrorKind::Other {
        ConnectError::new(
            ErrorKind::ConnectionLost,
            format!("connection lost: {}", e.message),
        )
    } else {
        e
    }
}

pub(super) fn pub_ack_reason5(reason: &str) -> Option<String> {
    match reason {
        "Success" | "NoMatchingSubscribers" => None,
        other => Some(format!("the broker refused the message ({other})")),
    }
}

pub(super) fn suback5(code: &p5::SubscribeReasonCode) -> Result<QoS, String> {
    match code {
        p5::SubscribeReasonCode::Success(q) => Ok(super::from_qos5(*q)),
        p5::SubscribeReasonCode::NotAuthorized => Err("not authorised".into()),
        p5::SubscribeReasonCode::TopicFilterInvalid => Err("invalid topic filter".into()),
        p5::SubscribeReasonCode::QuotaExceeded => Err("quota exceeded".into()),
        p5::SubscribeReasonCode::SharedSubscriptionsNotSupported => {
            Err("shared subscriptions not supported".into())
        }
        p5::SubscribeReasonCode::SubscriptionIdNotSupported => {
            Err("subscription identifiers not supported".into())
        }
        p5::SubscribeReasonCode::WildcardSubscriptionsNotSupported => {
            Err("wildcard subscriptions not supported".into())
        }
        other => Err(format!("refused ({other:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// A broker that resets the connection mid-packet lost the connection; it did not send a
    /// broken packet (seen with mosquitto under load: "breaks the MQTT protocol (Io(...reset))").
    #[test]
    fn a_reset_while_reading_is_a_lost_connection_in_both_versions() {
        let reset = || io::Error::from(io::ErrorKind::ConnectionReset);
        let e4 = map_err4(&rumqttc::ConnectionError::MqttState(
            rumqttc::StateError::Deserialization(rumqttc::mqttbytes::Error::Io(reset())),
        ));
        let e5 = map_err5(&rumqttc::v5::ConnectionError::MqttState(
            rumqttc::v5::StateError::Deserialization(rumqttc::v5::mqttbytes::Error::Io(reset())),
        ));
        for e in [e4, e5] {
            assert_ne!(e.kind, ErrorKind::ProtocolViolation, "{}", e.message);
            assert!(!e.message.contains("breaks the MQTT protocol"), "{}", e.message);
        }
    }

    #[test]
    fn a_malformed_packet_still_breaks_the_protocol() {
        let e = map_err4(&rumqttc::ConnectionError::MqttState(
            rumqttc::StateError::Deserialization(rumqttc::mqttbytes::Error::MalformedPacket),
        ));
        assert_eq!(e.kind, ErrorKind::ProtocolViolation);
    }
}
