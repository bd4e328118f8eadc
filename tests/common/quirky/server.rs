//! Server internals of the quirky broker: shared state and routing, one task pair per
//! connection (a reader that handles packets, a writer that owns the socket's write half and
//! encodes deliveries), and the hostile byte sequences.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::codec::*;
use super::{ConnectSeen, Hostile, Published, Script, V5Refusal, topic_matches};

pub(super) struct Shared {
    pub(super) script: Script,
    pub(super) state: Mutex<State>,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) retained: BTreeMap<String, Vec<u8>>,
    pub(super) clients: HashMap<u64, Client>,
    pub(super) next_client: u64,
    pub(super) connects: Vec<ConnectSeen>,
    pub(super) subscribes: Vec<Vec<String>>,
    pub(super) published: Vec<Published>,
}

pub(super) struct Client {
    tx: mpsc::UnboundedSender<Out>,
    subs: Vec<(String, u8)>,
}

/// What a connection's writer task is asked to do, in order.
enum Out {
    /// Bytes already encoded (acks, CONNACK...).
    Raw(Vec<u8>),
    /// A message to encode for this client (packet id, topic alias).
    Deliver {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    },
    Hostile(Hostile),
    /// Flush what is queued, then close the socket.
    Close,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn matches(&self, filter: &str, topic: &str) -> bool {
        topic_matches(filter, topic, self.script.dollar_topics_to_hash)
    }

    /// Stores a retained message and delivers to every matching client, once per client.
    pub(super) fn route(&self, topic: &str, payload: &[u8], qos: u8, retain: bool) {
        let mut st = self.lock();
        if retain && !self.script.drop_retained {
            if payload.is_empty() {
                st.retained.remove(topic);
            } else {
                st.retained.insert(topic.to_string(), payload.to_vec());
            }
        }
        for client in st.clients.values() {
            let best = client
                .subs
                .iter()
                .filter(|(f, _)| self.matches(f, topic))
                .map(|(_, q)| *q)
                .max();
            if let Some(sub_qos) = best {
                let _ = client.tx.send(Out::Deliver {
                    topic: topic.to_string(),
                    payload: payload.to_vec(),
                    qos: qos.min(sub_qos).min(1),
                    retain: false,
                });
            }
        }
    }
}

pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(shared.clone(), stream));
    }
}

/// One client connection: CONNECT handling, then the read loop. Writes go through the
/// connection's writer task so that routed messages and replies keep their order.
async fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let script = &shared.script;
    let (mut rd, wr) = stream.into_split();
    let connect = match read_frame(&mut rd).await {
        Ok(Some(f)) if f.kind() == CONNECT => match decode_connect(&f.body) {
            Ok(c) => c,
            Err(e) => return eprintln!("quirky broker: bad CONNECT: {e}"),
        },
        _ => return,
    };
    shared.lock().connects.push(connect.clone());
    let level = connect.level;
    let aliases = script.alias_reuse && level == 5 && connect.topic_alias_max.unwrap_or(0) > 0;
    let (tx, rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_loop(wr, rx, level, aliases));

    if !script.accept.contains(&level) {
        match script.refuse_v5_as {
            V5Refusal::V3ConnackRc1 => {
                let _ = tx.send(Out::Raw(connack(4, false, 1)));
            }
            V5Refusal::V5Reason0x84 => {
                let _ = tx.send(Out::Raw(connack(5, false, 0x84)));
            }
            V5Refusal::CloseSocket => {}
            V5Refusal::Silent => drain(&mut rd).await,
        }
        let _ = tx.send(Out::Close);
        let _ = writer.await;
        return;
    }
    if let Some(Hostile::UnknownConnackCode(code)) = script.hostile {
        let _ = tx.send(Out::Raw(connack(level, false, code)));
        let _ = tx.send(Out::Close);
        let _ = writer.await;
        return;
    }

    let id = {
        // CONNACK is queued under the lock so no routed message can overtake it.
        let mut st = shared.lock();
        let _ = tx.send(Out::Raw(connack(level, false, 0)));
        for (topic, payload) in &script.unasked_at_connect {
            let _ = tx.send(deliver(topic, payload, 0, true));
        }
        st.next_client += 1;
        let id = st.next_client;
        let subs = Vec::new();
        st.clients.insert(id, Client { tx: tx.clone(), subs });
        id
    };
    let mut hostile = script.hostile.clone();
    if script.hostile_at_connect
        && let Some(h) = hostile.take()
    {
        let _ = tx.send(Out::Hostile(h));
    }

    let mut conn = Connection {
        shared: &shared,
        id,
        level,
        tx: &tx,
        client_aliases: HashMap::new(),
        hostile,
    };
    loop {
        let frame = match read_frame(&mut rd).await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                eprintln!("quirky broker: read error: {e}");
                break;
            }
        };
        match conn.handle(frame) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                eprintln!("quirky broker: closing on bad packet: {e}");
                break;
            }
        }
    }
    shared.lock().clients.remove(&id);
    let _ = tx.send(Out::Close);
    let _ = writer.await;
}

