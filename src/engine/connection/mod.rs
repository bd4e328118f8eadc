//! The task behind one open connection: connect, subscribe, publish, batch messages, back off
//! and reconnect, and close gracefully. `incoming.rs` handles what the broker sends; `lost.rs`
//! what happens when a connection ends (version negotiation, reconnect policy, and the rules
//! that stop a broker's refusal-by-disconnect from looping forever).

mod incoming;
mod lost;
mod trace;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::session::{self, Client, QueueError, Saved};
use super::{
    Command, ConnectionId, ConnectionState, Event, EventSink, PublishOutcome, SubscribeResult, Token,
};
use crate::engine::options::{ConnectOptions, MqttVersion, Subscription};
use crate::model::message::{Message, OutgoingMessage, QoS};
use crate::model::topic::{validate_filter, validate_topic_name};

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
        let _ = self.tx.send(Command::Disconnect { id: ConnectionId(0) });
        let abort = self.join.abort_handle();
        if tokio::time::timeout(timeout, self.join).await.is_err() {
            abort.abort();
        }
    }
}

/// Starts a connection task; `previous` (same id) is closed first.
pub(crate) fn spawn(
    id: ConnectionId,
    options: ConnectOptions,
    sink: EventSink,
    previous: Option<Handle>,
) -> Handle {
    let (tx, rx) = mpsc::unbounded_channel();
    let join = tokio::spawn(async move {
        if let Some(previous) = previous {
            previous
                .close_and_wait(session::DISCONNECT_GRACE + Duration::from_secs(1))
                .await;
        }
        run(id, options, sink, rx).await;
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

async fn run(
    id: ConnectionId,
    options: ConnectOptions,
    sink: EventSink,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    let mut c = Conn::new(id, options, sink);
    c.fit_client_id();
    c.state(ConnectionState::Connecting);
    let (client, mut lp) = match session::open(&c.options, c.version) {
        Ok(pair) => pair,
        Err(reason) => {
            c.fail(reason);
            return;
        }
    };
    c.client = Some(client);
    let mut fast_streak = 0;
    loop {
        if c.owed > 0 {
            c.wait_for_budget(&mut rx).await;
        }
        let result = {
            c.trace_connect();
            let poll = lp.poll(c.tracer.level.clone());
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
            Some((Ok(incoming), traced)) => {
                c.trace(traced);
                c.incoming(incoming, &mut lp);
            }
            Some((Err(error), traced)) => {
                c.trace(traced);
                c.lost(error, &mut lp, &mut rx).await;
            }
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
    /// The settings, kept to open the client again with another version while negotiating.
    options: ConnectOptions,
    policy: crate::engine::backoff::ReconnectPolicy,
    /// The versions to try (Auto's three, or the pinned one) and the one being tried.
    candidates: &'static [MqttVersion],
    candidate: usize,
    /// The version of the current client (never `Auto`).
    version: MqttVersion,
    /// Whether a broker ever accepted us: then the version is settled for good.
    settled: bool,
    /// Why earlier versions were passed over, for the user ("the broker refused MQTT 5.0").
    negotiation: Vec<String>,
    /// Explicit version refusals seen while negotiating: only if every version was refused
    /// explicitly is giving up final.
    refusals: u8,
    /// The configured client id (MQTT 3.1 may replace it with a short one).
    original_client_id: String,
    client: Option<Client>,
    /// Active subscriptions with their MQTT 5 subscription identifier.
    subs: Vec<(Subscription, Option<usize>)>,
    /// Filters of each SUBSCRIBE queued but not yet written, in order.
    sub_queue: VecDeque<Vec<String>>,
    /// Filters of each SUBSCRIBE written, by packet id.
    sub_waiting: HashMap<u16, Vec<String>>,
    /// How often the connection closed while a filter waited for its SUBACK (see `lost.rs`).
    sub_strikes: HashMap<String, u8>,
    /// Suspect filters, subscribed one SUBSCRIBE at a time so a closing broker names the one
    /// it refuses; `probing` while one of them waits for its SUBACK.
    probe: VecDeque<(Subscription, Option<usize>)>,
    /// The suspect filter waiting for its SUBACK, alone.
    probing: Option<String>,
    /// When the last SUBSCRIBE was written: a close soon after it is what makes a suspect.
    subscribed_at: Option<Instant>,
    unsub_queue: VecDeque<Vec<String>>,
    unsub_waiting: HashMap<u16, Vec<String>>,
    /// Publishes not yet handed to rumqttc.
    outbox: VecDeque<(Token, OutgoingMessage)>,
    /// Publishes handed to rumqttc, not yet written, in order.
    queued: VecDeque<(Token, QoS)>,
    /// QoS 1/2 publishes written and awaiting their acknowledgement, by packet id, with the
    /// time they were written.
    inflight: HashMap<u16, (Token, Instant)>,
    /// How often the connection closed right after a publish was written, by token.
    publish_strikes: HashMap<Token, u8>,
    batch: Vec<Message>,
    batch_started: Option<Instant>,
    /// Queue budget (bytes) a message already read still owes: nothing more is read from the
    /// socket until the consumer has made room for it.
    owed: u32,
    connected: bool,
    /// Reconnect attempt about to be made: consecutive failures to connect, from 0 at every
    /// CONNACK. Only these count against the policy's limit.
    attempt: u32,
    /// Consecutive connections that died right after CONNACK: they grow the delay (so a
    /// broker that accepts and drops us is not hammered) but never make us give up.
    short_lived: u32,
    /// When the current (or last) connection was established.
    connected_at: Option<Instant>,
    saved: Option<Saved>,
    broker_reason: Option<String>,
    /// Deadline of a graceful disconnect in progress.
    closing: Option<Instant>,
    /// Packet tracing for the protocol timeline (`trace.rs`).
    tracer: trace::Tracer,
    disconnect_sent: bool,
    finished: bool,
    ended: bool,
}

impl Conn {
    fn new(id: ConnectionId, options: ConnectOptions, sink: EventSink) -> Self {
        let candidates = options.version.candidates();
        let trace_level = options.trace;
        Self {
            id,
            sink,
            policy: options.reconnect,
            candidates,
            candidate: 0,
            version: candidates[0],
            settled: false,
            negotiation: Vec::new(),
            refusals: 0,
            original_client_id: options.client_id.clone(),
            client: None,
            subs: options.subscriptions.iter().map(|s| (s.clone(), None)).collect(),
            options,
            sub_queue: VecDeque::new(),
            sub_waiting: HashMap::new(),
            sub_strikes: HashMap::new(),
            probe: VecDeque::new(),
            probing: None,
            subscribed_at: None,
            unsub_queue: VecDeque::new(),
            unsub_waiting: HashMap::new(),
            outbox: VecDeque::new(),
            queued: VecDeque::new(),
            inflight: HashMap::new(),
            publish_strikes: HashMap::new(),
            batch: Vec::new(),
            batch_started: None,
            owed: 0,
            connected: false,
            attempt: 0,
            short_lived: 0,
            connected_at: None,
            saved: None,
            broker_reason: None,
            closing: None,
            tracer: trace::Tracer::new(trace_level),
            disconnect_sent: false,
            finished: false,
            ended: false,
        }
    }

    /// Waits until the consumer made room for the message that overdrew the queue budget,
    /// serving commands meanwhile. The socket is not read: TCP pushes back on the broker.
    async fn wait_for_budget(&mut self, rx: &mut mpsc::UnboundedReceiver<Command>) {
        // The consumer can only give budget back for messages it has been handed.
        self.flush();
        let budget = self.sink.budget.clone();
        let owed = std::mem::take(&mut self.owed);
        if self.closing.is_none() {
            let take = budget.take(owed);
            tokio::pin!(take);
            loop {
                tokio::select! {
                    () = &mut take => return,
                    cmd = rx.recv() => match cmd {
                        Some(cmd) => self.command(cmd),
                        None => self.request_close(),
                    },
                }
                if self.closing.is_some() {
                    break;
                }
            }
        }
        // A graceful close needs the event loop polled, so it goes on over budget; the debt
        // is paid later (the consumer gives it back when it takes the message), so the
        // budget stays what it was.
        tokio::spawn(async move { budget.take(owed).await });
    }

    fn emit(&self, event: Event) {
        self.sink.send(event);
    }

    fn state(&mut self, state: ConnectionState) {
        // Stamped here, in order with the packets: a reader stamping the event when it gets
        // it would put "connecting" after the CONNECT it caused.
        self.trace_state(&state);
        self.flush();
        self.emit(Event::State { id: self.id, state });
    }

    fn flush(&mut self) {
        self.batch_started = None;
        self.flush_trace();
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

    fn published(&self, token: Token, outcome: PublishOutcome) {
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
            // Only a reconnect wait acts on RetryNow (see `lost.rs`).
            Command::Connect { .. } | Command::RetryNow { .. } => {}
            Command::Trace { level, .. } => self.tracer.level.set(level),
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

    fn publish(&mut self, token: Token, message: OutgoingMessage) {
        if self.closing.is_some() {
            self.published(token, PublishOutcome::Failed("the connection is closing".into()));
            return;
        }
        if let Err(e) = validate_topic_name(&message.topic) {
            self.published(token, PublishOutcome::Failed(e.to_string()));
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
        let id = if self.version == MqttVersion::V5 {
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

    /// Subscribes again after a CONNACK (`only` those filters, or all). Filters under
    /// suspicion of making the broker close the connection are sent one per SUBSCRIBE.
    fn resubscribe(&mut self, only: Option<&[String]>) {
        self.probe.clear();
        self.probing = None;
        let mut groups: Vec<(Option<usize>, Vec<Subscription>)> = Vec::new();
        for (sub, sid) in &self.subs {
            if only.is_some_and(|f| !f.contains(&sub.filter)) {
                continue;
            }
            if self.sub_strikes.contains_key(&sub.filter) {
                self.probe.push_back((sub.clone(), *sid));
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
        self.probe_next();
    }

    /// Subscribes to the next suspect filter, alone, once the previous one was answered.
    fn probe_next(&mut self) {
        if self.probing.is_some() {
            return;
        }
        if let Some((sub, sid)) = self.probe.pop_front() {
            self.send_subscribe(std::slice::from_ref(&sub), sid);
            self.probing = Some(sub.filter);
        }
    }

    fn unsubscribe(&mut self, filters: Vec<String>) {
        self.subs.retain(|(s, _)| !filters.contains(&s.filter));
        self.sub_strikes.retain(|f, _| !filters.contains(f));
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
                        self.tracer.queued(*token, message);
                        self.queued.push_back((*token, message.qos));
                        self.outbox.pop_front();
                    }
                    Err(QueueError::Full) => break,
                    Err(QueueError::Invalid(e)) => {
                        let token = *token;
                        self.outbox.pop_front();
                        self.published(token, PublishOutcome::Failed(e.to_string()));
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
}
