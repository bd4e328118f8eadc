//! The protocol timeline of one connection: the MQTT packets it sent and received, in order,
//! with the time each acknowledgement took. The engine reports packets ([`PacketEntry`]) only
//! while tracing is wanted; this keeps the last [`CAPACITY`] of them (oldest dropped first,
//! counted in [`Timeline::dropped`]), pairs acknowledgements with their PUBLISH by packet id,
//! and marks slow ones and retransmissions. Pure: the window and the CLI share it.

mod format;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

pub use format::{jsonl_line, text_line};

use super::message::QoS;

/// Rows kept per connection: at ~150 bytes a row (topic included) about 1.5 MB at most.
pub const CAPACITY: usize = 10_000;
/// An acknowledgement slower than this stands out whatever the others take.
pub const SLOW: Duration = Duration::from_secs(1);
/// ... and so does one this many times slower than the median of the recent ones.
const SLOW_FACTOR: u32 = 10;
/// Recent acknowledgement times the median is taken over.
const MEDIAN_WINDOW: usize = 256;
/// The median is recomputed every this many acknowledgements (sorting 256 values per ack
/// would cost more than the row itself at high rates).
const MEDIAN_EVERY: u32 = 32;

/// Which way a packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From Canopy to the broker.
    Out,
    /// From the broker to Canopy.
    In,
    /// Not a packet: a change of the connection's state (reconnecting, failed...).
    Local,
}

impl Direction {
    /// The arrow shown in a row.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Out => "→",
            Self::In => "←",
            Self::Local => "·",
        }
    }

    /// The word used in JSON Lines.
    pub fn word(self) -> &'static str {
        match self {
            Self::Out => "out",
            Self::In => "in",
            Self::Local => "local",
        }
    }
}

/// The MQTT control packet types, plus `State` for the connection's state changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are the packet types of the MQTT specification
pub enum PacketKind {
    Connect,
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    PingReq,
    PingResp,
    Disconnect,
    Auth,
    State,
}

impl PacketKind {
    /// Every kind, in protocol order (the filter toggles follow it).
    pub const ALL: [PacketKind; 16] = [
        Self::Connect,
        Self::ConnAck,
        Self::Publish,
        Self::PubAck,
        Self::PubRec,
        Self::PubRel,
        Self::PubComp,
        Self::Subscribe,
        Self::SubAck,
        Self::Unsubscribe,
        Self::UnsubAck,
        Self::PingReq,
        Self::PingResp,
        Self::Disconnect,
        Self::Auth,
        Self::State,
    ];

    /// The name as the specification writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::ConnAck => "CONNACK",
            Self::Publish => "PUBLISH",
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
            Self::Subscribe => "SUBSCRIBE",
            Self::SubAck => "SUBACK",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::UnsubAck => "UNSUBACK",
            Self::PingReq => "PINGREQ",
            Self::PingResp => "PINGRESP",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
            Self::State => "STATE",
        }
    }

    /// One bit per kind, for the filter's set of shown kinds.
    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Acknowledgements of a PUBLISH: their latency is the time since it.
    fn acks_publish(self) -> bool {
        matches!(self, Self::PubAck | Self::PubRec | Self::PubRel | Self::PubComp)
    }
}

/// One packet as the engine saw it. Cheap on purpose: a PUBLISH carries its topic and sizes,
/// never its payload, and `details` stays empty (no allocation) for the packets that come by
/// the thousand.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketEntry {
    /// Wall-clock time the engine read or wrote it.
    pub at: SystemTime,
    /// Which way it went.
    pub direction: Direction,
    /// Its type.
    pub kind: PacketKind,
    /// Packet identifier; 0 for packets without one (and QoS 0 publishes).
    pub pkid: u16,
    /// PUBLISH: the topic; SUBSCRIBE / UNSUBSCRIBE: the filters, comma-separated.
    pub topic: Option<String>,
    /// PUBLISH: its QoS.
    pub qos: Option<QoS>,
    /// PUBLISH: payload bytes.
    pub size: Option<u32>,
    /// PUBLISH: the DUP flag (a retransmission).
    pub dup: bool,
    /// PUBLISH: the retain flag.
    pub retain: bool,
    /// Everything else, in words: properties, reason codes, granted QoS.
    pub details: String,
}

impl PacketEntry {
    /// A packet with no identifier, topic or flags.
    pub fn new(at: SystemTime, direction: Direction, kind: PacketKind) -> Self {
        Self {
            at,
            direction,
            kind,
            pkid: 0,
            topic: None,
            qos: None,
            size: None,
            dup: false,
            retain: false,
            details: String::new(),
        }
    }

