//! Demo traffic: a realistic plant and smart-home topic tree with JSON, numeric and retained
//! values at a chosen rate, published through the engine to any broker. Numbers are written
//! as people write them (`23.5`, at most two decimals) in ranges a real plant would show.

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
const ROOMS: [&str; 5] = ["kitchen", "living", "bedroom", "office", "garage"];

/// A machine of the demo plant and the ranges its readings move in, in tenths (a press runs
/// warm, an oven at baking heat; presses work on hydraulic pressure, the rest on shop air).
struct Machine {
    name: &'static str,
    /// Temperature, tenths of °C.
    temperature: (i64, i64),
    /// Pressure, tenths of bar.
    pressure: (i64, i64),
    /// Speed in its own unit, whole numbers.
    speed: (i64, i64, &'static str),
}

const MACHINES: [Machine; 4] = [
    Machine {
        name: "press",
        temperature: (380, 520),
        pressure: (1800, 2200),
        speed: (28, 36, "strokes/min"),
    },
    Machine {
        name: "welder",
        temperature: (550, 850),
        pressure: (55, 65),
        speed: (10, 14, "welds/min"),
    },
    Machine {
        name: "oven",
        temperature: (1800, 2300),
        pressure: (10, 14),
        speed: (2, 4, "trays/min"),
    },
    Machine {
        name: "packer",
        temperature: (240, 320),
        pressure: (58, 64),
        speed: (40, 60, "packs/min"),
    },
];

/// Machine states, weighted: a plant mostly runs.
const STATES: [&str; 6] = ["running", "running", "running", "running", "idle", "setup"];

/// `units` tenths (or hundredths with `decimals` 2) written as people write numbers: `23.5`,
/// `-0.5`, `1013.25` — never `235e-1`, whatever float formatting would do.
fn fixed(units: i64, decimals: u32) -> String {
    let scale = 10_i64.pow(decimals);
    let sign = if units < 0 { "-" } else { "" };
    let whole = units.unsigned_abs() / scale.unsigned_abs();
    let frac = units.unsigned_abs() % scale.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{whole}");
    }
    format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
}

/// A value drawn from `range` (inclusive, in tenths) as a one-decimal number.
fn tenths(rng: &mut impl rand::Rng, range: (i64, i64)) -> String {
    fixed(rng.random_range(range.0..=range.1), 1)
}

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

