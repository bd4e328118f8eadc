//! When a connection ends: version negotiation, the reconnect policy, and the rules that keep
//! a broker which refuses something by closing the connection (instead of a reason code) from
//! looping forever: a filter or a publish that is followed by the connection closing twice is
//! dropped and reported, the rest of the session goes on.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::Conn;
use crate::engine::errors::{ConnectError, ErrorKind};
use crate::engine::options::MqttVersion;
use crate::engine::session::{self, Loop, Saved};
use crate::engine::{Command, ConnectionState, Event, PublishOutcome, SubscribeResult, Token};

/// A connection that ends sooner than this after CONNACK "died right after connecting": it
/// grows the reconnect delay (a broker that accepts and drops us is not hammered), but it is
/// not a failure to connect, so it never makes us give up.
const SHORT_LIVED: Duration = Duration::from_secs(1);

/// A publish counts as the reason the connection closed if it was written this recently.
const PUBLISH_SUSPECT: Duration = Duration::from_secs(1);

/// A filter is a suspect if the connection closed this soon after a SUBSCRIBE was written.
const SUBSCRIBE_SUSPECT: Duration = Duration::from_secs(1);

/// Times the connection may close right after the same filter or publish before it is
/// dropped as refused.
const STRIKES: u8 = 2;

impl Conn {
    pub(super) async fn lost(
        &mut self,
        error: ConnectError,
        lp: &mut Loop,
        rx: &mut mpsc::UnboundedReceiver<Command>,
    ) {
        let was_connected = self.connected;
        self.connected = false;
        // The next poll opens a new network connection, with its own CONNECT.
        self.tracer.connect_due = true;
        let mut taken = lp.take_pending();
        if was_connected {
            // Only a close by the broker can be its answer to a SUBSCRIBE or PUBLISH (not a
            // ping timeout, a stall or a network error).
            if error.kind == ErrorKind::ConnectionLost {
                self.strike_subscriptions();
                self.strike_publishes(&mut taken);
            }
            let lived = self.connected_at.map_or(Duration::ZERO, |t| t.elapsed());
            // A broker that sends us away (session taken over, not authorised...) slows the
            // retries however long the link lived, so two clients with one id do not fight
            // once a second forever.
            let sent_away = self.broker_reason.is_some();
            self.short_lived = if lived < SHORT_LIVED || sent_away {
                self.short_lived + 1
            } else {
                0
            };
        }
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
        if !was_connected && !self.settled {
            match self.negotiate(&error, lp) {
                Negotiation::NextVersion => return,
                Negotiation::Exhausted(reason) => {
                    self.fail(reason);
                    return;
                }
                Negotiation::NotAboutVersion => {
                    // Not the version's fault (or not clearly): start again from the first
                    // version at the next attempt, so a broker unreachable at first is not
                    // pinned to an older version for good.
                    if let Err(reason) = self.restart_negotiation(lp) {
                        self.fail(reason);
                        return;
                    }
                }
            }
        }
        if error.kind.is_permanent() {
            self.fail(error);
            return;
        }
        // `attempt` restarts at every CONNACK, so only consecutive failures to connect count.
        self.attempt += 1;
        let attempt = self.attempt;
        if !self.policy.enabled || (self.policy.max_attempts != 0 && attempt > self.policy.max_attempts) {
            let reason = if self.policy.enabled {
                let n = attempt - 1;
                ConnectError::new(
                    error.kind,
                    format!(
                        "gave up after {n} failed {}: {}",
                        if n == 1 { "attempt" } else { "attempts" },
                        error.message
                    ),
                )
            } else {
                error
            };
            self.fail(reason);
            return;
        }
        // The limit was checked above; the delay grows with failures and with short lives.
        let unlimited = crate::engine::backoff::ReconnectPolicy {
            max_attempts: 0,
            ..self.policy
        };
        let delay = unlimited
            .delay(attempt.max(self.short_lived + 1))
            .unwrap_or(Duration::ZERO);
        self.state(ConnectionState::Reconnecting {
            attempt,
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
                        Some(Command::RetryNow { .. }) => break,
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

    /// Before any CONNACK: moves on to the next protocol version when the broker's answer
    /// looks like a version refusal. Three shapes are seen in the wild: a proper refusal
    /// (3.1.1 return code 1, MQTT 5 reason 0x84; aedes, amqtt, mosquitto), the socket closed
    /// with no CONNACK (RabbitMQ to MQTT 5, amqtt to 3.1), and no answer at all (amqtt to
    /// MQTT 5, sometimes); a CONNACK that cannot be read in the version offered counts too.
    fn negotiate(&mut self, error: &ConnectError, lp: &mut Loop) -> Negotiation {
        let tried = self.version.label();
        let shape = match error.kind {
            ErrorKind::UnsupportedVersion => format!("the broker refused {tried}"),
            ErrorKind::ConnectionLost => format!("the broker closed the connection when offered {tried}"),
            ErrorKind::ProtocolViolation => {
                format!("the broker answered {tried} with a packet it cannot mean for it")
            }
            ErrorKind::Timeout if self.version == MqttVersion::V5 && self.candidates.len() > 1 => {
                format!("the broker did not answer {tried}")
            }
            _ => return Negotiation::NotAboutVersion,
        };
        if error.kind == ErrorKind::UnsupportedVersion {
            self.refusals += 1;
        }
        let Some(&next) = self.candidates.get(self.candidate + 1) else {
            if self.candidates.len() == 1 {
                // A pinned version: refused is final, in plain words; other shapes retry.
                return if error.kind == ErrorKind::UnsupportedVersion {
                    Negotiation::Exhausted(ConnectError::new(
                        ErrorKind::UnsupportedVersion,
                        format!("the broker does not accept {tried}; choose Auto or another MQTT version"),
                    ))
                } else {
                    Negotiation::NotAboutVersion
                };
            }
            self.negotiation.push(shape);
            if usize::from(self.refusals) < self.candidates.len() {
                // Some answers were only closes or silences: maybe not about the version at
                // all (a broker at its connection limit, a proxy with no backend). Retry.
                return Negotiation::NotAboutVersion;
            }
            return Negotiation::Exhausted(ConnectError::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "the broker accepts none of MQTT 5.0, 3.1.1 and 3.1 ({})",
                    self.negotiation.join("; ")
                ),
            ));
        };
        self.negotiation.push(shape);
        self.candidate += 1;
        self.version = next;
        self.fit_client_id();
        match session::open(&self.options, next) {
            Ok((client, new_loop)) => {
                self.client = Some(client);
                *lp = new_loop;
                // Nothing was sent on a connection that was never accepted.
                self.saved = None;
                Negotiation::NextVersion
            }
            Err(reason) => Negotiation::Exhausted(reason),
        }
    }

    /// Back to the first candidate version (a new client), forgetting what was tried.
    fn restart_negotiation(&mut self, lp: &mut Loop) -> Result<(), ConnectError> {
        if self.candidate == 0 {
            return Ok(());
        }
        self.candidate = 0;
        self.version = self.candidates[0];
        self.negotiation.clear();
        self.refusals = 0;
        self.options.client_id.clone_from(&self.original_client_id);
        let (client, new_loop) = session::open(&self.options, self.version)?;
        self.client = Some(client);
        *lp = new_loop;
        self.saved = None;
        Ok(())
    }

    /// MQTT 3.1 allows client ids of 1 to 23 characters: a longer or empty one is replaced
    /// by a short random id, and the user is told.
    pub(super) fn fit_client_id(&mut self) {
        if self.version == MqttVersion::V31
            && let Some(id) = session::v31_client_id(&self.options.client_id)
        {
            self.negotiation
                .push(format!("client id `{id}` (MQTT 3.1 allows 1 to 23 characters)"));
            self.options.client_id = id;
        }
    }

    /// Filters that were waiting for their SUBACK when the connection closed are suspects.
    /// A suspect is subscribed alone next time; alone and closed on again, it is dropped from
    /// the session with a notice, and the other subscriptions go on (rumqttd closes the
    /// connection of a client subscribing to `$SYS/#`).
    fn strike_subscriptions(&mut self) {
        if self
            .subscribed_at
            .is_none_or(|at| at.elapsed() > SUBSCRIBE_SUSPECT)
        {
            return;
        }
        let pending: Vec<String> = self.sub_waiting.values().flatten().cloned().collect();
        let [filter] = pending.as_slice() else {
            for filter in pending {
                self.sub_strikes.entry(filter).or_insert(1);
            }
            return;
        };
        let strikes = self.sub_strikes.entry(filter.clone()).or_insert(0);
        *strikes += 1;
        if *strikes < STRIKES {
            return;
        }
        let filter = filter.clone();
        self.sub_strikes.remove(&filter);
        self.subs.retain(|(s, _)| s.filter != filter);
        let why =
            "the broker closes the connection whenever this filter is subscribed; dropped from this session";
        self.error(format!(
            "subscription `{filter}`: {why} (the other subscriptions go on)"
        ));
        self.emit(Event::Subscribed {
            id: self.id,
            results: vec![SubscribeResult {
                filter,
                granted: Err(why.into()),
            }],
        });
    }

    /// QoS 1/2 publishes written just before the connection closed are suspects; one that is
    /// followed by the connection closing twice is reported failed at once and not sent again
    /// (instead of being resent through every reconnect).
    fn strike_publishes(&mut self, saved: &mut Saved) {
        let suspects: Vec<(u16, Token)> = self
            .inflight
            .iter()
            .filter(|(_, (_, at))| at.elapsed() < PUBLISH_SUSPECT)
            .map(|(pkid, (token, _))| (*pkid, *token))
            .collect();
        // Only a lone publish can be blamed: with several in flight the close may be about
        // any of them (or none), and failing good messages would be worse than resending.
        if suspects.len() != 1 {
            return;
        }
        for (pkid, token) in suspects {
            let strikes = self.publish_strikes.entry(token).or_insert(0);
            *strikes += 1;
            if *strikes >= STRIKES {
                self.publish_strikes.remove(&token);
                self.inflight.remove(&pkid);
                saved.drop_publish(pkid);
                self.published(
                    token,
                    PublishOutcome::Failed(
                        "the broker closed the connection each time it received this message (is the topic allowed, the payload too large?); not sent again".into(),
                    ),
                );
            }
        }
    }

    /// Reports every publish that will never be delivered.
    fn fail_pending(&mut self, why: &str) {
        self.publish_strikes.clear();
        let tokens: Vec<Token> = self
            .outbox
            .drain(..)
            .map(|(t, _)| t)
            .chain(self.queued.drain(..).map(|(t, _)| t))
            .chain(self.inflight.drain().map(|(_, (t, _))| t))
            .collect();
        for token in tokens {
            self.published(token, PublishOutcome::Failed(why.to_owned()));
        }
    }

    pub(super) fn fail(&mut self, reason: ConnectError) {
        self.fail_pending(&reason.message);
        self.state(ConnectionState::Failed { reason });
        self.finished = true;
        self.ended = true;
    }

    pub(super) fn finish_closed(&mut self) {
        self.fail_pending("the connection was closed before the broker acknowledged it");
        self.state(ConnectionState::Disconnected);
        self.ended = true;
    }
}

impl Saved {
    /// Drops the saved publish with this packet id (one the broker will never accept).
    fn drop_publish(&mut self, pkid: u16) {
        match self {
            Saved::V4(requests) => {
                requests.retain(|r| !matches!(r, rumqttc::Request::Publish(p) if p.pkid == pkid))
            }
            Saved::V5(requests) => {
                requests.retain(|r| !matches!(r, rumqttc::v5::Request::Publish(p) if p.pkid == pkid))
            }
        }
    }

    /// Appends requests saved later to those saved earlier.
    pub(super) fn merge(self, later: Saved) -> Saved {
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

/// What negotiation made of a failure to connect.
enum Negotiation {
    /// A new client for the next version is ready: connect again at once.
    NextVersion,
    /// Every version was refused (or a pinned one was): give up with this reason.
    Exhausted(ConnectError),
    /// The failure has nothing to do with the version: the reconnect policy applies.
    NotAboutVersion,
}
