//! A blocking driver over the [`Engine`] for the probe: it files every event by connection, so
//! each step can wait for "the SUBACK of this connection" or "a message on this topic" with a
//! deadline, while several probe connections are open on the one engine.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{
    BrokerCapabilities, Command, ConnectError, ConnectionId, ConnectionState, Engine, ErrorKind, Event,
    PublishOutcome, SubscribeResult, Token,
};
use crate::model::message::{Message, OutgoingMessage, QoS};
use crate::profiles::profile::{Profile, Subscription};

/// Messages kept per connection while nobody looks at them; older ones are dropped, so a
/// broker flooding `$SYS/#` cannot grow the probe's memory.
const INBOX_MAX: usize = 20_000;

/// Time allowed for a graceful disconnect before the probe moves on.
const DISCONNECT_WAIT: Duration = Duration::from_secs(3);

/// What a successful connection reported.
#[derive(Debug, Clone)]
pub(crate) struct Connected {
    pub session_present: bool,
    pub capabilities: Option<Box<BrokerCapabilities>>,
}

/// Why a wait ended without what it waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missed {
    /// The deadline passed.
    TimedOut,
    /// The connection ended: why, in words.
    Lost(String),
}

impl std::fmt::Display for Missed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missed::TimedOut => f.write_str("no answer in time"),
            Missed::Lost(why) => write!(f, "the broker closed the connection ({why})"),
        }
    }
}

#[derive(Default)]
struct Conn {
    inbox: VecDeque<Message>,
    subacks: VecDeque<Vec<SubscribeResult>>,
    /// Outcomes of tracked publishes not yet taken.
    outcomes: HashMap<Token, PublishOutcome>,
    /// The latest state; `None` before the first.
    state: Option<ConnectionState>,
}

pub(crate) struct Driver {
    engine: Engine,
    conns: HashMap<ConnectionId, Conn>,
    next_token: u64,
    /// Publishes whose outcome someone will ask for. The others (a throughput burst sends
    /// millions) have their outcomes dropped: what counts there is whether the message came
    /// back.
    tracked: HashSet<Token>,
}

impl Driver {
    pub(crate) fn start() -> std::io::Result<Self> {
        Ok(Self {
            engine: Engine::start(Arc::new(|| {}))?,
            conns: HashMap::new(),
            next_token: 0,
            tracked: HashSet::new(),
        })
    }

    /// Takes the next event (waiting until `until` at most) and files it; false if none came.
    pub(crate) fn pump(&mut self, until: Instant) -> bool {
        let left = until.saturating_duration_since(Instant::now());
        let Some(event) = self.engine.recv_timeout(left) else {
            return false;
        };
        self.file(event);
        true
    }

    /// Files every event already queued, without waiting.
    pub(crate) fn pump_ready(&mut self) {
        while let Some(event) = self.engine.try_recv() {
            self.file(event);
        }
    }

    fn file(&mut self, event: Event) {
        match event {
            Event::State { id, state } => self.conns.entry(id).or_default().state = Some(state),
            Event::Messages { id, messages } => {
                let inbox = &mut self.conns.entry(id).or_default().inbox;
                inbox.extend(messages);
                let excess = inbox.len().saturating_sub(INBOX_MAX);
                inbox.drain(..excess);
            }
            Event::Published { id, token, outcome } => {
                if self.tracked.remove(&token) {
                    self.conns.entry(id).or_default().outcomes.insert(token, outcome);
                }
            }
            Event::Subscribed { id, results } => self.conns.entry(id).or_default().subacks.push_back(results),
            Event::Unsubscribed { .. } | Event::Error { .. } | Event::Trace { .. } => {}
        }
    }

    /// Why connection `id` is gone, if it is.
    fn lost(&self, id: ConnectionId) -> Option<Missed> {
        match self.conns.get(&id).and_then(|c| c.state.as_ref()) {
            Some(ConnectionState::Failed { reason }) => Some(Missed::Lost(reason.message.clone())),
            Some(ConnectionState::Reconnecting { last_error, .. }) => {
                Some(Missed::Lost(last_error.message.clone()))
            }
            Some(ConnectionState::Disconnected) => Some(Missed::Lost("disconnected".into())),
            _ => None,
        }
    }

    /// Opens connection `id` and waits for its CONNACK (or the reason it failed). The profile
    /// should have reconnecting turned off: a probe connection that fails is an answer.
    pub(crate) fn connect(
        &mut self,
        id: ConnectionId,
        profile: Profile,
        until: Instant,
    ) -> Result<Connected, ConnectError> {
        self.conns.insert(id, Conn::default());
        self.engine.send(Command::Connect {
            id,
            options: Box::new(profile.connect_options()),
        });
        loop {
            match self.conns.get(&id).and_then(|c| c.state.clone()) {
                Some(ConnectionState::Connected {
                    session_present,
                    capabilities,
                    ..
                }) => {
                    return Ok(Connected {
                        session_present,
                        capabilities,
                    });
                }
                Some(ConnectionState::Failed { reason }) => return Err(reason),
                Some(ConnectionState::Reconnecting { last_error, .. }) => {
                    self.engine.send(Command::Disconnect { id });
                    return Err(last_error);
                }
                _ => {}
            }
            if !self.pump(until) && Instant::now() >= until {
                self.engine.send(Command::Disconnect { id });
                return Err(ConnectError::new(
                    ErrorKind::Timeout,
                    "the broker did not answer in time",
                ));
            }
        }
    }

