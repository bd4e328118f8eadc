//! Packet tracing: which packets a connection reports to the protocol timeline, and the
//! CONNECT it sends (rumqttc writes CONNECT itself and reports nothing, so the engine describes
//! it from the options it gave rumqttc). The packets themselves are put into
//! [`PacketEntry`]s in `session/trace.rs`, where rumqttc's types are known.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::SystemTime;

use super::ConnectionState;
use super::options::{ConnectOptions, MqttVersion};
use crate::model::timeline::{Direction, PacketEntry, PacketKind};

/// How much of the traffic a connection reports as [`super::Event::Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum TraceLevel {
    /// Nothing (the CLI without `--trace-packets`: no cost at all).
    #[default]
    Off,
    /// The packets that come a few per connection: CONNECT, CONNACK, SUBSCRIBE, SUBACK,
    /// UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH. The window always keeps
    /// these, so a timeline opened late still shows how the connection started.
    Control,
    /// Every packet, PUBLISH and its acknowledgements included (one entry per message).
    Packets,
}

impl TraceLevel {
    /// Whether packets of `kind` are reported at this level.
    pub fn wants(self, kind: PacketKind) -> bool {
        match self {
            Self::Off => false,
            Self::Control => !matches!(
                kind,
                PacketKind::Publish
                    | PacketKind::PubAck
                    | PacketKind::PubRec
                    | PacketKind::PubRel
                    | PacketKind::PubComp
            ),
            Self::Packets => true,
        }
    }
}

/// The level of one connection, shared with the poll under way: a poll waits for the next
/// packet for as long as the connection is idle, so a level captured when it started would
/// miss the first packet after the window asks for more.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedLevel(Arc<AtomicU8>);

impl SharedLevel {
    pub(crate) fn new(level: TraceLevel) -> Self {
        Self(Arc::new(AtomicU8::new(level as u8)))
    }

    pub(crate) fn get(&self) -> TraceLevel {
        match self.0.load(Ordering::Relaxed) {
            0 => TraceLevel::Off,
            1 => TraceLevel::Control,
            _ => TraceLevel::Packets,
        }
    }

    pub(crate) fn set(&self, level: TraceLevel) {
        self.0.store(level as u8, Ordering::Relaxed);
    }
}

/// The CONNECT about to be sent for `options` speaking `version`: every field it carries in
/// words, the password only as "password set".
pub(crate) fn connect_entry(options: &ConnectOptions, version: MqttVersion) -> PacketEntry {
    let mut words = vec![
        format!("MQTT {}", version.short()),
        format!("client id \"{}\"", options.client_id),
        format!("keep-alive {} s", options.keep_alive_secs),
        if version == MqttVersion::V5 {
            format!("clean start {}", options.clean_session)
        } else {
            format!("clean session {}", options.clean_session)
        },
    ];
    if version == MqttVersion::V5 {
        match options.session_expiry {
            Some(secs) => words.push(format!("session expiry {secs} s")),
            None => words.push("no session expiry".into()),
        }
        words.push("maximum packet size 268435455".into());
    }
    if let Some(user) = options.username.as_ref().filter(|u| !u.is_empty()) {
        words.push(format!("user name \"{user}\""));
        if options.password.as_ref().is_some_and(|p| !p.is_empty()) {
            // Never the password itself: timelines are exported and shared.
            words.push("password set".into());
        }
    }
    if let Some(will) = options.last_will.as_ref().filter(|w| !w.topic.is_empty()) {
        words.push(format!(
            "will on \"{}\" qos {}{}",
            will.topic,
            will.qos.level(),
            if will.retain { " retained" } else { "" }
        ));
    }
    words.push(format!("over {}", options.transport.label()));
    PacketEntry::new(SystemTime::now(), Direction::Out, PacketKind::Connect).with_details(words.join(", "))
}

/// A change of the connection's state as a timeline row says it.
pub fn state_words(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Connecting => "connecting".into(),
        ConnectionState::Connected {
            session_present,
            version,
            negotiation,
            ..
        } => {
            let mut words = format!("connected with MQTT {}", version.short());
            if *session_present {
                words.push_str(", session resumed");
            }
            if let Some(why) = negotiation {
                words.push_str(&format!(" ({why})"));
            }
            words
        }
        ConnectionState::Reconnecting {
            attempt,
            next_in,
            last_error,
            ..
        } => format!(
            "connection lost ({last_error}); reconnect attempt {attempt} in {:.1} s",
            next_in.as_secs_f64()
        ),
        ConnectionState::Disconnected => "disconnected".into(),
        ConnectionState::Failed { reason } => format!("gave up: {reason}"),
    }
}
