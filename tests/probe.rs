//! `canopy probe` against real brokers: mosquitto (everything supported), the quirky broker
//! scripted as a poor broker (3.1.1 only, QoS 1, no `$SYS`, no retained messages), the embedded
//! rumqttd, and the built binary's formats and exit codes.

use std::process::Command;
use std::time::{Duration, Instant};

use canopy::model::message::QoS;
use canopy::probe::report::{Check, Report, Support};
use canopy::probe::{self, ProbeOptions, ProbeStep};
use canopy::profiles::profile::Profile;

use crate::common::Broker;
use crate::common::quirky::{QuirkyBroker, Script, V5Refusal};

/// Quick options for the library tests, payloads capped at `max_payload`.
fn options(max_payload: usize) -> ProbeOptions {
    ProbeOptions {
        max_payload,
        ..ProbeOptions::quick()
    }
}

fn probe_of(profile: &Profile, options: &ProbeOptions) -> (Report, Vec<ProbeStep>) {
    let mut steps = Vec::new();
    let report = probe::run(profile, options, |s| steps.push(s)).expect("a report");
    (report, steps)
}

#[track_caller]
fn supported(check: &Check, what: &str) {
    assert_eq!(check.support, Support::Supported, "{what}: {check:?}");
}

#[track_caller]
fn not_supported(check: &Check, what: &str) {
    assert_eq!(check.support, Support::NotSupported, "{what}: {check:?}");
}

/// The retained messages under `canopy-probe/#` a fresh subscriber gets.
pub(crate) fn retained_left(broker: &Broker) -> String {
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &broker.ports.tcp.to_string()])
        .args(["-t", "canopy-probe/#", "--retained-only", "-v", "-W", "2"])
        .output()
        .expect("mosquitto_sub");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn mosquitto_supports_everything_and_is_left_clean() {
    let broker = Broker::start();
    let started = Instant::now();
    let (report, steps) = probe_of(&broker.tcp_profile(), &options(256 * 1024));
    let took = started.elapsed();

    supported(&report.versions.v3_1, "3.1");
    supported(&report.versions.v3_1_1, "3.1.1");
    supported(&report.versions.v5, "5.0");
    assert_eq!(report.tested_with, "MQTT 5.0");
    supported(&report.max_qos, "max QoS");
    assert_eq!(report.max_qos.value, Some(2));
    supported(&report.retained, "retained");
    supported(&report.wildcard_plus, "+");
    supported(&report.wildcard_hash, "#");
    supported(&report.sys_topics, "$SYS");
    assert!(report.sys_topics.value.unwrap() > 10, "{:?}", report.sys_topics);
    supported(&report.shared_subscriptions, "shared subscriptions");
    let v5 = report.mqtt5.as_ref().expect("MQTT 5 section");
    supported(&v5.session_expiry, "session expiry");
    supported(&v5.subscription_identifiers, "subscription identifiers");
    supported(&v5.user_properties, "user properties");
    // mosquitto 2.0 announces these in CONNACK.
    assert_eq!(
        v5.topic_alias_maximum.value,
        Some(10),
        "{:?}",
        v5.topic_alias_maximum
    );
    assert_eq!(v5.receive_maximum.value, Some(20), "{:?}", v5.receive_maximum);
    // No size limit configured: the cap round-trips.
    supported(&report.max_payload, "payload");
    assert_eq!(report.max_payload.value, Some(256 * 1024));

    assert_eq!(report.latency.len(), 3, "{:?}", report.latency);
    for (row, qos) in report.latency.iter().zip(QoS::ALL) {
        assert_eq!(row.qos, qos);
        assert_eq!((row.sent, row.received), (50, 50), "{row:?}");
        assert!(
            row.p50_ms > 0.0 && row.p50_ms <= row.p99_ms && row.p99_ms <= row.max_ms,
            "{row:?}"
        );
        assert!(row.max_ms < 1000.0, "{row:?}");
    }
    assert_eq!(report.throughput.len(), 2, "{:?}", report.throughput);
    for row in &report.throughput {
        assert!(row.delivered > 0 && row.msgs_per_sec > 0.0, "{row:?}");
        assert_eq!((row.lost, row.delivered), (0, row.sent), "{row:?}");
    }

    supported(&report.cleanup, "cleanup");
    assert_eq!(report.cleanup.value, Some(1));
    assert!(report.scratch_prefix.starts_with("canopy-probe/"));
    assert_eq!(retained_left(&broker), "", "retained test messages left behind");
    assert!(steps.contains(&ProbeStep::Latency(QoS::ExactlyOnce)), "{steps:?}");
    assert!(took < Duration::from_secs(20), "--quick took {took:?}");
}

