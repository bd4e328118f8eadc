//! rumqttc's packet events as timeline entries ([`PacketEntry`]), for both protocol versions.
//! rumqttc reports outgoing packets by type and packet id only; the connection adds what it
//! knows (a PUBLISH's topic, a SUBSCRIBE's filters, a SUBACK's filters) in
//! `connection/trace.rs`.

use std::time::SystemTime;

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::v5 as p5;

use super::convert::{from_qos4, from_qos5};
use super::words::{pub_ack_reason5, refused_words, suback5};
use crate::engine::trace::TraceLevel;
use crate::model::message::QoS;
use crate::model::timeline::{Direction, PacketEntry, PacketKind};

fn entry(direction: Direction, kind: PacketKind) -> PacketEntry {
    PacketEntry::new(SystemTime::now(), direction, kind)
}

/// An outgoing packet (the same type for both versions).
fn outgoing(o: &Outgoing) -> Option<PacketEntry> {
    use PacketKind as K;
    let out = |kind, pkid| Some(entry(Direction::Out, kind).with_pkid(pkid));
    match *o {
        Outgoing::Publish(pkid) => out(K::Publish, pkid),
        Outgoing::Subscribe(pkid) => out(K::Subscribe, pkid),
        Outgoing::Unsubscribe(pkid) => out(K::Unsubscribe, pkid),
        Outgoing::PubAck(pkid) => out(K::PubAck, pkid),
        Outgoing::PubRec(pkid) => out(K::PubRec, pkid),
        Outgoing::PubRel(pkid) => out(K::PubRel, pkid),
        Outgoing::PubComp(pkid) => out(K::PubComp, pkid),
        Outgoing::PingReq => out(K::PingReq, 0),
        Outgoing::PingResp => out(K::PingResp, 0),
        Outgoing::Disconnect => out(K::Disconnect, 0),
        // Not a packet: rumqttc waiting for a free packet id.
        Outgoing::AwaitAck(_) => None,
    }
}

fn publish_entry(pkid: u16, qos: QoS, topic: String, size: usize, dup: bool, retain: bool) -> PacketEntry {
    let mut e = entry(Direction::In, PacketKind::Publish).with_pkid(pkid);
    e.topic = Some(topic);
    e.qos = Some(qos);
    e.size = Some(u32::try_from(size).unwrap_or(u32::MAX));
    e.dup = dup;
    e.retain = retain;
    e
}