fn deliver(topic: &str, payload: &[u8], qos: u8, retain: bool) -> Out {
    Out::Deliver {
        topic: topic.to_string(),
        payload: payload.to_vec(),
        qos,
        retain,
    }
}

/// Reads and discards until the peer closes (a broker that never answers).
async fn drain(rd: &mut OwnedReadHalf) {
    while let Ok(Some(_)) = read_frame(rd).await {}
}

/// Per-connection state of the read side.
struct Connection<'a> {
    shared: &'a Shared,
    id: u64,
    level: u8,
    tx: &'a mpsc::UnboundedSender<Out>,
    /// Topic aliases the client set on its own PUBLISHes (MQTT 5).
    client_aliases: HashMap<u16, String>,
    /// Hostile bytes still to send after the first SUBACK.
    hostile: Option<Hostile>,
}

impl Connection<'_> {
    fn send(&self, bytes: Vec<u8>) {
        let _ = self.tx.send(Out::Raw(bytes));
    }

    /// Handles one packet; `Ok(false)` closes the connection.
    fn handle(&mut self, frame: Frame) -> DecodeResult<bool> {
        let script = &self.shared.script;
        match frame.kind() {
            PUBLISH => {
                let mut p = decode_publish(frame.first, &frame.body, self.level)?;
                if let Some(alias) = p.topic_alias {
                    if p.topic.is_empty() {
                        p.topic = self
                            .client_aliases
                            .get(&alias)
                            .cloned()
                            .ok_or("unknown topic alias")?;
                    } else {
                        self.client_aliases.insert(alias, p.topic.clone());
                    }
                }
                let record = (p.topic.clone(), p.payload.clone(), p.qos, p.retain);
                self.shared.lock().published.push(record);
                if script.close_on_publish_topic.contains(&p.topic) {
                    return Ok(false);
                }
                match p.qos {
                    1 => self.send(ack(PUBACK, p.pkid)),
                    2 => self.send(ack(PUBREC, p.pkid)),
                    _ => {}
                }
                self.shared.route(&p.topic, &p.payload, p.qos, p.retain);
            }
            PUBREL => self.send(ack(PUBCOMP, decode_pkid(&frame.body)?)),
            PUBACK | PUBREC | PUBCOMP => {} // acks of our QoS 1 deliveries: ignored
            SUBSCRIBE => return self.subscribe(&frame.body),
            UNSUBSCRIBE => {
                let (pkid, filters) = decode_subscribe(&frame.body, self.level, false)?;
                if let Some(c) = self.shared.lock().clients.get_mut(&self.id) {
                    c.subs.retain(|(f, _)| !filters.iter().any(|(u, _)| u == f));
                }
                self.send(unsuback(self.level, pkid, filters.len()));
            }
            PINGREQ => self.send(pingresp()),
            DISCONNECT => return Ok(false),
            other => return Err(format!("unexpected packet type {other}")),
        }
        Ok(true)
    }

    fn subscribe(&mut self, body: &[u8]) -> DecodeResult<bool> {
        let script = &self.shared.script;
        let (pkid, filters) = decode_subscribe(body, self.level, true)?;
        let names: Vec<String> = filters.iter().map(|(f, _)| f.clone()).collect();
        let mut st = self.shared.lock();
        st.subscribes.push(names);
        if filters
            .iter()
            .any(|(f, _)| script.disconnect_on_subscribe.contains(f))
        {
            return Ok(false);
        }
        let refused = if self.level == 5 { 0x87 } else { 0x80 };
        let granted: Vec<u8> = filters
            .iter()
            .map(|(f, q)| {
                if script.refuse_filters.contains(f) {
                    refused
                } else {
                    (*q).min(script.max_qos)
                }
            })
            .collect();
        self.send(suback(self.level, pkid, &granted));
        let mut retained = Vec::new();
        for ((filter, _), qos) in filters.iter().zip(&granted) {
            for (topic, payload) in &st.retained {
                let hit = if script.retained_exact_only {
                    filter == topic
                } else {
                    self.shared.matches(filter, topic)
                };
                if hit {
                    retained.push(deliver(topic, payload, (*qos).min(1), true));
                }
            }
        }
        if let Some(c) = st.clients.get_mut(&self.id) {
            for ((filter, _), qos) in filters.into_iter().zip(granted) {
                c.subs.retain(|(f, _)| *f != filter);
                c.subs.push((filter, qos));
            }
        }
        for out in retained {
            let _ = self.tx.send(out);
        }
        drop(st);
        if let Some(h) = self.hostile.take() {
            let _ = self.tx.send(Out::Hostile(h));
        }
        Ok(true)
    }
}