#[test]
fn a_poor_broker_gets_exactly_its_card() {
    // 3.1.1 only (MQTT 5 and 3.1 refused), QoS 1 at most, no `$SYS`, no retained messages.
    let broker = QuirkyBroker::start(Script {
        accept: vec![4],
        refuse_v5_as: V5Refusal::V5Reason0x84,
        max_qos: 1,
        drop_retained: true,
        ..Script::default()
    });
    let profile = Profile::tcp(broker.host(), broker.port);
    let (report, _) = probe_of(&profile, &options(64 * 1024));

    not_supported(&report.versions.v3_1, "3.1");
    supported(&report.versions.v3_1_1, "3.1.1");
    not_supported(&report.versions.v5, "5.0");
    assert_eq!(report.tested_with, "MQTT 3.1.1");
    assert!(report.mqtt5.is_none());
    assert_eq!(report.max_qos.value, Some(1), "{:?}", report.max_qos);
    not_supported(&report.retained, "retained");
    not_supported(&report.sys_topics, "$SYS");
    // What it does do, it does.
    supported(&report.wildcard_plus, "+");
    supported(&report.wildcard_hash, "#");
    let kinds: Vec<u8> = broker.connects().iter().map(|c| c.level).collect();
    assert!(
        kinds.contains(&5) && kinds.contains(&3),
        "every version was tried: {kinds:?}"
    );
    // The retained test message was deleted as well as published (an empty retained publish).
    let published = broker.published();
    let retained: Vec<_> = published.iter().filter(|p| p.3).collect();
    assert_eq!(retained.len(), 2, "{retained:?}");
    assert!(retained[1].1.is_empty(), "{retained:?}");
    for row in &report.latency {
        assert_eq!(row.received, row.sent, "{row:?}");
    }
}

#[test]
fn the_embedded_rumqttd_card() {
    // rumqttd 0.20 on its 3.1.1 listener: no MQTT 5 or 3.1 there, no `$SYS` (it closes the
    // connection of a client that asks), payloads up to its configured 16 MiB (mosquitto_pub
    // and mosquitto_sub round-trip 16,000,000 bytes through it). It also resets the first
    // connection after one it closed for a large packet: the probe once reported 8.5 MiB.
    let ports = canopy::sandbox::ensure_started().unwrap();
    let profile = Profile::tcp("127.0.0.1", ports.v4);
    let opts = ProbeOptions {
        payload_steps: 12,
        ..options(17 * 1024 * 1024)
    };
    let (report, _) = probe_of(&profile, &opts);

    supported(&report.versions.v3_1_1, "3.1.1");
    not_supported(&report.versions.v5, "5.0");
    not_supported(&report.versions.v3_1, "3.1");
    not_supported(&report.sys_topics, "$SYS");
    assert!(
        report.sys_topics.detail.contains("closed the connection"),
        "{:?}",
        report.sys_topics
    );
    supported(&report.retained, "retained");
    supported(&report.wildcard_hash, "#");
    let limit = report.max_payload.value.expect("a payload figure") as usize;
    let sixteen = 16 * 1024 * 1024;
    assert!(
        limit < sixteen && limit > sixteen - 16 * 1024,
        "rumqttd allows 16 MiB packets, the probe found {limit}: {:?}",
        report.max_payload
    );
}

fn canopy() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_canopy"));
    c.env_remove("CANOPY_PASSWORD").env_remove("CANOPY_PROFILES");
    c
}

/// `canopy probe --url URL --quick` and `extra`.
fn probe_cli(url: &str, extra: &[&str]) -> Command {
    let mut c = canopy();
    c.args(["probe", "--url", url, "--quick"]).args(extra);
    c
}

#[test]
fn cli_json_and_markdown_against_mosquitto() {
    let broker = Broker::start();
    let url = format!("mqtt://127.0.0.1:{}", broker.ports.tcp);
    let out = probe_cli(&url, &["-F", "json", "--max-payload", "65536"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("probing latency QoS 1…"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["broker"], url.as_str());
    for version in ["v3_1", "v3_1_1", "v5"] {
        assert_eq!(json["versions"][version]["status"], "supported", "{json}");
    }
    assert_eq!(json["max_qos"]["value"], 2);
    assert_eq!(json["retained"]["status"], "supported");
    assert_eq!(json["sys_topics"]["status"], "supported");
    assert_eq!(json["max_payload"]["value"], 65536);
    assert_eq!(json["latency"].as_array().unwrap().len(), 3);
    assert!(json["latency"][1]["p50_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(json["throughput"][0]["lost"], 0);
    assert!(json["mqtt5"]["receive_maximum"]["value"].is_number());

    let file = broker.dir.path().join("card.md");
    let out = probe_cli(&url, &["-F", "md", "-q", "--messages", "20", "--seconds", "0.5"])
        .args(["--max-payload", "4096", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "-o and -q: nothing printed"
    );
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(
        md.contains("| Item | Result | Detail |\n| --- | --- | --- |"),
        "{md}"
    );
    assert!(md.contains("| MQTT 5.0 | ✓ yes | accepted |"), "{md}");
    assert!(md.contains("| QoS 2 | 20/20 |"), "{md}");
    assert_eq!(retained_left(&broker), "");
}

#[test]
fn cli_wrong_port_is_a_connection_error_at_once() {
    let port = crate::common::free_ports(1)[0].to_string();
    let started = Instant::now();
    let out = canopy()
        .args(["probe", "-h", "127.0.0.1", "-p", &port, "--quick"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot connect to mqtt://127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
