//! A scriptable "quirky broker": a small MQTT 3.1 / 3.1.1 / 5 server that behaves normally
//! except where a [`Script`] tells it to reproduce what a real broker does wrong (or what a
//! broken / hostile server could send), so Canopy's engine and CLI can be tested against each
//! behaviour without installing aedes, amqtt, rumqttd or RabbitMQ.
//!
//! It is a real TCP server on a free loopback port, on its own thread with its own tokio
//! runtime, stopped (every socket closed) when the [`QuirkyBroker`] is dropped. Every CONNECT,
//! SUBSCRIBE and client PUBLISH is recorded so tests can assert what the client sent.
//!
//! Normal behaviour (whatever the script leaves alone):
//! - CONNACK success, session present = 0, in the client's level format (3.1 / 3.1.1:
//!   `20 02 00 00`; 5: `20 03 00 00 00`, no properties advertised).
//! - SUBSCRIBE → SUBACK granting the requested QoS (capped by [`Script::max_qos`]), then the
//!   retained messages matching each filter (retain flag set).
//! - PUBLISH from a client: QoS 1 → PUBACK, QoS 2 → PUBREC (then PUBREL → PUBCOMP); routed to
//!   every matching subscriber (the sender included); a retained PUBLISH is stored (an empty
//!   retained payload deletes). A client's MQTT 5 topic alias is resolved.
//! - Outgoing PUBLISH: QoS = min(message QoS, subscription QoS, 1), packet ids 1, 2, ...;
//!   PUBACKs from the client are ignored. Live deliveries have retain = 0. A client with
//!   several matching subscriptions gets one copy at the highest QoS.
//! - UNSUBSCRIBE → UNSUBACK, PINGREQ → PINGRESP, DISCONNECT → close. Anything undecodable
//!   closes the connection (logged to stderr).
//!
//! Use: `let broker = QuirkyBroker::start(Script::rumqttd());` then point a profile at
//! `broker.host()` / `broker.port`, drive Canopy, and assert on `broker.connects()`,
//! `broker.subscribes()`, `broker.published()`; `broker.publish(..)` injects messages.
//!
//! Adding a behaviour: a field on [`Script`] (its doc names the broker that does it), handled
//! in `server.rs` — `serve` for CONNECT time, `Connection::handle` / `subscribe` for reactions
//! to client packets, `write_loop` / `write_hostile` for bytes on the way out — plus a
//! self-test in `selftest.rs` (raw socket when the exact bytes matter). `codec` is public for
//! tests that craft raw packets.

pub mod codec;
#[cfg(test)]
mod selftest;
mod server;

pub use codec::ConnectSeen;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use server::{Shared, State, accept_loop};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How a CONNECT whose protocol level is not in [`Script::accept`] is answered.
/// (Named for the common case, an MQTT 5 client at a 3.x-only broker; applies to any level.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum V5Refusal {
    /// aedes (and amqtt when it answers): a 3.1.1-style CONNACK, remaining length 2, return
    /// code 1 "unacceptable protocol version" — `20 02 00 01` — then close.
    V3ConnackRc1,
    /// What the MQTT 5 spec asks for: CONNACK reason 0x84 "unsupported protocol version" —
    /// `20 03 00 84 00` — then close.
    #[default]
    V5Reason0x84,
    /// RabbitMQ's MQTT plugin: close the socket without any CONNACK.
    CloseSocket,
    /// amqtt, sometimes: never answer, keep the socket open (the client times out).
    Silent,
}