/// The retained state published once at start: machine info, lights, windows, the alarm.
pub fn initial_messages() -> Vec<OutgoingMessage> {
    let mut out = Vec::new();
    for (l, line) in LINES.iter().enumerate() {
        for (m, machine) in MACHINES.iter().enumerate() {
            out.push(message(
                format!("plant/site-berlin/{line}/{}/info", machine.name),
                format!(
                    "{{\"model\":\"{}-{}\",\"firmware\":\"2.{m}.{l}\",\"installed\":\"2023-0{}-1{l}\",\"maintenance_due\":{}}}",
                    machine.name.to_uppercase(),
                    100 * (l + 1) + 10 * m,
                    m + 1,
                    (l + m) % 4 == 0
                ),
                true,
                true,
            ));
        }
    }
    for room in ROOMS {
        out.push(message(format!("home/{room}/light"), "off".into(), true, false));
        out.push(message(
            format!("home/{room}/window"),
            "closed".into(),
            true,
            false,
        ));
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
    let machine = &MACHINES[rng.random_range(0..MACHINES.len())];
    let room = ROOMS[rng.random_range(0..ROOMS.len())];
    let at = |what: &str| format!("plant/site-berlin/{line}/{}/{what}", machine.name);
    match rng.random_range(0..12) {
        0..=3 => message(
            at("temperature"),
            format!(
                "{{\"value\":{},\"unit\":\"°C\",\"ts\":{}}}",
                tenths(rng, machine.temperature),
                chrono::Utc::now().timestamp_millis()
            ),
            false,
            true,
        ),
        4 => message(at("pressure"), tenths(rng, machine.pressure), false, false),
        5 => message(
            at("speed"),
            format!(
                "{{\"value\":{},\"unit\":\"{}\"}}",
                rng.random_range(machine.speed.0..=machine.speed.1),
                machine.speed.2
            ),
            false,
            true,
        ),
        6 => {
            let state = STATES[rng.random_range(0..STATES.len())];
            message(
                at("state"),
                format!(
                    "{{\"state\":\"{state}\",\"parts\":{seq},\"shift\":\"B\",\"door_open\":{},\"alarm\":{}}}",
                    state == "setup",
                    rng.random_bool(0.02)
                ),
                true,
                true,
            )
        }
        7 | 8 => message(
            format!("home/{room}/temperature"),
            tenths(rng, (185, 235)),
            false,
            false,
        ),
        9 => message(
            format!("home/{room}/humidity"),
            rng.random_range(35..=60).to_string(),
            false,
            false,
        ),
        10 => message(
            format!("home/{room}/light"),
            (if rng.random_bool(0.5) { "on" } else { "off" }).to_owned(),
            true,
            false,
        ),
        _ => message(
            format!("vehicles/forklift-{}/status", rng.random_range(1..=5)),
            format!(
                "{{\"battery_pct\":{},\"zone\":\"hall-{}\",\"speed_kmh\":{},\"loaded\":{}}}",
                rng.random_range(20..=100),
                rng.random_range(1..=3),
                tenths(rng, (0, 120)),
                rng.random_bool(0.5)
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    /// `23.5`, `-4`, `1013.25`: digits, at most two after the point, no exponent.
    fn is_plain_decimal(text: &str) -> bool {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 2
            && frac.bytes().all(|b| b.is_ascii_digit())
            && (frac.is_empty() != digits.contains('.'))
    }

    /// Every number in a JSON value, as written.
    fn numbers(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Number(n) => out.push(n.to_string()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| numbers(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| numbers(v, out)),
            _ => {}
        }
    }

    #[test]
    fn numbers_are_written_as_people_write_them() {
        assert_eq!(fixed(235, 1), "23.5");
        assert_eq!(fixed(-5, 1), "-0.5");
        assert_eq!(fixed(101_325, 2), "1013.25");
        assert_eq!(fixed(7, 0), "7");
        assert!(is_plain_decimal("23.5") && is_plain_decimal("-4") && is_plain_decimal("0.25"));
        for bad in ["235e-1", "2.355", "23.", ".5", "", "-", "NaN", "inf", "1E3"] {
            assert!(!is_plain_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn every_generated_number_is_a_plain_decimal_in_a_plausible_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let messages: Vec<OutgoingMessage> = initial_messages()
            .into_iter()
            .chain((1..=20_000).map(|seq| next_message(&mut rng, seq)))
            .collect();
        let mut topics = std::collections::BTreeSet::new();
        for m in &messages {
            let text = std::str::from_utf8(&m.payload).unwrap();
            topics.insert(m.topic.rsplit('/').next().unwrap().to_owned());
            let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
                // Words: states, on/off, open/closed; never a number in another form.
                assert!(text.parse::<f64>().is_err(), "{}: {text}", m.topic);
                assert!(text.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{text}");
                continue;
            };
            let mut found = Vec::new();
            numbers(&value, &mut found);
            for n in found {
                assert!(is_plain_decimal(&n), "{}: {n} in {text}", m.topic);
            }
            // Temperatures and pressures in ranges a plant or a home shows.
            let reading = value.get("value").unwrap_or(&value).as_f64();
            if let Some(v) = reading {
                let (low, high) = match m.topic.rsplit('/').next().unwrap() {
                    "temperature" if m.topic.starts_with("home/") => (15.0, 30.0),
                    "temperature" => (20.0, 250.0),
                    "pressure" => (0.5, 250.0),
                    "humidity" => (20.0, 80.0),
                    _ => (0.0, f64::MAX),
                };
                assert!((low..=high).contains(&v), "{}: {v}", m.topic);
            }
        }
        for kind in [
            "temperature",
            "pressure",
            "speed",
            "state",
            "humidity",
            "light",
            "status",
            "info",
        ] {
            assert!(topics.contains(kind), "no {kind} topic generated");
        }
    }
}
