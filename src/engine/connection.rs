//! The task behind one open connection: connect, subscribe, publish, batch messages, back off
//! and reconnect, and close gracefully.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::errors::{ConnectError, ErrorKind};
use super::session::{self, Client, Incoming, Loop, QueueError, Saved};
use super::{Command, ConnectionId, ConnectionState, Event, EventSink, PublishOutcome, SubscribeResult};
use crate::model::message::{Message, OutgoingMessage, QoS};
use crate::model::topic::{validate_filter, validate_topic_name};
use crate::profiles::profile::{Profile, Subscription};

/// A connection that lasted this long resets the reconnect attempt count.
const STABLE_CONNECTION: Duration = Duration::from_secs(10);

/// Messages are handed to the caller at least this often while they arrive.
const BATCH_WINDOW: Duration = Duration::from_millis(15);
/// ... or as soon as this many are waiting.
const BATCH_MAX: usize = 4096;

/// The engine's handle on a running connection task.
pub(crate) struct Handle {
    tx: mpsc::UnboundedSender<Command>,
    join: JoinHandle<()>,
}

impl Handle {
    pub(crate) fn send(&self, command: Command) {
        // If the task ended, the command has nobody to serve it; `route` reports that.
        let _ = self.tx.send(command);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Asks the task to disconnect gracefully and waits for it (bounded).
    pub(crate) async fn close_and_wait(self, timeout: Duration) {
        let _ = self.tx.send(Command::Disconnect { id: 0 });
        let abort = self.join.abort_handle();
        if tokio::time::timeout(timeout, self.join).await.is_err() {
            abort.abort();
        }
    }
}

/// Starts a connection task; `previous` (same id) is closed first.
pub(crate) fn spawn(id: ConnectionId, profile: Profile, sink: EventSink, previous: Option<Handle>) -> Handle {
    let (tx, rx) = mpsc::unbounded_channel();
    let join = tokio::spawn(async move {
        if let Some(previous) = previous {
            previous
                .close_and_wait(session::DISCONNECT_GRACE + Duration::from_secs(1))
                .await;
        }
        run(id, profile, sink, rx).await;
    });
    Handle { tx, join }
}

/// Packets taken on the fast path (already buffered, no select) before the select runs once.
const FAST_STREAK: u32 = 64;

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn run(id: ConnectionId, profile: Profile, sink: EventSink, mut rx: mpsc::UnboundedReceiver<Command>) {
    let mut c = Conn::new(id, &profile, sink);
    c.state(ConnectionState::Connecting);
    let (client, mut lp) = match session::open(&profile) {
        Ok(pair) => pair,
        Err(reason) => {
            c.fail(reason);
            return;
        }
    };
    c.client = Some(client);
    let mut fast_streak = 0;
    loop {
        let result = {
            let poll = lp.poll();
            tokio::pin!(poll);
            // Fast path: while packets are already buffered, take them without the select and
            // its timers (the future is polled again, with the real waker, if it is pending).
            // Every FAST_STREAK packets the select runs anyway, so commands and the batch timer
            // are served during a flood.
            let mut ready = None;
            if fast_streak < FAST_STREAK && c.closing.is_none() {
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                if let std::task::Poll::Ready(r) = poll.as_mut().poll(&mut cx) {
                    ready = Some(r);
                    fast_streak += 1;
                }
            }
            if ready.is_none() {
                fast_streak = 0;
            }
            loop {
                if let Some(r) = ready.take() {
                    break Some(r);
                }
                let flush_at = c.flush_deadline();
                let close_at = c.closing;
                tokio::select! {
                    r = &mut poll => break Some(r),
                    cmd = rx.recv() => match cmd {
                        Some(cmd) => c.command(cmd),
                        None => c.request_close(),
                    },
                    () = sleep_opt(flush_at) => c.flush(),
                    () = sleep_opt(close_at) => break None,
                }
                c.after_step();
                if c.finished {
                    break None;
                }
            }
        };
        match result {
            None => break,
            Some(Ok(incoming)) => c.incoming(incoming, &mut lp),
            Some(Err(error)) => c.lost(error, &mut lp, &mut rx).await,
        }
        c.after_step();
        if c.finished {
            break;
        }
    }
    if !c.ended {
        c.finish_closed();
    }
}

struct Conn {
    id: ConnectionId,
    sink: EventSink,
    policy: crate::engine::backoff::ReconnectPolicy,
    version: crate::profiles::profile::MqttVersion,
    client: Option<Client>,
    /// Active subscriptions with their MQTT 5 subscription identifier.
    subs: Vec<(Subscription, Option<usize>)>,
    /// Filters of each SUBSCRIBE queued but not yet written, in order.
    sub_queue: VecDeque<Vec<String>>,
    /// Filters of each SUBSCRIBE written, by packet id.
    sub_waiting: HashMap<u16, Vec<String>>,
    unsub_queue: VecDeque<Vec<String>>,
    unsub_waiting: HashMap<u16, Vec<String>>,
    /// Publishes not yet handed to rumqttc.
    outbox: VecDeque<(u64, OutgoingMessage)>,
    /// Publishes handed to rumqttc, not yet written, in order.
    queued: VecDeque<(u64, QoS)>,
    /// QoS 1/2 publishes written and awaiting their acknowledgement, by packet id.
    inflight: HashMap<u16, u64>,
    batch: Vec<Message>,
    batch_started: Option<Instant>,
    connected: bool,
    attempt: u32,
    /// When the current (or last) connection was established.
    connected_at: Option<Instant>,
    saved: Option<Saved>,
    broker_reason: Option<String>,
    /// Deadline of a graceful disconnect in progress.
    closing: Option<Instant>,
    disconnect_sent: bool,
    finished: bool,
    ended: bool,
}

impl Conn {
    fn new(id: ConnectionId, profile: &Profile, sink: EventSink) -> Self {
        Self {
            id,
            sink,
            policy: profile.reconnect,
            version: profile.version,
            client: None,
            subs: profile.subscriptions.iter().map(|s| (s.clone(), None)).collect(),
            sub_queue: VecDeque::new(),
            sub_waiting: HashMap::new(),
            unsub_queue: VecDeque::new(),
            unsub_waiting: HashMap::new(),
            outbox: VecDeque::new(),
            queued: VecDeque::new(),
            inflight: HashMap::new(),
            batch: Vec::new(),
            batch_started: None,
            connected: false,
            attempt: 0,
            connected_at: None,
            saved: None,
            broker_reason: None,
            closing: None,
            disconnect_sent: false,
            finished: false,
            ended: false,
        }
    }