    /// Closes connection `id` gracefully (bounded wait).
    pub(crate) fn disconnect(&mut self, id: ConnectionId) {
        if self.lost(id).is_some() || !self.conns.contains_key(&id) {
            return;
        }
        self.engine.send(Command::Disconnect { id });
        let until = Instant::now() + DISCONNECT_WAIT;
        while !matches!(self.conns.get(&id).and_then(|c| c.state.as_ref()), Some(s) if s.is_final()) {
            if !self.pump(until) {
                break;
            }
        }
        self.conns.remove(&id);
    }

    /// Subscribes `filter` alone and waits for the broker's answer.
    pub(crate) fn subscribe(
        &mut self,
        id: ConnectionId,
        filter: &str,
        qos: QoS,
        subscription_id: Option<usize>,
        until: Instant,
    ) -> Result<Result<QoS, String>, Missed> {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.subacks.clear();
        }
        self.engine.send(Command::Subscribe {
            id,
            subscriptions: vec![Subscription::new(filter, qos)],
            subscription_id,
        });
        loop {
            let answer = self.conns.get_mut(&id).and_then(|c| c.subacks.pop_front());
            if let Some(results) = answer
                && let Some(r) = results.into_iter().find(|r| r.filter == filter)
            {
                return Ok(r.granted);
            }
            self.wait_step(id, until)?;
        }
    }

    /// Queues a publish and returns its token (the outcome comes later: [`Driver::outcome`]).
    pub(crate) fn publish(&mut self, id: ConnectionId, message: OutgoingMessage) -> Token {
        let token = self.new_token();
        self.tracked.insert(token);
        self.engine.send(Command::Publish {
            id,
            token,
            message: Box::new(message),
        });
        token
    }

    fn new_token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    /// Queues a publish whose outcome nobody waits for (it is dropped when it comes).
    pub(crate) fn publish_untracked(&mut self, id: ConnectionId, message: OutgoingMessage) {
        let token = self.new_token();
        self.engine.send(Command::Publish {
            id,
            token,
            message: Box::new(message),
        });
    }

    /// Queues the deletion of a retained message (an empty retained publish at QoS 1).
    pub(crate) fn clear_retained(&mut self, id: ConnectionId, topic: &str) -> Token {
        let token = self.new_token();
        self.tracked.insert(token);
        self.engine.send(Command::ClearRetained {
            id,
            token,
            topic: topic.to_owned(),
        });
        token
    }

    /// Takes the outcome of a publish if it has arrived.
    pub(crate) fn take_outcome(&mut self, id: ConnectionId, token: Token) -> Option<PublishOutcome> {
        self.conns.get_mut(&id).and_then(|c| c.outcomes.remove(&token))
    }

    /// Waits for the outcome of a publish.
    pub(crate) fn outcome(
        &mut self,
        id: ConnectionId,
        token: Token,
        until: Instant,
    ) -> Result<PublishOutcome, Missed> {
        loop {
            if let Some(outcome) = self.take_outcome(id, token) {
                return Ok(outcome);
            }
            self.wait_step(id, until)?;
        }
    }

    /// Waits for the first message on `id` that `want` accepts and takes it out of the inbox
    /// (messages it passes over are dropped: each step subscribes to its own topics).
    pub(crate) fn message(
        &mut self,
        id: ConnectionId,
        until: Instant,
        mut want: impl FnMut(&Message) -> bool,
    ) -> Result<Message, Missed> {
        loop {
            if let Some(conn) = self.conns.get_mut(&id) {
                while let Some(m) = conn.inbox.pop_front() {
                    if want(&m) {
                        return Ok(m);
                    }
                }
            }
            self.wait_step(id, until)?;
        }
    }

    /// Takes every message received on `id` so far.
    pub(crate) fn drain_messages(&mut self, id: ConnectionId) -> VecDeque<Message> {
        self.conns
            .get_mut(&id)
            .map(|c| std::mem::take(&mut c.inbox))
            .unwrap_or_default()
    }

    /// Waits for one more event, failing when the connection is gone or time is up.
    pub(crate) fn wait_step(&mut self, id: ConnectionId, until: Instant) -> Result<(), Missed> {
        if let Some(lost) = self.lost(id) {
            return Err(lost);
        }
        if !self.pump(until) && Instant::now() >= until {
            return Err(Missed::TimedOut);
        }
        match self.lost(id) {
            Some(lost) => Err(lost),
            None => Ok(()),
        }
    }

    /// Whether connection `id` is open.
    pub(crate) fn is_connected(&self, id: ConnectionId) -> bool {
        matches!(
            self.conns.get(&id).and_then(|c| c.state.as_ref()),
            Some(ConnectionState::Connected { .. })
        )
    }
}
