//! One adapter over rumqttc's MQTT 3.1.1 and MQTT 5 clients, so the connection loop is written
//! once. Everything version-specific lives here; rumqttc errors are put into words in
//! `session/words.rs`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rumqttc::v5::mqttbytes::v5 as p5;
use rumqttc::{TlsConfiguration, Transport};

use super::errors::{ConnectError, ErrorKind};
use super::tls;

mod connack;
mod convert;
mod trace;
mod words;
use super::options::{ConnectOptions, MqttVersion, RetainHandling, Subscription, TransportKind};
use super::trace::{SharedLevel, TraceLevel};
use crate::model::message::{Message, OutgoingMessage, Properties, QoS};
use crate::model::timeline::{PacketEntry, PacketKind};
pub(crate) use convert::Aliases;
use convert::{from_qos4, from_qos5, props_from_5, props_to_5, qos4, qos5, topic_string};
use words::{map_err4, map_err5, pub_ack_reason5, suback5};

/// The largest packet MQTT allows (256 MB). Canopy must never cut a payload.
pub(crate) const MAX_PACKET: usize = 268_435_455;
/// Requests that can wait in rumqttc's channel before our own outbox holds them.
pub(crate) const REQUEST_CAPACITY: usize = 1024;
/// QoS 1/2 publishes in flight at once on MQTT 3.1.1 and 3.1, where the broker cannot say how
/// many it takes (MQTT 5 uses the broker's Receive Maximum). mosquitto's default is 20: with
/// rumqttc's 100 it closed the connection at the 21st unreleased QoS 2 publish ("quota
/// exceeded"), and a QoS 2 burst failed after the reconnects. libmosquitto also sends 20.
const V3_INFLIGHT: u16 = 20;

/// An event from the broker or the event loop, the same for both versions.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// CONNACK accepted, with what an MQTT 5 broker announced in it (`None` on 3.1.1 / 3.1).
    ConnAck {
        session_present: bool,
        capabilities: Option<Box<super::BrokerCapabilities>>,
    },
    /// A message.
    Publish(Message),
    /// SUBACK: per-filter results.
    SubAck {
        pkid: u16,
        results: Vec<Result<QoS, String>>,
    },
    /// UNSUBACK.
    UnsubAck { pkid: u16 },
    /// Our QoS 1 / 2 publish completed (PUBACK / PUBCOMP), or was refused (MQTT 5 reason).
    PublishDone { pkid: u16, refused: Option<String> },
    /// We wrote a PUBLISH (pkid 0 for QoS 0).
    SentPublish { pkid: u16 },
    /// We wrote a SUBSCRIBE.
    SentSubscribe { pkid: u16 },
    /// We wrote an UNSUBSCRIBE.
    SentUnsubscribe { pkid: u16 },
    /// We wrote DISCONNECT.
    SentDisconnect,
    /// The broker sent DISCONNECT (MQTT 5), with its reason.
    BrokerDisconnect { reason: String },
    /// A packet that breaks the protocol (an unknown topic alias...): dropped, reported.
    Violation(String),
    /// Anything else (pings, our acks...).
    Other,
}

/// Requests rumqttc held when the connection dropped, kept across the reconnect.
pub(crate) enum Saved {
    V4(Vec<rumqttc::Request>),
    V5(Vec<rumqttc::v5::Request>),
}

/// What restoring saved requests means for publish tracking.
pub(crate) struct Restored {
    /// For each saved publish, in the order it will be sent again: its previous pkid (0 if
    /// it had never been written).
    pub publishes: Vec<u16>,
    /// QoS 2 publishes the broker had already received (PUBREC) in the lost session.
    pub completed: Vec<u16>,
}