    fn emit(&self, event: Event) {
        self.sink.send(event);
    }

    fn state(&mut self, state: ConnectionState) {
        self.flush();
        self.emit(Event::State { id: self.id, state });
    }

    fn flush(&mut self) {
        self.batch_started = None;
        if !self.batch.is_empty() {
            let messages = std::mem::take(&mut self.batch);
            self.emit(Event::Messages {
                id: self.id,
                messages,
            });
        }
    }

    fn flush_deadline(&self) -> Option<Instant> {
        self.batch_started.map(|t| t + BATCH_WINDOW)
    }

    fn published(&self, token: u64, outcome: PublishOutcome) {
        self.emit(Event::Published {
            id: self.id,
            token,
            outcome,
        });
    }

    fn error(&self, message: String) {
        self.emit(Event::Error { id: self.id, message });
    }

    fn request_close(&mut self) {
        if self.closing.is_none() {
            self.closing = Some(Instant::now() + session::DISCONNECT_GRACE);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Connect { .. } => {}
            Command::Disconnect { .. } => self.request_close(),
            Command::Publish { token, message, .. } => self.publish(token, *message),
            Command::ClearRetained { token, topic, .. } => self.publish(
                token,
                OutgoingMessage {
                    topic,
                    payload: Bytes::new(),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    properties: Default::default(),
                },
            ),
            Command::Subscribe {
                subscriptions,
                subscription_id,
                ..
            } => self.subscribe(subscriptions, subscription_id),
            Command::Unsubscribe { filters, .. } => self.unsubscribe(filters),
        }
    }

    fn publish(&mut self, token: u64, message: OutgoingMessage) {
        if self.closing.is_some() {
            self.published(
                token,
                PublishOutcome::Failed("not sent: the connection is closing".into()),
            );
            return;
        }
        if let Err(e) = validate_topic_name(&message.topic) {
            self.published(token, PublishOutcome::Failed(format!("not sent: {e}")));
            return;
        }
        self.outbox.push_back((token, message));
    }