/// The writer task: encodes deliveries (packet ids, topic aliases), flushes when the queue
/// is empty, and goes mute after hostile bytes that break the stream.
async fn write_loop(wr: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Out>, level: u8, aliases: bool) {
    let mut w = BufWriter::new(wr);
    let mut pkid: u16 = 0;
    let mut alias_topic: Option<String> = None;
    let mut mute = false;
    while let Some(out) = rx.recv().await {
        let written = match out {
            Out::Close => break,
            _ if mute => continue,
            Out::Raw(bytes) => w.write_all(&bytes).await,
            Out::Deliver {
                topic,
                payload,
                qos,
                retain,
            } => {
                if qos > 0 {
                    pkid = pkid.wrapping_add(1).max(1);
                }
                // rumqttd 0.20, as scripts/interop.sh saw it: alias 1 is set by the first
                // delivery and then used, with an empty topic, for every later one, whatever
                // its real topic. A client can only get the topics right by not allowing
                // aliases at all.
                let (wire_topic, alias) = if !aliases {
                    (topic.as_str(), None)
                } else if alias_topic.is_some() {
                    ("", Some(1))
                } else {
                    alias_topic = Some(topic.clone());
                    (topic.as_str(), Some(1))
                };
                let bytes = publish(level, wire_topic.as_bytes(), &payload, qos, retain, pkid, alias);
                w.write_all(&bytes).await
            }
            Out::Hostile(h) => {
                mute = matches!(
                    h,
                    Hostile::HugeRemainingLength | Hostile::FiveContinuationBytes | Hostile::Garbage
                );
                write_hostile(&mut w, level, &h).await
            }
        };
        if written.is_err() {
            return;
        }
        if rx.is_empty() && w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}

async fn write_hostile<W: AsyncWrite + Unpin>(w: &mut W, level: u8, h: &Hostile) -> std::io::Result<()> {
    match h {
        Hostile::HugeRemainingLength => {
            w.write_all(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, b'a', b'x', b'x', b'x'])
                .await
        }
        Hostile::FiveContinuationBytes => {
            w.write_all(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x01, b'a', b'x'])
                .await
        }
        Hostile::InvalidUtf8Topic => {
            w.write_all(&publish(level, b"bad/\xFF\xFE", b"x", 0, false, 0, None))
                .await
        }
        Hostile::WildcardTopic => {
            w.write_all(&publish(level, b"a/#/b", b"x", 0, false, 0, None))
                .await?;
            w.write_all(&publish(level, b"+", b"y", 0, false, 0, None)).await
        }
        Hostile::Flood { topics } => {
            for i in 0..*topics {
                let topic = format!("flood/{i}");
                let bytes = publish(
                    level,
                    topic.as_bytes(),
                    i.to_string().as_bytes(),
                    0,
                    false,
                    0,
                    None,
                );
                w.write_all(&bytes).await?;
            }
            Ok(())
        }
        Hostile::UnknownConnackCode(code) => w.write_all(&connack(level, false, *code)).await,
        Hostile::Garbage => w.write_all(&garbage()).await,
    }
}

/// `00 00` then 62 bytes of a fixed xorshift sequence (same bytes every run).
fn garbage() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = vec![0u8, 0u8];
    while out.len() < 64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push((x >> 24) as u8);
    }
    out
}
