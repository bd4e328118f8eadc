//! The built `canopy` binary against a real mosquitto: pub, sub, exit codes and messages.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::{Broker, PASSWORD, USER};

mod hardening;
mod proto;
mod search;
mod templates;

fn canopy() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_canopy"));
    c.env_remove("CANOPY_PASSWORD").env_remove("CANOPY_PROFILES");
    c
}

fn run(args: &[&str]) -> Output {
    canopy().args(args).output().expect("run canopy")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `canopy sub` running in the background, already subscribed.
struct Sub {
    child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Sub {
    /// Waits for the process to end; returns its exit code, stdout and all of stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let mut stdout = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        let stderr: Vec<String> = self.stderr.iter().collect();
        (status.code(), stdout, stderr.join("\n"))
    }
}

/// Starts `canopy sub -d` in the background and waits until it reports its subscription.
fn sub(broker: &Broker, args: &[&str]) -> Sub {
    let mut child = canopy()
        .args([
            "sub",
            "-d",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.ports.tcp.to_string(),
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn canopy sub");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains("subscribed to") => break,
            Ok(line) => seen.push(line),
            Err(_) => panic!("canopy sub did not subscribe; stderr: {seen:?}"),
        }
    }
    Sub { child, stderr: rx }
}

#[test]
fn pub_and_sub_round_trip_with_jsonl_and_properties() {
    let broker = Broker::start();
    let port = broker.ports.tcp.to_string();
    // Retained messages are there before the subscriber starts, so no race.
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "cli/json",
        "-m",
        "{\"v\":1}",
        "-q",
        "1",
        "-r",
        "--user-property",
        "k=v",
        "--content-type",
        "application/json",
    ]);
    assert!(out.status.success(), "pub failed: {}", text(&out.stderr));
    let binary = broker.dir.path().join("blob.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 255]).unwrap();
    let out = run(&[
        "pub",
        "-L",
        &format!("mqtt://127.0.0.1:{port}"),
        "-t",
        "cli/bin",
        "-f",
        binary.to_str().unwrap(),
        "-r",
        "-q",
        "2",
    ]);
    assert!(out.status.success(), "pub -f failed: {}", text(&out.stderr));

    let out = run(&[
        "sub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "cli/#",
        "-q",
        "2",
        "-C",
        "2",
        "-F",
        "jsonl",
        "-W",
        "10",
    ]);
    assert!(out.status.success(), "sub failed: {}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    let json = lines
        .iter()
        .find(|l| l["topic"] == "cli/json")
        .expect("json message");
    assert_eq!(json["payload"], "{\"v\":1}");
    assert_eq!(json["encoding"], "utf8");
    assert_eq!(json["retain"], true);
    assert_eq!(json["qos"], 1);
    assert_eq!(json["properties"]["content_type"], "application/json");
    assert_eq!(
        json["properties"]["user_properties"][0],
        serde_json::json!(["k", "v"])
    );
    assert!(json["timestamp_ms"].as_u64().unwrap() > 1_600_000_000_000);
    let bin = lines
        .iter()
        .find(|l| l["topic"] == "cli/bin")
        .expect("binary message");
    assert_eq!(bin["encoding"], "base64");
    assert_eq!(bin["payload"], "AJ+Slv8=");
}

#[test]
fn pub_lines_from_stdin_over_websocket_v311() {
    let broker = Broker::start();
    let subscriber = sub(&broker, &["-t", "lines/#", "-C", "100", "-v", "-W", "20"]);
    let mut publisher = canopy()
        .args([
            "pub",
            "--url",
            &format!("ws://127.0.0.1:{}/mqtt", broker.ports.ws),
            "-V",
            "3.1.1",
            "-t",
            "lines/x",
            "-l",
            "-q",
            "1",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = publisher.stdin.take().unwrap();
        for i in 0..100 {
            writeln!(stdin, "line {i}").unwrap();
        }
    }
    let out = publisher.wait_with_output().unwrap();
    assert!(out.status.success(), "pub -l failed: {}", text(&out.stderr));
    let (code, stdout, stderr) = subscriber.finish();
    assert_eq!(code, Some(0), "sub failed: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 100);
    assert_eq!(lines[0], "lines/x line 0");
    assert_eq!(lines[99], "lines/x line 99");
}

#[test]
fn tls_and_password_from_the_command_line() {
    let broker = Broker::start();
    let ca = broker.pki.ca.to_str().unwrap();
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &broker.ports.tls.to_string(),
        "--cafile",
        ca,
        "-t",
        "t/a",
        "-m",
        "x",
        "-q",
        "1",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = canopy()
        .args([
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &broker.ports.auth.to_string(),
            "-u",
            USER,
            "-t",
            "t/a",
            "-m",
            "x",
        ])
        .env("CANOPY_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &broker.ports.auth.to_string(),
        "-u",
        USER,
        "-P",
        "nope",
        "-t",
        "t/a",
        "-m",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("user name or password") || err.contains("not authorised"),
        "{err}"
    );
    assert!(!err.contains("nope"), "no secret in messages: {err}");

    let other = broker.pki.other_ca.to_str().unwrap();
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &broker.ports.tls.to_string(),
        "--cafile",
        other,
        "-t",
        "t/a",
        "-m",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("unknown CA"), "{}", text(&out.stderr));
}

#[test]
fn exit_codes_and_messages_for_bad_input() {
    let broker = Broker::start();
    let port = broker.ports.tcp.to_string();
    // Nothing listening: fails at once with the reason.
    let closed = crate::common::free_ports(1)[0];
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &closed.to_string(),
        "-t",
        "a",
        "-m",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("connection refused"),
        "{}",
        text(&out.stderr)
    );
    // Unknown host.
    let out = run(&["sub", "-h", "no-such-host.invalid", "-t", "#"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("DNS"), "{}", text(&out.stderr));
    // Invalid filter: rejected before connecting.
    let out = run(&["sub", "-h", "127.0.0.1", "-p", &port, "-t", "a/#/b"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("invalid topic filter"),
        "{}",
        text(&out.stderr)
    );
    // Wildcard publish topic.
    let out = run(&["pub", "-h", "127.0.0.1", "-p", &port, "-t", "a/+", "-m", "x"]);
    assert_eq!(out.status.code(), Some(2));
    // Missing payload source is a usage error.
    let out = run(&["pub", "-h", "127.0.0.1", "-p", &port, "-t", "a"]);
    assert_eq!(out.status.code(), Some(2));
    // Missing file.
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "a",
        "-f",
        "/nonexistent/file",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("file not found"),
        "{}",
        text(&out.stderr)
    );
    // Missing CA file.
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--cafile",
        "/nonexistent/ca.pem",
        "-t",
        "a",
        "-m",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/nonexistent/ca.pem"),
        "{}",
        text(&out.stderr)
    );
    // Timeout with nothing arriving.
    let out = run(&[
        "sub",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "silence/#",
        "-C",
        "1",
        "-W",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(6));
    // Help mentions the exit codes.
    let out = run(&["--help"]);
    assert!(text(&out.stdout).contains("Exit codes"));
    let out = run(&["sub", "--help"]);
    assert!(text(&out.stdout).contains("--format"));
}

#[test]
fn saved_profiles_are_used_by_name() {
    let broker = Broker::start();
    let file = broker.dir.path().join("profiles.toml");
    let mut profile = canopy::profiles::Profile::tcp("127.0.0.1", broker.ports.auth);
    profile.name = "Plant floor".into();
    profile.username = Some(USER.into());
    profile.password = Some(PASSWORD.into());
    let doc = canopy::profiles::store::ProfilesFile {
        profiles: vec![profile],
        ..Default::default()
    };
    canopy::profiles::store::save(&file, &doc).unwrap();
    let out = canopy()
        .args([
            "pub",
            "--profile",
            "plant floor",
            "-t",
            "p/x",
            "-m",
            "1",
            "-q",
            "1",
        ])
        .env("CANOPY_PROFILES", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = canopy()
        .args(["pub", "--profile", "missing", "-t", "p/x", "-m", "1"])
        .env("CANOPY_PROFILES", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no saved profile is named `missing`"));
}

#[test]
fn sub_reports_reconnects_on_stderr() {
    let mut broker = Broker::start();
    let subscriber = sub(&broker, &["-t", "re/#", "-C", "1", "-W", "30"]);
    broker.restart();
    // Once it is back, a retained message reaches the re-subscribed client.
    let port = broker.ports.tcp.to_string();
    let mut delivered = false;
    for _ in 0..50 {
        let out = run(&[
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "re/x",
            "-m",
            "back",
            "-r",
            "-q",
            "1",
        ]);
        if out.status.success() {
            delivered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(delivered);
    let (code, stdout, err) = subscriber.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(stdout.trim(), "back");
    assert!(err.contains("reconnecting, attempt 1"), "{err}");
    assert!(err.contains("reconnected to mqtt://127.0.0.1"), "{err}");
}

/// `run` against the broker's plain TCP listener.
fn run_on(broker: &Broker, args: &[&str]) -> Output {
    let port = broker.ports.tcp.to_string();
    let (command, rest) = args.split_first().expect("a subcommand");
    let mut full = vec![*command];
    // `bench load` / `bench publish`: the connection flags follow the second word.
    let rest = if *command == "bench" {
        let (what, rest) = rest.split_first().expect("bench what");
        full.push(what);
        rest
    } else {
        rest
    };
    full.extend(["-h", "127.0.0.1", "-p", &port]);
    full.extend(rest);
    run(&full)
}

fn mosquitto_sub(broker: &Broker, args: &[&str]) -> String {
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &broker.ports.tcp.to_string(), "-W", "3"])
        .args(args)
        .output()
        .expect("mosquitto_sub");
    text(&out.stdout)
}

#[test]
fn clear_retained_deletes_a_subtree_only() {
    let broker = Broker::start();
    for topic in ["keep/a", "gone/a", "gone/b/c", "gone/b/d"] {
        let out = run_on(&broker, &["pub", "-t", topic, "-m", "v", "-r", "-q", "1"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let dry = run_on(&broker, &["clear-retained", "-t", "gone/#", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert_eq!(text(&dry.stdout), "gone/a\ngone/b/c\ngone/b/d\n");
    assert!(text(&dry.stderr).contains("3 retained messages found"));

    let out = run_on(&broker, &["clear-retained", "-t", "gone/#", "-v"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cleared 3 of 3 retained messages"),
        "{}",
        text(&out.stderr)
    );
    // What the broker still retains: only keep/a.
    let left = mosquitto_sub(&broker, &["-t", "#", "-v", "-C", "1"]);
    assert_eq!(left, "keep/a v\n");
    let bad = run_on(&broker, &["clear-retained", "-t", "a/#/b"]);
    assert_eq!(bad.status.code(), Some(5));
}

#[test]
fn record_then_replay_preserves_payloads_retain_and_properties() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rec.jsonl");
    let file_s = file.to_str().unwrap();
    // A retained message, then live ones (one binary, one with MQTT 5 properties).
    run_on(
        &broker,
        &["pub", "-t", "rec/retained", "-m", "kept", "-r", "-q", "1"],
    );
    let recorder = canopy()
        .args(["record", "-h", "127.0.0.1", "-p", &broker.ports.tcp.to_string()])
        .args(["-V", "5", "-t", "rec/#", "-o", file_s, "-C", "3"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let bin = dir.path().join("bin");
    std::fs::write(&bin, [0u8, 159, 146, 150, 255]).unwrap();
    run_on(
        &broker,
        &["pub", "-t", "rec/bin", "-f", bin.to_str().unwrap(), "-q", "1"],
    );
    std::thread::sleep(Duration::from_millis(300));
    run_on(
        &broker,
        &[
            "pub",
            "-V",
            "5",
            "-t",
            "rec/props",
            "-m",
            "{\"a\":1}",
            "-q",
            "1",
            "--content-type",
            "application/json",
            "--user-property",
            "k=v",
        ],
    );
    let out = recorder.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let recorded = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = recorded.lines().collect();
    assert_eq!(lines.len(), 3, "{recorded}");
    assert!(lines[0].contains("\"retain\":true") && lines[0].contains("kept"));
    assert!(lines[1].contains("\"encoding\":\"base64\""));
    assert!(lines[2].contains("application/json"));

    // Replay at 10x under a prefix while a v5 subscriber watches; a garbage line is skipped.
    std::fs::write(&file, format!("{recorded}not json\n")).unwrap();
    let watcher = sub(
        &broker,
        &["-V", "5", "-t", "again/#", "-F", "jsonl", "-C", "3", "-W", "20"],
    );
    let t = std::time::Instant::now();
    let out = run_on(
        &broker,
        &["replay", "-V", "5", file_s, "--speed", "10x", "--prefix", "again"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("replayed 3 of 3") && stderr.contains("1 unreadable lines skipped"),
        "{stderr}"
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    let (code, stdout, _) = watcher.finish();
    assert_eq!(code, Some(0));
    let got: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got[0]["topic"], "again/rec/retained");
    assert_eq!(
        got[0]["retain"], true,
        "retain flags are replayed (and seen, retain as published)"
    );
    assert_eq!(got[1]["payload"], "AJ+Slv8=");
    assert_eq!(got[2]["properties"]["content_type"], "application/json");
    assert_eq!(got[2]["properties"]["user_properties"][0][0], "k");
    // The broker now retains the replayed retained message.
    assert_eq!(
        mosquitto_sub(&broker, &["-t", "again/rec/retained", "-C", "1"]),
        "kept\n"
    );

    let missing = run_on(&broker, &["replay", "/nonexistent/rec.jsonl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot open"));
}

#[test]
fn bench_publish_then_load_counts_everything() {
    let broker = Broker::start();
    let out = run_on(
        &broker,
        &[
            "bench", "publish", "--topics", "2000", "--retain", "--size", "120", "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sent["sent"], 2000);
    assert_eq!(sent["delivered"], 2000);
    let out = run_on(
        &broker,
        &["bench", "load", "--expect", "2000", "--json", "--timeout", "30"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let load: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(load["messages"], 2000);
    assert_eq!(load["topics"], 2000);
    assert!(load["peak_rss_bytes"].as_u64().unwrap() > 1_000_000);
    // Expecting more than the broker has: exit code 6 after the timeout.
    let out = run_on(
        &broker,
        &["bench", "load", "--expect", "2001", "--timeout", "1.5"],
    );
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timed out with 2000 of 2001"));
}