    fn subscribe(&mut self, subscriptions: Vec<Subscription>, subscription_id: Option<usize>) {
        let mut results = Vec::new();
        let mut valid = Vec::new();
        for sub in subscriptions {
            match validate_filter(&sub.filter) {
                Ok(()) => valid.push(sub),
                Err(e) => results.push(SubscribeResult {
                    filter: sub.filter.clone(),
                    granted: Err(format!("invalid topic filter, not sent: {e}")),
                }),
            }
        }
        if !results.is_empty() {
            let words: Vec<String> = results
                .iter()
                .map(|r| format!("`{}`: {}", r.filter, r.granted.as_ref().err().map_or("", |s| s)))
                .collect();
            self.error(words.join("; "));
            self.emit(Event::Subscribed { id: self.id, results });
        }
        if valid.is_empty() {
            return;
        }
        for sub in &valid {
            self.subs.retain(|(s, _)| s.filter != sub.filter);
            self.subs.push((sub.clone(), subscription_id));
        }
        if self.connected {
            self.send_subscribe(&valid, subscription_id);
        }
    }

    fn send_subscribe(&mut self, subs: &[Subscription], subscription_id: Option<usize>) {
        let Some(client) = &self.client else { return };
        let id = if self.version == crate::profiles::profile::MqttVersion::V5 {
            subscription_id
        } else {
            None
        };
        match client.try_subscribe(subs, id) {
            Ok(()) => self
                .sub_queue
                .push_back(subs.iter().map(|s| s.filter.clone()).collect()),
            Err(QueueError::Full) => {
                self.error("subscribe not sent: the request queue is full; try again".into())
            }
            Err(QueueError::Invalid(e)) => self.error(format!("subscribe not sent: {e}")),
        }
    }

    fn resubscribe(&mut self, only: Option<&[String]>) {
        let mut groups: Vec<(Option<usize>, Vec<Subscription>)> = Vec::new();
        for (sub, sid) in &self.subs {
            if only.is_some_and(|f| !f.contains(&sub.filter)) {
                continue;
            }
            match groups.iter_mut().find(|(g, _)| g == sid) {
                Some((_, list)) => list.push(sub.clone()),
                None => groups.push((*sid, vec![sub.clone()])),
            }
        }
        for (sid, list) in groups {
            self.send_subscribe(&list, sid);
        }
    }

    fn unsubscribe(&mut self, filters: Vec<String>) {
        self.subs.retain(|(s, _)| !filters.contains(&s.filter));
        if !self.connected {
            self.emit(Event::Unsubscribed { id: self.id, filters });
            return;
        }
        let Some(client) = &self.client else { return };
        for filter in filters {
            match client.try_unsubscribe(&filter) {
                Ok(()) => self.unsub_queue.push_back(vec![filter]),
                Err(_) => self.error(format!(
                    "unsubscribe from `{filter}` not sent: the request queue is full"
                )),
            }
        }
    }

    /// Hands queued publishes to rumqttc and starts the DISCONNECT once everything is acked.
    fn after_step(&mut self) {
        if self.connected
            && let Some(client) = &self.client
        {
            while let Some((token, message)) = self.outbox.front() {
                match client.try_publish(message) {
                    Ok(()) => {
                        self.queued.push_back((*token, message.qos));
                        self.outbox.pop_front();
                    }
                    Err(QueueError::Full) => break,
                    Err(QueueError::Invalid(e)) => {
                        let token = *token;
                        self.outbox.pop_front();
                        self.published(token, PublishOutcome::Failed(format!("not sent: {e}")));
                    }
                }
            }
        }
        if self.closing.is_some() {
            if !self.connected {
                self.finished = true;
            } else if !self.disconnect_sent
                && self.outbox.is_empty()
                && self.queued.is_empty()
                && self.inflight.is_empty()
                && let Some(client) = &self.client
            {
                self.disconnect_sent = client.try_disconnect().is_ok();
            }
        }
    }