    /// The same with a packet identifier.
    pub fn with_pkid(mut self, pkid: u16) -> Self {
        self.pkid = pkid;
        self
    }

    /// The same with words in `details`.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }
}

/// A kept packet with what the timeline worked out about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The packet.
    pub entry: PacketEntry,
    /// Acknowledgements: time since the PUBLISH with the same packet id (same direction of
    /// flow); PINGRESP: time since the PINGREQ; SUBACK / UNSUBACK: since their request.
    pub latency: Option<Duration>,
    /// The latency is over [`SLOW`] or well above the median of the recent ones.
    pub slow: bool,
}

impl Row {
    /// Whether this row should stand out: slow, or a retransmission.
    pub fn stands_out(&self) -> bool {
        self.slow || self.entry.dup
    }
}

/// Which rows the user wants to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// One bit per [`PacketKind`] shown.
    shown: u32,
    /// Rows whose topic contains this (ignoring case); empty for all.
    pub topic: String,
    /// Only this packet id, when set.
    pub pkid: Option<u16>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            shown: u32::MAX,
            topic: String::new(),
            pkid: None,
        }
    }
}

impl Filter {
    /// Whether rows of `kind` are shown.
    pub fn shows(&self, kind: PacketKind) -> bool {
        self.shown & kind.bit() != 0
    }

    /// Shows or hides rows of `kind`.
    pub fn set_shown(&mut self, kind: PacketKind, shown: bool) {
        if shown {
            self.shown |= kind.bit();
        } else {
            self.shown &= !kind.bit();
        }
    }

    /// Whether the filter hides nothing.
    pub fn is_empty(&self) -> bool {
        self.shown == u32::MAX && self.topic.is_empty() && self.pkid.is_none()
    }

    /// Whether `row` passes. `topic_lower` is `self.topic` in lower case (made once per pass).
    fn passes(&self, row: &Row, topic_lower: &str) -> bool {
        let e = &row.entry;
        self.shows(e.kind)
            && self.pkid.is_none_or(|p| e.pkid == p)
            && (topic_lower.is_empty()
                || e.topic
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase().contains(topic_lower)))
    }
}