/// Something a broken or hostile server sends. Fired after the first SUBACK, or right after
/// CONNACK when [`Script::hostile_at_connect`] is set (`UnknownConnackCode` replaces CONNACK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// A PUBLISH header declaring the largest remaining length (268,435,455 bytes, ~256 MB)
    /// followed by 6 bytes: `30 FF FF FF 7F 00 01 61 78 78 78`; then the socket stays open and
    /// nothing more is written.
    HugeRemainingLength,
    /// A remaining length with five continuation bytes (malformed; at most 4 length bytes are
    /// allowed): `30 FF FF FF FF FF 01 00 01 61 78`; then open and mute.
    FiveContinuationBytes,
    /// A QoS 0 PUBLISH whose topic is `bad/` + `FF FE` (not UTF-8), payload `x`. The connection
    /// then goes on normally.
    InvalidUtf8Topic,
    /// Two QoS 0 PUBLISHes with wildcard topics (forbidden in a PUBLISH): `a/#/b` (payload `x`)
    /// then `+` (payload `y`). The connection then goes on normally.
    WildcardTopic,
    /// `topics` QoS 0 PUBLISHes as fast as the socket takes them: topic `flood/<i>`, payload
    /// `<i>` in decimal, i = 0..topics. The connection then goes on normally.
    Flood { topics: usize },
    /// Instead of CONNACK success: a CONNACK with this return / reason code in the client's
    /// level format (`20 02 00 <code>` or `20 03 00 <code> 00`), then close.
    UnknownConnackCode(u8),
    /// 64 bytes of noise starting with `00 00` (packet type 0, reserved, so a decoder fails on
    /// the first byte), the rest a fixed xorshift sequence; then open and mute.
    Garbage,
}

/// What the broker does differently from a well-behaved one. `Script::default()` is a
/// well-behaved broker accepting 3.1, 3.1.1 and 5.
#[derive(Clone, Debug)]
pub struct Script {
    /// Protocol levels accepted at CONNECT (3 = 3.1 `MQIsdp`, 4 = 3.1.1, 5). Default `[3, 4, 5]`.
    pub accept: Vec<u8>,
    /// How a CONNECT with any other level is answered.
    pub refuse_v5_as: V5Refusal,
    /// Retained store at start; delivered on matching SUBSCRIBE (normal behaviour).
    pub retained: Vec<(String, Vec<u8>)>,
    /// amqtt: messages pushed (QoS 0, retain = 1) right after CONNACK, whatever the client
    /// subscribes to — even if it never subscribes.
    pub unasked_at_connect: Vec<(String, Vec<u8>)>,
    /// aedes: `$`-topics are delivered to subscribers of a filter starting with `#`
    /// (normally a leading wildcard never matches a `$` topic; `+` stays excluded).
    pub dollar_topics_to_hash: bool,
    /// rumqttd: on MQTT 5, when the client advertised a topic alias maximum ≥ 1, every
    /// delivery uses topic alias 1: the first goes out with its topic + alias 1, every later
    /// one with an empty topic + alias 1, even when its topic is another one (as rumqttd 0.20
    /// does; seen by `scripts/interop.sh`).
    pub alias_reuse: bool,
    /// rumqttd (`$SYS/#`): close the socket, without SUBACK, when a SUBSCRIBE contains one of
    /// these filters (exact string match). The SUBSCRIBE is still recorded.
    pub disconnect_on_subscribe: Vec<String>,
    /// Close the socket, without PUBACK / PUBREC and without routing, on a PUBLISH to one of
    /// these topics (exact match). The PUBLISH is still recorded.
    pub close_on_publish_topic: Vec<String>,
    /// RabbitMQ: retained messages reach only a subscription to the exact topic, not
    /// wildcard filters.
    pub retained_exact_only: bool,
    /// Keep no retained messages: a retained PUBLISH is delivered live and forgotten (brokers
    /// built for streaming, such as some cloud IoT gateways, do this without saying so).
    pub drop_retained: bool,
    /// Highest QoS granted in SUBACK (RabbitMQ: 1, it downgrades QoS 2). Default 2.
    pub max_qos: u8,
    /// Filters refused in SUBACK, as brokers with an ACL do (EMQX and HiveMQ: reason 0x87
    /// "not authorised" on MQTT 5; 0x80 "failure" on 3.x, where AWS IoT answers so too). The
    /// other filters of the same SUBSCRIBE are granted.
    pub refuse_filters: Vec<String>,
    /// A broken / hostile server's bytes; see [`Hostile`].
    pub hostile: Option<Hostile>,
    /// Fire [`Script::hostile`] right after CONNACK instead of after the first SUBACK.
    pub hostile_at_connect: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            accept: vec![3, 4, 5],
            refuse_v5_as: V5Refusal::default(),
            retained: Vec::new(),
            unasked_at_connect: Vec::new(),
            dollar_topics_to_hash: false,
            alias_reuse: false,
            disconnect_on_subscribe: Vec::new(),
            close_on_publish_topic: Vec::new(),
            retained_exact_only: false,
            drop_retained: false,
            max_qos: 2,
            refuse_filters: Vec::new(),
            hostile: None,
            hostile_at_connect: false,
        }
    }
}