    fn incoming(&mut self, incoming: Incoming, lp: &mut Loop) {
        match incoming {
            Incoming::ConnAck { session_present } => self.connected(session_present, lp),
            Incoming::Publish(message) => {
                if self.batch_started.is_none() {
                    self.batch_started = Some(Instant::now());
                }
                self.batch.push(message);
                if self.batch.len() >= BATCH_MAX {
                    self.flush();
                }
            }
            Incoming::SentPublish { pkid } => {
                if pkid != 0 && self.inflight.contains_key(&pkid) {
                    return; // a retransmission
                }
                if let Some((token, qos)) = self.queued.pop_front() {
                    if pkid == 0 || qos == QoS::AtMostOnce {
                        self.published(token, PublishOutcome::Sent);
                    } else {
                        self.inflight.insert(pkid, token);
                    }
                }
            }
            Incoming::PublishDone { pkid, refused } => {
                if let Some(token) = self.inflight.remove(&pkid) {
                    let outcome = match refused {
                        Some(why) => PublishOutcome::Failed(why),
                        None => PublishOutcome::Acknowledged,
                    };
                    self.published(token, outcome);
                }
            }
            Incoming::SentSubscribe { pkid } => {
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
                self.emit(Event::Subscribed { id: self.id, results });
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
            Incoming::Other => {}
        }
    }

    fn connected(&mut self, session_present: bool, lp: &mut Loop) {
        self.connected = true;
        // The attempt count restarts only once a connection proved stable (see `lost`), so a
        // broker that accepts and then drops us at once still exhausts the policy.
        self.connected_at = Some(Instant::now());
        self.broker_reason = None;
        if let Some(saved) = self.saved.take() {
            let restored = lp.restore_pending(saved, session_present);
            for pkid in restored.completed {
                if let Some(token) = self.inflight.remove(&pkid) {
                    self.published(token, PublishOutcome::Acknowledged);
                }
            }
            if !session_present {
                // Publishes are sent again as new messages: rebuild the order of their tokens.
                let mut order: VecDeque<(u64, QoS)> = VecDeque::new();
                for old_pkid in restored.publishes {
                    let token = if old_pkid == 0 {
                        self.queued.pop_front()
                    } else {
                        self.inflight.remove(&old_pkid).map(|t| (t, QoS::AtLeastOnce))
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
        });
    }

    async fn lost(&mut self, error: ConnectError, lp: &mut Loop, rx: &mut mpsc::UnboundedReceiver<Command>) {
        let was_connected = self.connected;
        if was_connected
            && self
                .connected_at
                .is_some_and(|t| t.elapsed() >= STABLE_CONNECTION)
        {
            self.attempt = 0;
        }
        self.connected = false;
        let taken = lp.take_pending();
        self.saved = Some(match self.saved.take() {
            Some(previous) => previous.merge(taken),
            None => taken,
        });
        if self.closing.is_some() {
            self.finished = true;
            return;
        }
        let error = match (&self.broker_reason, was_connected) {
            (Some(reason), true) => ConnectError::new(
                ErrorKind::ConnectionLost,
                format!("the broker closed the connection ({reason})"),
            ),
            _ => error,
        };
        if error.kind.is_permanent() {
            self.fail(error);
            return;
        }
        self.attempt += 1;
        let Some(delay) = self.policy.delay(self.attempt) else {
            let reason = if self.policy.enabled {
                ConnectError::new(
                    error.kind,
                    format!("gave up after {} attempts: {}", self.attempt - 1, error.message),
                )
            } else {
                error
            };
            self.fail(reason);
            return;
        };
        self.state(ConnectionState::Reconnecting {
            attempt: self.attempt,
            max_attempts: self.policy.max_attempts,
            next_in: delay,
            last_error: error,
        });
        let wake = Instant::now() + delay;
        loop {
            tokio::select! {
                () = sleep_until(wake) => break,
                cmd = rx.recv() => {
                    match cmd {
                        Some(cmd) => self.command(cmd),
                        None => self.request_close(),
                    }
                    if self.closing.is_some() {
                        self.finished = true;
                        return;
                    }
                }
            }
        }
    }

    /// Reports every publish that will never be delivered.
    fn fail_pending(&mut self, why: &str) {
        let tokens: Vec<u64> = self
            .outbox
            .drain(..)
            .map(|(t, _)| t)
            .chain(self.queued.drain(..).map(|(t, _)| t))
            .chain(self.inflight.drain().map(|(_, t)| t))
            .collect();
        for token in tokens {
            self.published(token, PublishOutcome::Failed(why.to_owned()));
        }
    }

    fn fail(&mut self, reason: ConnectError) {
        self.fail_pending(&format!("not delivered: {}", reason.message));
        self.state(ConnectionState::Failed { reason });
        self.finished = true;
        self.ended = true;
    }

    fn finish_closed(&mut self) {
        self.fail_pending("not delivered: the connection was closed before the broker acknowledged it");
        self.state(ConnectionState::Disconnected);
        self.ended = true;
    }
}

impl Saved {
    /// Appends requests saved later to those saved earlier.
    fn merge(self, later: Saved) -> Saved {
        match (self, later) {
            (Saved::V4(mut a), Saved::V4(b)) => {
                a.extend(b);
                Saved::V4(a)
            }
            (Saved::V5(mut a), Saved::V5(b)) => {
                a.extend(b);
                Saved::V5(a)
            }
            (a, _) => a,
        }
    }
}