fn granted_words(results: &[Result<QoS, String>]) -> String {
    results
        .iter()
        .map(|r| match r {
            Ok(q) => format!("granted QoS {}", q.level()),
            Err(why) => format!("refused: {why}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An MQTT 3.1.1 / 3.1 event as an entry, when `level` wants it.
pub(super) fn entry4(event: &rumqttc::Event, level: TraceLevel) -> Option<PacketEntry> {
    use PacketKind as K;
    use rumqttc::{Event, Packet};
    let inc = |kind, pkid| entry(Direction::In, kind).with_pkid(pkid);
    let e = match event {
        Event::Outgoing(o) => outgoing(o)?,
        Event::Incoming(packet) => match packet {
            Packet::ConnAck(ack) => entry(Direction::In, K::ConnAck)
                .with_details(format!("accepted, session present {}", ack.session_present)),
            Packet::Publish(p) => publish_entry(
                p.pkid,
                from_qos4(p.qos),
                p.topic.clone(),
                p.payload.len(),
                p.dup,
                p.retain,
            ),
            Packet::PubAck(a) => inc(K::PubAck, a.pkid),
            Packet::PubRec(a) => inc(K::PubRec, a.pkid),
            Packet::PubRel(a) => inc(K::PubRel, a.pkid),
            Packet::PubComp(a) => inc(K::PubComp, a.pkid),
            Packet::SubAck(a) => inc(K::SubAck, a.pkid).with_details(granted_words(
                &a.return_codes
                    .iter()
                    .map(|c| match c {
                        rumqttc::SubscribeReasonCode::Success(q) => Ok(from_qos4(*q)),
                        rumqttc::SubscribeReasonCode::Failure => Err("refused by the broker".into()),
                    })
                    .collect::<Vec<_>>(),
            )),
            Packet::UnsubAck(a) => inc(K::UnsubAck, a.pkid),
            Packet::PingReq => inc(K::PingReq, 0),
            Packet::PingResp => inc(K::PingResp, 0),
            Packet::Disconnect => inc(K::Disconnect, 0),
            // A client never receives these.
            Packet::Connect(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => return None,
        },
    };
    level.wants(e.kind).then_some(e)
}

/// An MQTT 5 reason that is not plain success, in words ("" for success).
fn reason5(reason: &str, reason_string: Option<&String>) -> String {
    let mut words = match pub_ack_reason5(reason) {
        Some(refused) => refused,
        None if reason == "Success" => String::new(),
        None => reason.to_owned(),
    };
    if let Some(s) = reason_string {
        if !words.is_empty() {
            words.push_str(": ");
        }
        words.push_str(s);
    }
    words
}

/// An MQTT 5 event as an entry, when `level` wants it.
pub(super) fn entry5(event: &rumqttc::v5::Event, level: TraceLevel) -> Option<PacketEntry> {
    use PacketKind as K;
    use p5::Packet;
    use rumqttc::v5::Event;
    let inc = |kind, pkid| entry(Direction::In, kind).with_pkid(pkid);
    let e = match event {
        Event::Outgoing(o) => outgoing(o)?,
        Event::Incoming(packet) => match packet {
            Packet::ConnAck(ack) => entry(Direction::In, K::ConnAck).with_details(connack5(ack)),
            Packet::Publish(p) => {
                // An aliased topic arrives empty; the alias is the only name it has here.
                let alias = p.properties.as_ref().and_then(|props| props.topic_alias);
                let topic = match (String::from_utf8_lossy(&p.topic), alias) {
                    (t, Some(a)) if t.is_empty() => format!("(topic alias {a})"),
                    (t, _) => t.into_owned(),
                };
                publish_entry(p.pkid, from_qos5(p.qos), topic, p.payload.len(), p.dup, p.retain)
            }
            Packet::PubAck(a) => inc(K::PubAck, a.pkid).with_details(reason5(
                &format!("{:?}", a.reason),
                a.properties.as_ref().and_then(|p| p.reason_string.as_ref()),
            )),
            Packet::PubRec(a) => inc(K::PubRec, a.pkid).with_details(reason5(
                &format!("{:?}", a.reason),
                a.properties.as_ref().and_then(|p| p.reason_string.as_ref()),
            )),
            Packet::PubRel(a) => inc(K::PubRel, a.pkid).with_details(reason5(
                &format!("{:?}", a.reason),
                a.properties.as_ref().and_then(|p| p.reason_string.as_ref()),
            )),
            Packet::PubComp(a) => inc(K::PubComp, a.pkid).with_details(reason5(
                &format!("{:?}", a.reason),
                a.properties.as_ref().and_then(|p| p.reason_string.as_ref()),
            )),
            Packet::SubAck(a) => inc(K::SubAck, a.pkid).with_details(granted_words(
                &a.return_codes.iter().map(suback5).collect::<Vec<_>>(),
            )),
            Packet::UnsubAck(a) => inc(K::UnsubAck, a.pkid).with_details(
                a.reasons
                    .iter()
                    .map(|r| format!("{r:?}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Packet::PingReq(_) => inc(K::PingReq, 0),
            Packet::PingResp(_) => inc(K::PingResp, 0),
            Packet::Disconnect(d) => {
                let why = d.properties.as_ref().and_then(|p| p.reason_string.as_deref());
                inc(K::Disconnect, 0).with_details(match why {
                    Some(why) => format!("reason {:?}: {why}", d.reason_code),
                    None => format!("reason {:?}", d.reason_code),
                })
            }
            Packet::Auth(a) => inc(K::Auth, 0).with_details(format!("reason {:?}", a.code)),
            Packet::Connect(..) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => return None,
        },
    };
    level.wants(e.kind).then_some(e)
}

/// An MQTT 5 CONNACK in words: the reason and every property the broker sent.
fn connack5(ack: &p5::ConnAck) -> String {
    let code = format!("{:?}", ack.code);
    let mut words = if code == "Success" {
        format!("accepted, session present {}", ack.session_present)
    } else {
        format!("refused: {}", refused_words(&code).message)
    };
    let caps = super::connack::capabilities(ack.properties.as_ref());
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&*caps) {
        for (name, value) in fields.iter().filter(|(_, v)| !v.is_null()) {
            words.push_str(&format!(", {} {value}", name.replace('_', " ")));
        }
    }
    if let Some(props) = &ack.properties {
        if let Some(why) = &props.reason_string {
            words.push_str(&format!(", reason string \"{why}\""));
        }
        for (k, v) in &props.user_properties {
            words.push_str(&format!(", user property {k}={v}"));
        }
        if let Some(info) = &props.response_information {
            words.push_str(&format!(", response information \"{info}\""));
        }
        if let Some(reference) = &props.server_reference {
            words.push_str(&format!(", server reference \"{reference}\""));
        }
        if let Some(method) = &props.authentication_method {
            words.push_str(&format!(", authentication method \"{method}\""));
        }
    }
    words
}

/// A CONNACK refusal, which rumqttc reports as an error rather than a packet.
pub(super) fn refused_connack(code: &str) -> PacketEntry {
    entry(Direction::In, PacketKind::ConnAck)
        .with_details(format!("refused ({code}): {}", refused_words(code).message))
}
