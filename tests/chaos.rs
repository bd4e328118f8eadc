//! Chaos: a QoS 1 publisher with sequence numbers and a kept-session subscriber, while mosquitto
//! (saving its state on every change) is killed with SIGKILL and restarted again and again at
//! random moments. Nothing acknowledged may be lost; duplicates are allowed by QoS 1 and
//! counted; every kill is followed by a reconnect of both clients. `scripts/chaos.sh` runs a
//! longer version against the CLI.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy::engine::backoff::ReconnectPolicy;
use canopy::engine::{Command, ConnectionId, ConnectionState, Engine, Event, PublishOutcome, Token};
use canopy::model::message::{OutgoingMessage, QoS};
use canopy::profiles::profile::{Profile, Subscription};
use rand::Rng;

use crate::common::Broker;

const KILLS: usize = 20;

/// Everything one engine reported that the chaos test counts.
#[derive(Default)]
struct Tally {
    connects: usize,
    outcomes: HashMap<u64, PublishOutcome>,
    received: HashMap<u64, usize>,
    failed: bool,
}

impl Tally {
    fn drain(&mut self, engine: &Engine) {
        while let Some(event) = engine.try_recv() {
            match event {
                Event::State { state, .. } => match state {
                    ConnectionState::Connected { .. } => self.connects += 1,
                    s if s.is_final() => self.failed = true,
                    _ => {}
                },
                Event::Published { token, outcome, .. } => {
                    self.outcomes.insert(token.0, outcome);
                }
                Event::Messages { messages, .. } => {
                    for m in messages {
                        let seq = std::str::from_utf8(&m.payload)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .expect("a sequence number");
                        *self.received.entry(seq).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

fn quick_reconnects(mut p: Profile) -> Profile {
    p.reconnect = ReconnectPolicy {
        first_delay_ms: 100,
        max_delay_ms: 1_000,
        max_attempts: 0,
        ..ReconnectPolicy::default()
    };
    p
}

#[test]
fn qos1_through_twenty_broker_kills_loses_nothing_and_always_reconnects() {
    let mut broker = Broker::persistent();
    let subscriber = Engine::start(Arc::new(|| {})).expect("engine");
    let publisher = Engine::start(Arc::new(|| {})).expect("engine");
    let mut sub_profile = quick_reconnects(broker.tcp_profile());
    sub_profile.clean_session = false;
    sub_profile.client_id = "canopy-chaos-subscriber".into();
    sub_profile.subscriptions = vec![Subscription::new("chaos/seq", QoS::AtLeastOnce)];
    subscriber.send(Command::Connect {
        id: ConnectionId(1),
        options: Box::new(sub_profile.connect_options()),
    });
    publisher.send(Command::Connect {
        id: ConnectionId(1),
        options: Box::new(quick_reconnects(broker.tcp_profile()).connect_options()),
    });
    let (mut subs, mut pubs) = (Tally::default(), Tally::default());
    let wait_both_connected = |subs: &mut Tally, pubs: &mut Tally, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while subs.connects < n || pubs.connects < n {
            assert!(Instant::now() < deadline, "no reconnect {n} within 20 s");
            std::thread::sleep(Duration::from_millis(10));
            subs.drain(&subscriber);
            pubs.drain(&publisher);
        }
    };
    wait_both_connected(&mut subs, &mut pubs, 1);
    std::thread::sleep(Duration::from_millis(300)); // the subscription is made

    let mut rng = rand::rng();
    let mut sent: u64 = 0;
    let publish_for = |sent: &mut u64, how_long: Duration| {
        // About 500 messages a second.
        let end = Instant::now() + how_long;
        while Instant::now() < end {
            for _ in 0..5 {
                publisher.send(Command::Publish {
                    id: ConnectionId(1),
                    token: Token(*sent),
                    message: Box::new(OutgoingMessage {
                        topic: "chaos/seq".into(),
                        payload: sent.to_string().into(),
                        qos: QoS::AtLeastOnce,
                        retain: false,
                        properties: Default::default(),
                    }),
                });
                *sent += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    for kill in 1..=KILLS {
        publish_for(&mut sent, Duration::from_millis(rng.random_range(300..1200)));
        broker.kill();
        publish_for(&mut sent, Duration::from_millis(rng.random_range(50..400)));
        broker.restart();
        subs.drain(&subscriber);
        pubs.drain(&publisher);
        wait_both_connected(&mut subs, &mut pubs, kill + 1);
    }
    // Every publish is settled, then every acknowledged message reaches the subscriber.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        subs.drain(&subscriber);
        pubs.drain(&publisher);
        let settled = pubs.outcomes.len() as u64 == sent;
        let acked: Vec<u64> = pubs
            .outcomes
            .iter()
            .filter(|(_, o)| **o == PublishOutcome::Acknowledged)
            .map(|(t, _)| *t)
            .collect();
        let missing = acked.iter().filter(|t| !subs.received.contains_key(t)).count();
        if settled && missing == 0 {
            let duplicates: usize = subs.received.values().map(|n| n - 1).sum();
            let failed = sent as usize - acked.len();
            eprintln!(
                "chaos: {sent} published, {} acknowledged, {failed} failed, 0 lost, {duplicates} duplicates, \
                 {} / {} reconnects (subscriber / publisher) after {KILLS} kills",
                acked.len(),
                subs.connects - 1,
                pubs.connects - 1
            );
            assert_eq!(
                failed,
                0,
                "publishes reported failed: {:?}",
                pubs.outcomes
                    .values()
                    .find(|o| **o != PublishOutcome::Acknowledged)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after {KILLS} kills: {} of {sent} publishes settled, {missing} acknowledged messages never arrived",
            pubs.outcomes.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!subs.failed && !pubs.failed, "a client gave up");
    assert_eq!(subs.connects, KILLS + 1);
    assert_eq!(pubs.connects, KILLS + 1);
}
