//! The connection's side of packet tracing: what rumqttc does not say about a packet (the
//! topic of an outgoing PUBLISH, the filters of a SUBSCRIBE or SUBACK, whether a PUBLISH is a
//! retransmission) is added here from the connection's own books, and entries are batched
//! into [`Event::Trace`] with the messages.

use std::collections::HashMap;

use super::{BATCH_MAX, Conn};
use crate::engine::trace::{SharedLevel, TraceLevel, connect_entry};
use crate::engine::{Event, Token};
use crate::model::message::{OutgoingMessage, QoS};
use crate::model::timeline::{Direction, PacketEntry, PacketKind};

/// What the timeline shows of an outgoing PUBLISH (never its payload).
#[derive(Debug, Clone)]
struct Summary {
    topic: String,
    qos: QoS,
    retain: bool,
    size: u32,
}

/// Tracing state of one connection.
#[derive(Debug, Default)]
pub(super) struct Tracer {
    /// What is reported; changed by [`crate::engine::Command::Trace`], read by the poll
    /// under way when its packet arrives.
    pub(super) level: SharedLevel,
    /// A new network connection is about to be opened: its CONNECT is still to be traced.
    pub(super) connect_due: bool,
    /// Entries not yet handed to the caller.
    batch: Vec<PacketEntry>,
    /// Publishes handed to rumqttc but not yet written (only while tracing every packet).
    by_token: HashMap<Token, Summary>,
    /// Publishes written and awaiting their acknowledgement, by packet id (for a
    /// retransmission's topic). At most 65,535: an id in use is overwritten.
    by_pkid: HashMap<u16, Summary>,
}

impl Tracer {
    pub(super) fn new(level: TraceLevel) -> Self {
        Self {
            level: SharedLevel::new(level),
            connect_due: true,
            ..Self::default()
        }
    }

    /// Remembers what a publish handed to rumqttc is, for its PUBLISH entry.
    pub(super) fn queued(&mut self, token: Token, message: &OutgoingMessage) {
        if self.level.get().wants(PacketKind::Publish) {
            self.by_token.insert(
                token,
                Summary {
                    topic: message.topic.clone(),
                    qos: message.qos,
                    retain: message.retain,
                    size: u32::try_from(message.payload.len()).unwrap_or(u32::MAX),
                },
            );
        }
    }

    /// Takes the entries waiting (empty when there are none).
    pub(super) fn take(&mut self) -> Vec<PacketEntry> {
        std::mem::take(&mut self.batch)
    }
}

impl Conn {
    /// Traces a change of the connection's state (with any level but off).
    pub(super) fn trace_state(&mut self, state: &crate::engine::ConnectionState) {
        if self.tracer.level.get().wants(PacketKind::State) {
            let words = crate::engine::trace::state_words(state);
            let entry = PacketEntry::new(std::time::SystemTime::now(), Direction::Local, PacketKind::State)
                .with_details(words);
            self.tracer.batch.push(entry);
        }
    }

    /// Traces the CONNECT of the network connection about to be opened, if one is due.
    pub(super) fn trace_connect(&mut self) {
        if std::mem::take(&mut self.tracer.connect_due) && self.tracer.level.get().wants(PacketKind::Connect)
        {
            let entry = connect_entry(&self.options, self.version);
            self.trace(Some(entry));
        }
    }

    /// Adds what the connection knows to a traced packet and queues it. Called before the
    /// packet is handled, while the books still show what it answers.
    pub(super) fn trace(&mut self, entry: Option<PacketEntry>) {
        let Some(mut e) = entry else { return };
        match (e.direction, e.kind) {
            (Direction::Out, PacketKind::Publish) => self.describe_publish(&mut e),
            (Direction::Out, PacketKind::Subscribe) => {
                e.topic = self.sub_queue.front().map(|f| f.join(", "));
            }
            (Direction::Out, PacketKind::Unsubscribe) => {
                e.topic = self.unsub_queue.front().map(|f| f.join(", "));
            }
            (Direction::In, PacketKind::SubAck) => {
                // The results in `details` are in the order of these filters.
                e.topic = self.sub_waiting.get(&e.pkid).map(|f| f.join(", "));
            }
            (Direction::In, PacketKind::PubAck | PacketKind::PubComp) => {
                self.tracer.by_pkid.remove(&e.pkid);
            }
            _ => {}
        }
        let control = TraceLevel::Control.wants(e.kind);
        if self.batch_started.is_none() {
            self.batch_started = Some(tokio::time::Instant::now());
        }
        self.tracer.batch.push(e);
        if control {
            // Rare, and reported before the event the packet causes (a SUBACK before
            // `Subscribed`), so a caller waiting on that event finds the packet too.
            self.flush_trace();
        } else if self.tracer.batch.len() >= BATCH_MAX {
            self.flush();
        }
    }

    fn describe_publish(&mut self, e: &mut PacketEntry) {
        let t = &mut self.tracer;
        let summary = if e.pkid != 0 && self.inflight.contains_key(&e.pkid) {
            // Written again while awaiting its acknowledgement: rumqttc sets DUP.
            e.dup = true;
            t.by_pkid.get(&e.pkid).cloned()
        } else {
            let summary = self
                .queued
                .front()
                .and_then(|(token, _)| t.by_token.remove(token));
            if let Some(s) = &summary
                && e.pkid != 0
            {
                t.by_pkid.insert(e.pkid, s.clone());
            }
            // Publishes that failed before being written leave their summary behind.
            if t.by_token.len() > 2 * crate::engine::session::REQUEST_CAPACITY {
                let waiting: Vec<Token> = self.queued.iter().map(|(token, _)| *token).collect();
                t.by_token.retain(|token, _| waiting.contains(token));
            }
            summary
        };
        if let Some(s) = summary {
            e.topic = Some(s.topic);
            e.qos = Some(s.qos);
            e.retain = s.retain;
            e.size = Some(s.size);
        }
    }

    /// Hands the traced entries to the caller (with the batch of messages).
    pub(super) fn flush_trace(&mut self) {
        let entries = self.tracer.take();
        if !entries.is_empty() {
            self.emit(Event::Trace { id: self.id, entries });
        }
    }
}
