//! Under pressure, against a real mosquitto: a consumer that stops reading (backpressure keeps
//! the queue within its budget, nothing is lost or reordered) and a flapping broker (every
//! reconnect made, never given up on while it accepts us).

use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy::engine::{Command, ConnectionId, ConnectionState, Engine, Event, PublishOutcome, Token};
use canopy::model::message::{OutgoingMessage, QoS};
use canopy::profiles::profile::Subscription;

use crate::common::{Broker, Client};

const MESSAGES: usize = 3000;
const PAYLOAD: usize = 1024;

#[test]
fn a_consumer_that_stops_reading_holds_the_queue_to_its_budget_and_loses_nothing() {
    let broker = Broker::start();
    let limit = 128 * 1024;
    let mut reader = Client {
        engine: Engine::with_queue_limit(Arc::new(|| {}), limit).expect("engine"),
        events: Vec::new(),
    };
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("bp/#", QoS::AtLeastOnce)];
    reader.connect(1, p);
    reader.wait_connected(1);
    reader.wait_subscribed(1, 1);

    let mut writer = Client::new();
    writer.connect(1, broker.tcp_profile());
    writer.wait_connected(1);
    for seq in 0..MESSAGES {
        let mut payload = format!("{seq:08}").into_bytes();
        payload.resize(PAYLOAD, b'.');
        writer.send(Command::Publish {
            id: ConnectionId(1),
            token: Token(seq as u64),
            message: Box::new(OutgoingMessage {
                topic: "bp/seq".into(),
                payload: payload.into(),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Default::default(),
            }),
        });
    }
    writer.wait_outcome(1, MESSAGES as u64 - 1);
    assert!(
        (0..MESSAGES as u64).all(|t| writer.outcome(1, t) == Some(PublishOutcome::Acknowledged)),
        "the broker took every message"
    );

    // The reader has not read for a while: what waits for it is within the budget (plus the
    // one message that found it spent), however much the broker has for it.
    std::thread::sleep(Duration::from_millis(1500));
    let mut queued = Vec::new();
    while let Some(event) = reader.engine.try_recv() {
        queued.push(event);
    }
    let waiting: Vec<_> = queued
        .iter()
        .filter_map(|e| match e {
            Event::Messages { messages, .. } => Some(messages.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    let bytes: usize = waiting
        .iter()
        .map(|m| m.topic.len() + m.payload.len() + 160)
        .sum();
    assert!(
        bytes <= limit + PAYLOAD + 200,
        "{bytes} bytes were queued for a consumer that did not read (budget {limit})"
    );
    assert!(
        waiting.len() < MESSAGES,
        "backpressure never held the engine back"
    );
    reader.events.extend(queued);

    // Reading again, every message arrives, once, in order.
    reader.wait_messages(1, "bp/seq", MESSAGES);
    let seqs: Vec<usize> = reader
        .messages(1)
        .iter()
        .map(|m| {
            std::str::from_utf8(&m.payload[..8])
                .expect("utf-8")
                .parse()
                .expect("sequence number")
        })
        .collect();
    assert_eq!(seqs, (0..MESSAGES).collect::<Vec<_>>());
}

fn connects(c: &Client) -> usize {
    c.states(Some(1))
        .iter()
        .filter(|s| matches!(s, ConnectionState::Connected { .. }))
        .count()
}

/// A broker up for a few seconds at a time: every reconnect is made, and since each one
/// succeeds, a small attempt limit never runs out.
#[test]
fn a_flapping_broker_is_reconnected_to_every_time_and_never_given_up_on() {
    let mut broker = Broker::start();
    let mut p = broker.tcp_profile();
    // Fewer attempts than flaps: only failures to connect may count against them.
    p.reconnect.max_attempts = 3;
    p.reconnect.first_delay_ms = 500;
    p.subscriptions = vec![Subscription::new("flap/#", QoS::AtLeastOnce)];
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_connected(1);
    const FLAPS: usize = 6;
    for flap in 1..=FLAPS {
        broker.kill();
        std::thread::sleep(Duration::from_millis(300));
        broker.restart();
        let up = Instant::now();
        c.wait_until(
            &format!("reconnect {flap} of {FLAPS}"),
            Duration::from_secs(8),
            |events| {
                events
                    .iter()
                    .filter(|e| {
                        matches!(
                            e,
                            Event::State {
                                state: ConnectionState::Connected { .. },
                                ..
                            }
                        )
                    })
                    .count()
                    > flap
            },
        );
        assert_eq!(connects(&c), flap + 1);
        // The broker stays up 2 to 3 s in all, then goes down again.
        let stay = Duration::from_millis(2000 + 200 * (flap as u64 % 5));
        std::thread::sleep(stay.saturating_sub(up.elapsed()));
    }
    assert!(
        !c.states(Some(1)).iter().any(ConnectionState::is_final),
        "gave up"
    );
}
