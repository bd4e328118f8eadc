//! What the broker sends on an open connection, and the CONNACK that opens it.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::{BATCH_MAX, Conn};
use crate::engine::session::{Incoming, Loop};
use crate::engine::{BrokerCapabilities, ConnectionState, Event, PublishOutcome, SubscribeResult, Token};
use crate::model::message::QoS;
use crate::model::topic::matches;

impl Conn {
    pub(super) fn incoming(&mut self, incoming: Incoming, lp: &mut Loop) {
        match incoming {
            Incoming::ConnAck {
                session_present,
                capabilities,
            } => self.connected(session_present, capabilities, lp),
            Incoming::Publish(message) if message.topic.contains(['#', '+']) => self.error(format!(
                "the broker sent a message to `{}`, a topic with wildcards (forbidden in a PUBLISH); the message was dropped",
                message.topic
            )),
            Incoming::Publish(mut message) => {
                message.subscribed = self.subs.iter().any(|(s, _)| matches(&s.filter, &message.topic));
                let cost = self.sink.budget.cost(&message);
                if !self.sink.budget.try_take(cost) {
                    // Read no more until the consumer made room (see `wait_for_budget`).
                    self.owed = cost;
                }
                if self.batch_started.is_none() {
                    self.batch_started = Some(Instant::now());
                }
                self.batch.push(message);
                if self.batch.len() >= BATCH_MAX {
                    self.flush();
                }
            }
            Incoming::SentPublish { pkid } => {
                if pkid != 0
                    && let Some((_, at)) = self.inflight.get_mut(&pkid)
                {
                    // A retransmission: written again now (see `strike_publishes`).
                    *at = Instant::now();
                    return;
                }
                if let Some((token, qos)) = self.queued.pop_front() {
                    if pkid == 0 || qos == QoS::AtMostOnce {
                        self.published(token, PublishOutcome::Sent);
                    } else {
                        self.inflight.insert(pkid, (token, Instant::now()));
                    }
                }
            }
            Incoming::PublishDone { pkid, refused } => {
                if let Some((token, _)) = self.inflight.remove(&pkid) {
                    self.publish_strikes.remove(&token);
                    let outcome = match refused {
                        Some(why) => PublishOutcome::Failed(why),
                        None => PublishOutcome::Acknowledged,
                    };
                    self.published(token, outcome);
                }
            }
            Incoming::SentSubscribe { pkid } => {
                self.subscribed_at = Some(Instant::now());
                if let Some(filters) = self.sub_queue.pop_front() {
                    self.sub_waiting.insert(pkid, filters);
                }
            }
            Incoming::SubAck { pkid, results } => {
                let filters = self.sub_waiting.remove(&pkid).unwrap_or_default();
                let results: Vec<SubscribeResult> = filters
                    .into_iter()
                    .zip(results)
                    .map(|(filter, granted)| SubscribeResult { filter, granted })
                    .collect();
                let refused: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.granted.as_ref().err().map(|e| format!("`{}`: {e}", r.filter)))
                    .collect();
                if !refused.is_empty() {
                    let failed: Vec<&String> = results
                        .iter()
                        .filter(|r| r.granted.is_err())
                        .map(|r| &r.filter)
                        .collect();
                    self.subs.retain(|(s, _)| !failed.contains(&&s.filter));
                    self.error(format!(
                        "subscription refused by the broker: {}",
                        refused.join("; ")
                    ));
                }
                // Answered, so not the filter a closing broker objects to.
                for r in &results {
                    self.sub_strikes.remove(&r.filter);
                }
                // The probe moves on only with the suspect's own answer.
                let probe_answered = self
                    .probing
                    .as_ref()
                    .is_some_and(|f| results.iter().any(|r| &r.filter == f));
                self.emit(Event::Subscribed { id: self.id, results });
                if probe_answered {
                    self.probing = None;
                    self.probe_next();
                }
            }
            Incoming::SentUnsubscribe { pkid } => {
                if let Some(filters) = self.unsub_queue.pop_front() {
                    self.unsub_waiting.insert(pkid, filters);
                }
            }
            Incoming::UnsubAck { pkid } => {
                if let Some(filters) = self.unsub_waiting.remove(&pkid) {
                    self.emit(Event::Unsubscribed { id: self.id, filters });
                }
            }
            Incoming::SentDisconnect => {
                if self.closing.is_some() {
                    self.finished = true;
                }
            }
            Incoming::BrokerDisconnect { reason } => self.broker_reason = Some(reason),
            Incoming::Violation(why) => self.error(format!("{why}; the message was dropped")),
            Incoming::Other => {}
        }
    }

    pub(super) fn connected(
        &mut self,
        session_present: bool,
        capabilities: Option<Box<BrokerCapabilities>>,
        lp: &mut Loop,
    ) {
        self.connected = true;
        self.settled = true;
        // Only consecutive failures to connect count against the policy: a broker that
        // accepts us is never given up on (`short_lived` still slows down a flapping link).
        self.attempt = 0;
        self.connected_at = Some(Instant::now());
        self.broker_reason = None;
        if let Some(saved) = self.saved.take() {
            let restored = lp.restore_pending(saved, session_present);
            for pkid in restored.completed {
                if let Some((token, _)) = self.inflight.remove(&pkid) {
                    self.published(token, PublishOutcome::Acknowledged);
                }
            }
            if !session_present {
                // Publishes are sent again as new messages: rebuild the order of their tokens.
                let mut order: VecDeque<(Token, QoS)> = VecDeque::new();
                for old_pkid in restored.publishes {
                    let token = if old_pkid == 0 {
                        self.queued.pop_front()
                    } else {
                        self.inflight
                            .remove(&old_pkid)
                            .map(|(t, _)| (t, QoS::AtLeastOnce))
                    };
                    order.extend(token);
                }
                order.append(&mut self.queued);
                self.queued = order;
            }
        }
        // Subscription requests that were in flight are gone with the old connection.
        let unanswered: Vec<String> = self
            .sub_queue
            .drain(..)
            .chain(self.sub_waiting.drain().map(|(_, f)| f))
            .flatten()
            .collect();
        self.unsub_queue.clear();
        self.unsub_waiting.clear();
        if session_present {
            self.resubscribe(Some(&unanswered));
        } else {
            self.resubscribe(None);
        }
        self.state(ConnectionState::Connected {
            session_present,
            version: self.version,
            negotiation: (!self.negotiation.is_empty()).then(|| self.negotiation.join("; ")),
            capabilities,
        });
    }
}