impl Script {
    /// aedes: 3.1 and 3.1.1 only (v5 gets `20 02 00 01`); `$`-topics reach `#`.
    pub fn aedes() -> Self {
        Script {
            accept: vec![3, 4],
            refuse_v5_as: V5Refusal::V3ConnackRc1,
            dollar_topics_to_hash: true,
            ..Script::default()
        }
    }
    /// amqtt: 3.1.1 only, other levels never answered; `unasked` pushed at every CONNECT.
    pub fn amqtt(unasked: Vec<(String, Vec<u8>)>) -> Self {
        Script {
            accept: vec![4],
            refuse_v5_as: V5Refusal::Silent,
            unasked_at_connect: unasked,
            ..Script::default()
        }
    }
    /// rumqttd: 3.1.1 and 5; topic alias 1 reused on MQTT 5; `$SYS/#` subscribers dropped.
    pub fn rumqttd() -> Self {
        Script {
            accept: vec![4, 5],
            alias_reuse: true,
            disconnect_on_subscribe: vec!["$SYS/#".into()],
            ..Script::default()
        }
    }
    /// RabbitMQ MQTT plugin: 3.1 and 3.1.1, v5 socket closed; QoS ≤ 1; retained only to
    /// exact-topic subscriptions.
    pub fn rabbitmq() -> Self {
        Script {
            accept: vec![3, 4],
            refuse_v5_as: V5Refusal::CloseSocket,
            max_qos: 1,
            retained_exact_only: true,
            ..Script::default()
        }
    }
}

/// A client PUBLISH as received: topic, payload, QoS, retain.
pub type Published = (String, Vec<u8>, u8, bool);

/// The running broker. Dropping it stops the server and closes every connection.
pub struct QuirkyBroker {
    /// Loopback port it listens on (host `127.0.0.1`).
    pub port: u16,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl QuirkyBroker {
    /// Starts a broker following `script` on a free port of 127.0.0.1.
    pub fn start(script: Script) -> QuirkyBroker {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let state = State {
            retained: script.retained.iter().cloned().collect(),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            script,
            state: Mutex::new(state),
        });
        let (shutdown, stop) = oneshot::channel();
        let server = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("quirky-broker-{port}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = stop => {}
                        _ = accept_loop(listener, server) => {}
                    }
                });
                // Dropping the runtime cancels every connection task, closing its socket.
            })
            .expect("spawn broker thread");
        QuirkyBroker {
            port,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Publishes as if from another client (message QoS 1): delivered to matching connected
    /// subscribers; `retain` stores it (empty payload deletes).
    pub fn publish(&self, topic: &str, payload: &[u8], retain: bool) {
        self.shared.route(topic, payload, 1, retain);
    }

    /// Every CONNECT received, in order (refused ones included).
    pub fn connects(&self) -> Vec<ConnectSeen> {
        self.shared.lock().connects.clone()
    }

    /// The filters of every SUBSCRIBE received, in order.
    pub fn subscribes(&self) -> Vec<Vec<String>> {
        self.shared.lock().subscribes.clone()
    }

    /// Every PUBLISH received from clients, in order.
    pub fn published(&self) -> Vec<Published> {
        self.shared.lock().published.clone()
    }

    /// The current retained store, sorted by topic.
    pub fn retained(&self) -> Vec<(String, Vec<u8>)> {
        let st = self.shared.lock();
        st.retained.iter().map(|(t, p)| (t.clone(), p.clone())).collect()
    }

    /// Clients connected right now (past a successful CONNACK).
    pub fn clients(&self) -> usize {
        self.shared.lock().clients.len()
    }

    /// Polls `cond` every 10 ms until it holds; panics with `what` after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl Fn(&QuirkyBroker) -> bool) {
        let deadline = Instant::now() + timeout;
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "quirky broker: timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for QuirkyBroker {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// MQTT filter matching (Canopy's own rules: a leading wildcard never matches a `$` topic),
/// except that a leading `#` does match one when `dollar_to_hash` (aedes).
pub fn topic_matches(filter: &str, topic: &str, dollar_to_hash: bool) -> bool {
    (dollar_to_hash && topic.starts_with('$') && filter.starts_with('#'))
        || canopy::model::topic::matches(filter, topic)
}
