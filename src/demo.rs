//! Demo traffic: a realistic plant and smart-home topic tree with JSON, numeric and retained
//! values at a chosen rate, published through the engine to any broker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::engine::{Command, ConnectionId, ConnectionState, Engine, Event, Token};

/// The demo generator's own engine has this one connection.
const DEMO_ID: ConnectionId = ConnectionId(1);
use crate::model::message::{OutgoingMessage, Properties, QoS};
use crate::profiles::Profile;

const LINES: [&str; 3] = ["line1", "line2", "line3"];
const MACHINES: [&str; 4] = ["press", "welder", "oven", "packer"];
const ROOMS: [&str; 5] = ["kitchen", "living", "bedroom", "office", "garage"];

fn message(topic: String, payload: String, retain: bool, json: bool) -> OutgoingMessage {
    OutgoingMessage {
        topic,
        payload: Bytes::from(payload),
        qos: QoS::AtMostOnce,
        retain,
        properties: Properties {
            content_type: json.then(|| "application/json".to_owned()),
            ..Properties::default()
        },
    }
}

/// The retained state published once at start: machine states, device info, lights.
pub fn initial_messages() -> Vec<OutgoingMessage> {
    let mut out = Vec::new();
    for line in LINES {
        for machine in MACHINES {
            out.push(message(
                format!("plant/site-berlin/{line}/{machine}/info"),
                format!(
                    "{{\"model\":\"{}-{}\",\"firmware\":\"2.{}.{}\",\"installed\":\"2023-0{}-1{}\"}}",
                    machine.to_uppercase(),
                    line.len() * 100 + machine.len(),
                    machine.len(),
                    line.len(),
                    machine.len() % 9 + 1,
                    line.len() % 9
                ),
                true,
                true,
            ));
        }
    }
    for room in ROOMS {
        out.push(message(format!("home/{room}/light"), "off".into(), true, false));
    }
    out.push(message(
        "home/alarm/state".into(),
        "armed_home".into(),
        true,
        false,
    ));
    out
}

/// One live update, picked at random.
pub fn next_message(rng: &mut impl rand::Rng, seq: u64) -> OutgoingMessage {
    let line = LINES[rng.random_range(0..LINES.len())];
    let machine = MACHINES[rng.random_range(0..MACHINES.len())];
    let room = ROOMS[rng.random_range(0..ROOMS.len())];
    match rng.random_range(0..10) {
        0..=3 => message(
            format!("plant/site-berlin/{line}/{machine}/temperature"),
            format!(
                "{{\"value\":{:.1},\"unit\":\"°C\",\"seq\":{seq},\"ts\":{}}}",
                rng.random_range(180..900) as f64 / 10.0,
                chrono::Utc::now().timestamp_millis()
            ),
            false,
            true,
        ),
        4 => message(
            format!("plant/site-berlin/{line}/{machine}/speed"),
            rng.random_range(900..1300).to_string(),
            false,
            false,
        ),
        5 => message(
            format!("plant/site-berlin/{line}/{machine}/state"),
            format!(
                "{{\"state\":\"{}\",\"count\":{seq},\"shift\":\"B\"}}",
                ["RUNNING", "RUNNING", "RUNNING", "IDLE", "SETUP"][rng.random_range(0..5)]
            ),
            true,
            true,
        ),
        6 | 7 => message(
            format!("home/{room}/temperature"),
            format!("{:.1}", rng.random_range(170..260) as f64 / 10.0),
            false,
            false,
        ),
        8 => message(
            format!("home/{room}/light"),
            (if rng.random_bool(0.5) { "on" } else { "off" }).to_owned(),
            true,
            false,
        ),
        _ => message(
            format!("vehicles/truck-{}/gps", rng.random_range(1..6)),
            format!(
                "{{\"lat\":{:.5},\"lon\":{:.5},\"speed_kmh\":{}}}",
                52.5 + rng.random_range(-500..500) as f64 / 10_000.0,
                13.4 + rng.random_range(-500..500) as f64 / 10_000.0,
                rng.random_range(0..90)
            ),
            false,
            true,
        ),
    }
}

/// Publishes demo traffic to the broker of `profile` at `rate` messages per second until
/// `stop` is set (or `limit` messages were sent). Reports problems through `report`.
pub fn run(profile: Profile, rate: u32, limit: Option<u64>, stop: Arc<AtomicBool>, report: impl Fn(String)) {
    let engine = match Engine::start(Arc::new(|| {})) {
        Ok(e) => e,
        Err(e) => return report(format!("demo traffic: cannot start the engine: {e}")),
    };
    let mut profile = profile;
    profile.subscriptions.clear();
    profile.client_id = crate::profiles::profile::random_client_id();
    engine.send(Command::Connect {
        id: DEMO_ID,
        options: Box::new(profile.connect_options()),
    });
    let mut connected = false;
    let mut rng = rand::rng();
    let mut seq: u64 = 0;
    let rate = rate.max(1);
    let started = Instant::now();
    let mut token = 0u64;
    let mut publish = |engine: &Engine, m: OutgoingMessage| {
        token += 1;
        engine.send(Command::Publish {
            id: DEMO_ID,
            token: Token(token),
            message: Box::new(m),
        });
    };
    while !stop.load(Ordering::Relaxed) {
        while let Some(event) = engine.try_recv() {
            if let Event::State { state, .. } = event {
                match state {
                    ConnectionState::Connected { .. } => {
                        if !connected {
                            for m in initial_messages() {
                                publish(&engine, m);
                            }
                        }
                        connected = true;
                    }
                    ConnectionState::Failed { reason } => {
                        return report(format!("demo traffic stopped: {reason}"));
                    }
                    ConnectionState::Reconnecting { .. } => connected = false,
                    _ => {}
                }
            }
        }
        if connected {
            // Publish what is due by now, so the rate holds even with coarse sleeps.
            let due = (started.elapsed().as_secs_f64() * f64::from(rate)) as u64;
            while seq < due {
                seq += 1;
                publish(&engine, next_message(&mut rng, seq));
                if limit.is_some_and(|l| seq >= l) {
                    engine.send(Command::Disconnect { id: DEMO_ID });
                    std::thread::sleep(Duration::from_millis(200));
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    engine.send(Command::Disconnect { id: DEMO_ID });
}