/// The packets of one connection, bounded.
#[derive(Debug)]
pub struct Timeline {
    rows: VecDeque<Row>,
    capacity: usize,
    dropped: u64,
    /// Counts every row ever added: lets a view know its cached filter result is stale.
    added: u64,
    /// Time of the first CONNECT (or first row): rows show their time relative to it.
    started: Option<SystemTime>,
    /// When each PUBLISH still awaiting its acknowledgements was seen, by (who sent the
    /// PUBLISH, packet id). At most 2 × 65,535 entries (packet ids are 16 bits).
    publishes: HashMap<(Direction, u16), SystemTime>,
    /// SUBSCRIBE / UNSUBSCRIBE awaiting their answer, by packet id.
    requests: HashMap<u16, SystemTime>,
    ping_at: Option<SystemTime>,
    recent: VecDeque<Duration>,
    median: Option<Duration>,
    since_median: u32,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Timeline {
    /// An empty timeline keeping at most `capacity` rows (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            rows: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            added: 0,
            started: None,
            publishes: HashMap::new(),
            requests: HashMap::new(),
            ping_at: None,
            recent: VecDeque::new(),
            median: None,
            since_median: 0,
        }
    }

    /// The rows kept, oldest first.
    pub fn rows(&self) -> &VecDeque<Row> {
        &self.rows
    }

    /// Rows dropped (the oldest) to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Rows ever added; changes whenever the timeline does.
    pub fn generation(&self) -> u64 {
        self.added
    }

    /// The time rows are relative to: the first CONNECT seen (else the first row).
    pub fn started(&self) -> Option<SystemTime> {
        self.started
    }

    /// Forgets every row (the counters and the start time too).
    pub fn clear(&mut self) {
        *self = Self::with_capacity(self.capacity);
    }

    /// Adds a state change of the connection ("reconnecting: …").
    pub fn push_state(&mut self, at: SystemTime, words: impl Into<String>) -> &Row {
        self.push(PacketEntry::new(at, Direction::Local, PacketKind::State).with_details(words))
    }

    /// Adds a packet, pairing it with what it answers. Returns the row as kept.
    pub fn push(&mut self, entry: PacketEntry) -> &Row {
        let latency = self.pair(&entry);
        let slow = latency.is_some_and(|l| self.judge(l, entry.kind));
        if self.rows.len() >= self.capacity {
            self.rows.pop_front();
            self.dropped += 1;
        }
        self.added += 1;
        self.rows.push_back(Row { entry, latency, slow });
        // Just pushed, so never empty.
        &self.rows[self.rows.len() - 1]
    }

    /// The latency of `entry` if it answers something seen before; remembers what it opens.
    fn pair(&mut self, e: &PacketEntry) -> Option<Duration> {
        let since = |then: SystemTime| e.at.duration_since(then).ok();
        match e.kind {
            PacketKind::Connect => {
                // A new network connection: packet ids and pings start afresh.
                self.started.get_or_insert(e.at);
                self.publishes.clear();
                self.requests.clear();
                self.ping_at = None;
                None
            }
            PacketKind::Publish if e.pkid != 0 => {
                // A retransmission keeps the time of the first send: the wait is the user's.
                self.publishes.entry((e.direction, e.pkid)).or_insert(e.at);
                self.note_start(e.at);
                None
            }
            k if k.acks_publish() => {
                // PUBACK / PUBREC / PUBCOMP flow against the PUBLISH; PUBREL with it.
                let sender = match (k, e.direction) {
                    (PacketKind::PubRel, d) => d,
                    (_, Direction::In) => Direction::Out,
                    (_, _) => Direction::In,
                };
                let key = (sender, e.pkid);
                let then = *self.publishes.get(&key)?;
                let last = matches!(k, PacketKind::PubAck | PacketKind::PubComp);
                if last {
                    self.publishes.remove(&key);
                }
                since(then)
            }
            PacketKind::Subscribe | PacketKind::Unsubscribe => {
                self.requests.insert(e.pkid, e.at);
                self.note_start(e.at);
                None
            }
            PacketKind::SubAck | PacketKind::UnsubAck => self.requests.remove(&e.pkid).and_then(since),
            PacketKind::PingReq => {
                self.ping_at = Some(e.at);
                None
            }
            PacketKind::PingResp => self.ping_at.take().and_then(since),
            // "connecting" comes just before its CONNECT: times count from the packet.
            PacketKind::State => None,
            _ => {
                self.note_start(e.at);
                None
            }
        }
    }

    fn note_start(&mut self, at: SystemTime) {
        self.started.get_or_insert(at);
    }

    /// Whether an acknowledgement that took `latency` is slow, learning from it.
    fn judge(&mut self, latency: Duration, kind: PacketKind) -> bool {
        if !kind.acks_publish() {
            return latency > SLOW;
        }
        let well_above = self.median.is_some_and(|m| {
            // Below a millisecond a tenfold is noise on a loopback broker.
            latency > m.saturating_mul(SLOW_FACTOR) && latency > Duration::from_millis(10)
        });
        if self.recent.len() >= MEDIAN_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(latency);
        self.since_median += 1;
        if self.since_median >= MEDIAN_EVERY || self.median.is_none() && self.recent.len() >= 8 {
            self.since_median = 0;
            let mut sorted: Vec<Duration> = self.recent.iter().copied().collect();
            sorted.sort_unstable();
            self.median = sorted.get(sorted.len() / 2).copied();
        }
        latency > SLOW || well_above
    }

    /// Positions (in [`Timeline::rows`]) of the rows `filter` passes, oldest first.
    pub fn matching(&self, filter: &Filter) -> Vec<usize> {
        if filter.is_empty() {
            return (0..self.rows.len()).collect();
        }
        let topic = filter.topic.to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| filter.passes(r, &topic))
            .map(|(i, _)| i)
            .collect()
    }

    /// Copies of the rows `filter` passes, to be written elsewhere (a JSON Lines export on
    /// another thread: cloning 10,000 rows is far cheaper than formatting them).
    pub fn snapshot(&self, filter: &Filter) -> Vec<Row> {
        self.matching(filter)
            .into_iter()
            .map(|i| self.rows[i].clone())
            .collect()
    }

    /// The rows `filter` passes as JSON Lines (one object per line, each ending in `\n`).
    pub fn to_jsonl(&self, filter: &Filter) -> String {
        to_jsonl(&self.snapshot(filter), self.started)
    }
}

/// `rows` as JSON Lines, times relative to `started`.
pub fn to_jsonl(rows: &[Row], started: Option<SystemTime>) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&jsonl_line(row, started));
        out.push('\n');
    }
    out
}