/// The client half: queues requests for the event loop without blocking.
#[derive(Clone)]
pub(crate) enum Client {
    V4(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

/// The event-loop half.
pub(crate) enum Loop {
    V4(Box<rumqttc::EventLoop>),
    V5(Box<rumqttc::v5::EventLoop>, Aliases),
}

fn settings_error(message: impl Into<String>) -> ConnectError {
    ConnectError::new(ErrorKind::Settings, message)
}

fn transport(options: &ConnectOptions) -> Result<Transport, ConnectError> {
    let tls = || -> Result<TlsConfiguration, ConnectError> {
        let config = tls::client_config(&options.tls).map_err(|e| settings_error(e.to_string()))?;
        Ok(TlsConfiguration::Rustls(Arc::new(config)))
    };
    Ok(match options.transport {
        TransportKind::Tcp => Transport::Tcp,
        TransportKind::Tls => Transport::Tls(tls()?),
        TransportKind::Ws => Transport::Ws,
        TransportKind::Wss => Transport::Wss(tls()?),
    })
}

/// The host string rumqttc wants: the whole URL for WebSockets, the bare host otherwise.
fn broker_address(options: &ConnectOptions) -> String {
    if options.transport.is_websocket() {
        let path = if options.ws_path.starts_with('/') {
            options.ws_path.clone()
        } else {
            format!("/{}", options.ws_path)
        };
        let host = if options.host.contains(':') {
            format!("[{}]", options.host)
        } else {
            options.host.clone()
        };
        format!("{}://{host}:{}{path}", options.transport.scheme(), options.port)
    } else {
        options.host.clone()
    }
}

/// Checks the options before any network activity.
pub(crate) fn validate(options: &ConnectOptions) -> Result<(), ConnectError> {
    if options.host.trim().is_empty() {
        return Err(settings_error("the broker host is empty"));
    }
    if options.port == 0 {
        return Err(settings_error("the broker port cannot be 0"));
    }
    if options.keep_alive_secs < 5 {
        return Err(settings_error("keep-alive must be at least 5 seconds"));
    }
    if options.version != MqttVersion::V5 && options.client_id.is_empty() && !options.clean_session {
        return Err(settings_error(
            "keeping the session needs a client id (MQTT 3.1.1 and 3.1 do not assign one)",
        ));
    }
    if options.client_id.len() > 65_535 {
        return Err(settings_error(
            "the client id is longer than MQTT allows (65,535 bytes)",
        ));
    }
    if let Some(will) = &options.last_will
        && !will.topic.is_empty()
    {
        crate::model::topic::validate_topic_name(&will.topic)
            .map_err(|e| settings_error(format!("last will topic: {e}")))?;
    }
    for sub in &options.subscriptions {
        crate::model::topic::validate_filter(&sub.filter)
            .map_err(|e| settings_error(format!("subscription `{}`: {e}", sub.filter)))?;
    }
    Ok(())
}

/// MQTT 3.1 allows client ids of 1 to 23 characters; a longer or empty one is replaced by a
/// short random id (the caller tells the user).
pub(crate) fn v31_client_id(client_id: &str) -> Option<String> {
    let fits = !client_id.is_empty() && client_id.len() <= 23;
    (!fits).then(|| {
        let mut id = super::options::random_client_id();
        id.truncate(23);
        id
    })
}

/// Creates the client and event loop for these options, speaking `version` (never `Auto`: the
/// caller picks the candidate to try).
pub(crate) fn open(options: &ConnectOptions, version: MqttVersion) -> Result<(Client, Loop), ConnectError> {
    validate(options)?;
    let transport = transport(options)?;
    let host = broker_address(options);
    let proxy = super::proxy::resolve(&options.proxy, &options.host, |name| std::env::var(name).ok())?
        .map(|p| p.to_rumqttc());
    let will = options.last_will.as_ref().filter(|w| !w.topic.is_empty());
    let credentials = options
        .username
        .as_ref()
        .filter(|u| !u.is_empty())
        .map(|u| (u.clone(), options.password.clone().unwrap_or_default()));
    match version {
        MqttVersion::V311 | MqttVersion::V31 => {
            // For MQTT 3.1 the connection has already made the id fit (`v31_client_id`).
            let mut o = rumqttc::MqttOptions::new(options.client_id.clone(), host, options.port);
            o.set_transport(transport)
                .set_keep_alive(options.keep_alive())
                .set_clean_session(options.clean_session)
                .set_max_packet_size(MAX_PACKET, MAX_PACKET)
                .set_request_channel_capacity(REQUEST_CAPACITY)
                .set_inflight(V3_INFLIGHT);
            if version == MqttVersion::V31 {
                o.set_protocol(rumqttc::Protocol::V3);
            }
            if let Some(proxy) = proxy {
                o.set_proxy(proxy);
            }
            if let Some((user, pass)) = credentials {
                o.set_credentials(user, pass);
            }
            if let Some(w) = will {
                o.set_last_will(rumqttc::LastWill::new(
                    w.topic.clone(),
                    w.payload.clone().into_bytes(),
                    qos4(w.qos),
                    w.retain,
                ));
            }
            let (client, mut eventloop) = rumqttc::AsyncClient::new(o, REQUEST_CAPACITY);
            let mut net = rumqttc::NetworkOptions::new();
            net.set_connection_timeout(CONNECT_TIMEOUT_SECS);
            eventloop.set_network_options(net);
            Ok((Client::V4(client), Loop::V4(Box::new(eventloop))))
        }
        MqttVersion::V5 | MqttVersion::Auto => {
            let mut o = rumqttc::v5::MqttOptions::new(options.client_id.clone(), host, options.port);
            o.set_transport(transport)
                .set_keep_alive(options.keep_alive())
                .set_clean_start(options.clean_session)
                .set_max_packet_size(Some(MAX_PACKET as u32))
                // No topic aliases: rumqttd 0.20 reuses alias 1 for other topics without
                // sending them, so no client can resolve its aliases right. `Loop::poll` still
                // resolves aliases a broker sends unasked (and reports the ones it cannot).
                .set_topic_alias_max(None)
                .set_request_channel_capacity(REQUEST_CAPACITY)
                .set_connection_timeout(CONNECT_TIMEOUT_SECS);
            o.set_session_expiry_interval(options.session_expiry);
            if let Some(proxy) = proxy {
                o.set_proxy(proxy);
            }
            if let Some((user, pass)) = credentials {
                o.set_credentials(user, pass);
            }
            if let Some(w) = will {
                o.set_last_will(p5::LastWill::new(
                    w.topic.clone(),
                    w.payload.clone().into_bytes(),
                    qos5(w.qos),
                    w.retain,
                    None,
                ));
            }
            let (client, eventloop) = rumqttc::v5::AsyncClient::new(o, REQUEST_CAPACITY);
            Ok((
                Client::V5(client),
                Loop::V5(Box::new(eventloop), Aliases::default()),
            ))
        }
    }
}

/// Seconds allowed for the network connection plus CONNACK.
const CONNECT_TIMEOUT_SECS: u64 = 10;

/// Why a request could not be queued.
pub(crate) enum QueueError {
    /// rumqttc's channel is full; try again later.
    Full,
    /// The request itself is invalid.
    Invalid(String),
}

fn queue_error(e: rumqttc::ClientError) -> QueueError {
    match e {
        rumqttc::ClientError::TryRequest(_) => QueueError::Full,
        rumqttc::ClientError::Request(_) => QueueError::Invalid("the connection is closed".into()),
    }
}

fn queue_error5(e: rumqttc::v5::ClientError) -> QueueError {
    match e {
        rumqttc::v5::ClientError::TryRequest(_) => QueueError::Full,
        rumqttc::v5::ClientError::Request(_) => QueueError::Invalid("the connection is closed".into()),
    }
}

impl Client {
    /// Queues a publish without waiting.
    pub(crate) fn try_publish(&self, m: &OutgoingMessage) -> Result<(), QueueError> {
        match self {
            Client::V4(c) => c
                .try_publish(m.topic.clone(), qos4(m.qos), m.retain, m.payload.clone())
                .map_err(queue_error),
            Client::V5(c) => {
                let props = props_to_5(&m.properties);
                if props == p5::PublishProperties::default() {
                    c.try_publish(m.topic.clone(), qos5(m.qos), m.retain, m.payload.clone())
                } else {
                    c.try_publish_with_properties(
                        m.topic.clone(),
                        qos5(m.qos),
                        m.retain,
                        m.payload.clone(),
                        props,
                    )
                }
                .map_err(queue_error5)
            }
        }
    }

    /// Queues one SUBSCRIBE for several filters.
    pub(crate) fn try_subscribe(&self, subs: &[Subscription], id: Option<usize>) -> Result<(), QueueError> {
        match self {
            Client::V4(c) => c
                .try_subscribe_many(
                    subs.iter()
                        .map(|s| rumqttc::SubscribeFilter::new(s.filter.clone(), qos4(s.qos))),
                )
                .map_err(queue_error),
            Client::V5(c) => {
                let filters: Vec<p5::Filter> = subs
                    .iter()
                    .map(|s| p5::Filter {
                        path: s.filter.clone(),
                        qos: qos5(s.qos),
                        nolocal: s.no_local,
                        preserve_retain: s.retain_as_published,
                        retain_forward_rule: match s.retain_handling {
                            RetainHandling::SendOnSubscribe => p5::RetainForwardRule::OnEverySubscribe,
                            RetainHandling::SendIfNew => p5::RetainForwardRule::OnNewSubscribe,
                            RetainHandling::DoNotSend => p5::RetainForwardRule::Never,
                        },
                    })
                    .collect();
                match id {
                    Some(id) => c.try_subscribe_many_with_properties(
                        filters,
                        p5::SubscribeProperties {
                            id: Some(id),
                            user_properties: Vec::new(),
                        },
                    ),
                    None => c.try_subscribe_many(filters),
                }
                .map_err(queue_error5)
            }
        }
    }

    /// Queues an UNSUBSCRIBE of one filter.
    pub(crate) fn try_unsubscribe(&self, filter: &str) -> Result<(), QueueError> {
        match self {
            Client::V4(c) => c.try_unsubscribe(filter.to_owned()).map_err(queue_error),
            Client::V5(c) => c.try_unsubscribe(filter.to_owned()).map_err(queue_error5),
        }
    }

    /// Queues a DISCONNECT.
    pub(crate) fn try_disconnect(&self) -> Result<(), QueueError> {
        match self {
            Client::V4(c) => c.try_disconnect().map_err(queue_error),
            Client::V5(c) => c.try_disconnect().map_err(queue_error5),
        }
    }
}

impl Loop {
    /// Waits for the next event (connecting first if needed), with the packet as a timeline
    /// entry when `level` wants it. Cancel-safe only between calls: the caller keeps the
    /// future alive until it completes.
    pub(crate) async fn poll(
        &mut self,
        level: SharedLevel,
    ) -> (Result<Incoming, ConnectError>, Option<PacketEntry>) {
        let mut traced = None;
        let result = self.poll_traced(&level, &mut traced).await;
        (result, traced)
    }

    async fn poll_traced(
        &mut self,
        level: &SharedLevel,
        traced: &mut Option<PacketEntry>,
    ) -> Result<Incoming, ConnectError> {
        match self {
            Loop::V4(l) => {
                use rumqttc::{Event, Outgoing, Packet};
                let event = l.poll().await;
                let level = level.get();
                let event = event.map_err(|e| {
                    if let rumqttc::ConnectionError::ConnectionRefused(code) = &e
                        && level.wants(PacketKind::ConnAck)
                    {
                        *traced = Some(trace::refused_connack(&format!("{code:?}")));
                    }
                    map_err4(&e)
                })?;
                if level != TraceLevel::Off {
                    *traced = trace::entry4(&event, level);
                }
                Ok(match event {
                    Event::Incoming(Packet::ConnAck(ack)) => Incoming::ConnAck {
                        session_present: ack.session_present,
                        capabilities: None,
                    },
                    Event::Incoming(Packet::Publish(p)) if p.topic.is_empty() => {
                        Incoming::Violation("the broker sent a message with an empty topic".into())
                    }
                    Event::Incoming(Packet::Publish(p)) => Incoming::Publish(Message {
                        topic: p.topic,
                        payload: p.payload,
                        qos: from_qos4(p.qos),
                        retain: p.retain,
                        dup: p.dup,
                        received: SystemTime::now(),
                        properties: Properties::default(),
                        // Set by the connection, which knows its subscriptions.
                        subscribed: false,
                    }),
                    Event::Incoming(Packet::SubAck(ack)) => Incoming::SubAck {
                        pkid: ack.pkid,
                        results: ack
                            .return_codes
                            .iter()
                            .map(|c| match c {
                                rumqttc::SubscribeReasonCode::Success(q) => Ok(from_qos4(*q)),
                                rumqttc::SubscribeReasonCode::Failure => Err("refused by the broker".into()),
                            })
                            .collect(),
                    },
                    Event::Incoming(Packet::UnsubAck(ack)) => Incoming::UnsubAck { pkid: ack.pkid },
                    Event::Incoming(Packet::PubAck(ack)) => Incoming::PublishDone {
                        pkid: ack.pkid,
                        refused: None,
                    },
                    Event::Incoming(Packet::PubComp(ack)) => Incoming::PublishDone {
                        pkid: ack.pkid,
                        refused: None,
                    },
                    Event::Outgoing(Outgoing::Publish(pkid)) => Incoming::SentPublish { pkid },
                    Event::Outgoing(Outgoing::Subscribe(pkid)) => Incoming::SentSubscribe { pkid },
                    Event::Outgoing(Outgoing::Unsubscribe(pkid)) => Incoming::SentUnsubscribe { pkid },
                    Event::Outgoing(Outgoing::Disconnect) => Incoming::SentDisconnect,
                    _ => Incoming::Other,
                })
            }
            Loop::V5(l, aliases) => {
                use p5::Packet;
                use rumqttc::Outgoing;
                use rumqttc::v5::Event;
                let event = l.poll().await;
                let level = level.get();
                let event = event.map_err(|e| {
                    if let rumqttc::v5::ConnectionError::ConnectionRefused(code) = &e
                        && level.wants(PacketKind::ConnAck)
                    {
                        *traced = Some(trace::refused_connack(&format!("{code:?}")));
                    }
                    map_err5(&e)
                })?;
                if level != TraceLevel::Off {
                    *traced = trace::entry5(&event, level);
                }
                Ok(match event {
                    Event::Incoming(Packet::ConnAck(ack)) => {
                        // Aliases live as long as one network connection.
                        aliases.forget();
                        Incoming::ConnAck {
                            session_present: ack.session_present,
                            capabilities: Some(connack::capabilities(ack.properties.as_ref())),
                        }
                    }
                    Event::Incoming(Packet::Publish(p)) => {
                        let alias = p.properties.as_ref().and_then(|props| props.topic_alias);
                        match topic_string(p.topic).and_then(|topic| aliases.resolve(topic, alias)) {
                            Ok(topic) => Incoming::Publish(Message {
                                topic,
                                payload: p.payload,
                                qos: from_qos5(p.qos),
                                retain: p.retain,
                                dup: p.dup,
                                received: SystemTime::now(),
                                properties: props_from_5(p.properties),
                                subscribed: false,
                            }),
                            Err(why) => Incoming::Violation(why),
                        }
                    }
                    Event::Incoming(Packet::SubAck(ack)) => Incoming::SubAck {
                        pkid: ack.pkid,
                        results: ack.return_codes.iter().map(suback5).collect(),
                    },
                    Event::Incoming(Packet::UnsubAck(ack)) => Incoming::UnsubAck { pkid: ack.pkid },
                    Event::Incoming(Packet::PubAck(ack)) => Incoming::PublishDone {
                        pkid: ack.pkid,
                        refused: pub_ack_reason5(&format!("{:?}", ack.reason)),
                    },
                    Event::Incoming(Packet::PubRec(rec)) => {
                        match pub_ack_reason5(&format!("{:?}", rec.reason)) {
                            // A refused QoS 2 publish ends at PUBREC.
                            Some(refused) => Incoming::PublishDone {
                                pkid: rec.pkid,
                                refused: Some(refused),
                            },
                            None => Incoming::Other,
                        }
                    }
                    Event::Incoming(Packet::PubComp(ack)) => Incoming::PublishDone {
                        pkid: ack.pkid,
                        refused: None,
                    },
                    Event::Incoming(Packet::Disconnect(d)) => Incoming::BrokerDisconnect {
                        reason: format!("{:?}", d.reason_code),
                    },
                    Event::Outgoing(Outgoing::Publish(pkid)) => Incoming::SentPublish { pkid },
                    Event::Outgoing(Outgoing::Subscribe(pkid)) => Incoming::SentSubscribe { pkid },
                    Event::Outgoing(Outgoing::Unsubscribe(pkid)) => Incoming::SentUnsubscribe { pkid },
                    Event::Outgoing(Outgoing::Disconnect) => Incoming::SentDisconnect,
                    _ => Incoming::Other,
                })
            }
        }
    }

    /// Takes the requests rumqttc would replay (called right after an error).
    pub(crate) fn take_pending(&mut self) -> Saved {
        match self {
            Loop::V4(l) => Saved::V4(l.pending.drain(..).collect()),
            Loop::V5(l, _) => Saved::V5(l.pending.drain(..).collect()),
        }
    }

    /// Puts saved requests back right after CONNACK. With a resumed session they are replayed
    /// as rumqttc intends; with a new session the publishes are sent again as new messages and
    /// subscription requests are dropped (the caller subscribes afresh).
    pub(crate) fn restore_pending(&mut self, saved: Saved, session_present: bool) -> Restored {
        let mut restored = Restored {
            publishes: Vec::new(),
            completed: Vec::new(),
        };
        // The same sorting for both protocol versions' request types.
        macro_rules! restore {
            ($l:expr, $requests:expr, $Request:ty) => {{
                type R = $Request;
                let mut keep: VecDeque<R> = VecDeque::new();
                for request in $requests {
                    match request {
                        R::Publish(mut p) => {
                            restored.publishes.push(p.pkid);
                            if !session_present {
                                p.pkid = 0;
                                p.dup = false;
                            }
                            keep.push_back(R::Publish(p));
                        }
                        R::PubRel(rel) if !session_present => restored.completed.push(rel.pkid),
                        R::Subscribe(_) | R::Unsubscribe(_) => {}
                        other if session_present => keep.push_back(other),
                        _ => {}
                    }
                }
                $l.pending = keep;
            }};
        }
        match (self, saved) {
            (Loop::V4(l), Saved::V4(requests)) => restore!(l, requests, rumqttc::Request),
            (Loop::V5(l, _), Saved::V5(requests)) => restore!(l, requests, rumqttc::v5::Request),
            // A loop only ever saves its own kind of request.
            _ => {}
        }
        restored
    }
}

/// Time allowed for in-flight publishes to be acknowledged on a graceful disconnect.
pub(crate) const DISCONNECT_GRACE: Duration = Duration::from_secs(5);
