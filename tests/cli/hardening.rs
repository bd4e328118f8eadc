//! Regression tests for inputs that hung, panicked, leaked a secret or lost output: each named
//! after what broke, each running the built binary.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{canopy, run, run_on, sub, text};
use crate::common::{Broker, free_ports};

/// Runs `command` and fails the test (after killing it) if it takes longer than `secs`: the
/// bugs here were hangs.
fn within(mut command: Command, secs: u64) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn canopy");
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after {secs} s: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `canopy pub` arguments against a port where nothing listens: a check that wrongly lets
/// the command connect shows as exit code 3 instead of 2.
fn pub_nowhere(rest: &[&str]) -> Command {
    let port = free_ports(1)[0].to_string();
    let mut c = canopy();
    c.args(["pub", "-h", "127.0.0.1", "-p", &port]).args(rest);
    c
}

fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

#[test]
fn a_damaged_profiles_file_does_not_print_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("profiles.toml");
    std::fs::write(
        &file,
        "version = 1\n[[profiles]]\nname = \"x\"\npassword = \"hunter2-secret\" oops\n",
    )
    .unwrap();
    let mut c = pub_nowhere(&["--profile", "x", "-t", "a", "-m", "b"]);
    c.env("CANOPY_PROFILES", &file);
    let out = within(c, 20);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(!err.contains("hunter2-secret"), "{err}");
    assert!(err.contains("line 4"), "{err}");
}

#[test]
fn dev_zero_fifo_and_huge_files_are_refused_instead_of_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for (args, words) in [
        (
            vec!["--cafile", "/dev/zero", "-t", "a", "-m", "x"],
            "character device",
        ),
        (vec!["--cafile", fifo, "-t", "a", "-m", "x"], "FIFO"),
        (vec!["-t", "a", "-f", "/dev/zero"], "character device"),
        (vec!["-t", "a", "-f", fifo], "FIFO"),
    ] {
        let out = within(pub_nowhere(&args), 20);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
    }
    // A recording that is a device or a FIFO (opening a FIFO blocks until a writer comes).
    for recording in ["/dev/zero", fifo] {
        let port = free_ports(1)[0].to_string();
        let mut c = canopy();
        c.args(["replay", "-h", "127.0.0.1", "-p", &port, recording]);
        let out = within(c, 20);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("not a regular file"));
    }
    // A profiles file far beyond any real one.
    let big = dir.path().join("profiles.toml");
    std::fs::File::create(&big).unwrap().set_len(64 << 20).unwrap();
    let mut c = pub_nowhere(&["--profile", "x", "-t", "a", "-m", "b"]);
    c.env("CANOPY_PROFILES", &big);
    let out = within(c, 20);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("16 MiB"), "{}", text(&out.stderr));
}

#[test]
fn a_payload_over_the_mqtt_maximum_is_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse files: no disk space used.
    let over = dir.path().join("over");
    std::fs::File::create(&over)
        .unwrap()
        .set_len(268_435_456)
        .unwrap();
    let exact = dir.path().join("exact");
    std::fs::File::create(&exact)
        .unwrap()
        .set_len(268_435_455)
        .unwrap();
    for path in [&over, &exact] {
        let out = within(pub_nowhere(&["-t", "a", "-f", path.to_str().unwrap()]), 60);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("268435455"), "{}", text(&out.stderr));
    }
    let mut c = pub_nowhere(&["-t", "a", "-s"]);
    c.stdin(std::fs::File::open(&exact).unwrap());
    let out = within(c, 60);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("standard input"));
}

#[test]
fn write_errors_are_exit_1_not_lost_output() {
    let broker = Broker::start();
    let out = run_on(&broker, &["pub", "-t", "full/a", "-m", "v", "-r", "-q", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let port = broker.ports.tcp.to_string();
    let base = ["-h", "127.0.0.1", "-p", port.as_str(), "-t", "full/#"];
    // `record -o /dev/full` said "recorded 1 messages" with exit 0.
    let mut c = canopy();
    c.arg("record").args(base).args(["-o", "/dev/full", "-D", "2"]);
    let out = within(c, 30);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write /dev/full"));
    // `sub -C 1` ignored the final flush.
    let mut c = canopy();
    c.arg("sub").args(base).args(["-C", "1", "-o", "/dev/full"]);
    let out = within(c, 30);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // Standard output on /dev/full (println! would panic with exit 101).
    for extra in [&["sub", "-C", "1"][..], &["clear-retained", "--dry-run"][..]] {
        let mut c = canopy();
        c.arg(extra[0]).args(base).args(&extra[1..]);
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        c.stdout(full).stderr(Stdio::piped());
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("cannot write"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn insecure_always_prints_a_warning() {
    let broker = Broker::start();
    let out = run(&[
        "pub",
        "-h",
        "127.0.0.1",
        "-p",
        &broker.ports.tls.to_string(),
        "--transport",
        "tls",
        "--insecure",
        "-t",
        "a",
        "-m",
        "x",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("warning: --insecure"), "{err}");
}

#[test]
fn infinite_or_huge_timeouts_are_usage_errors_not_panics() {
    for value in ["inf", "1e300", "NaN", "-1"] {
        let out = run(&["sub", "-t", "a", "-W", value]);
        assert_eq!(out.status.code(), Some(2), "-W {value}: {}", text(&out.stderr));
        let out = run(&["record", "-o", "/dev/null", "-D", value]);
        assert_eq!(out.status.code(), Some(2), "-D {value}");
    }
}

#[test]
fn bad_client_ids_topics_and_filters_are_refused_before_connecting() {
    let long_id = "i".repeat(70_000);
    let out = within(pub_nowhere(&["-i", &long_id, "-t", "a", "-m", "x"]), 20);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("client id"), "{}", text(&out.stderr));
    let out = within(pub_nowhere(&["-i", "a\u{7}b", "-t", "a", "-m", "x"]), 20);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = within(pub_nowhere(&["-t", "a\tb", "-m", "x"]), 20);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("control character"));
    // A filter: the subscription exit code, as for any invalid filter, and no connection.
    let port = free_ports(1)[0].to_string();
    let out = run(&["sub", "-h", "127.0.0.1", "-p", &port, "-t", "a/\u{1}/#"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("control character"));
}

#[test]
fn pub_refuses_topics_that_break_the_protocol() {
    for topic in ["a/#/b", "#", "+", "", "a/+/c"] {
        let out = within(pub_nowhere(&["-t", topic, "-m", "x"]), 20);
        assert_eq!(out.status.code(), Some(2), "`{topic}`: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("invalid topic"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn mqtt5_options_on_311_are_named_in_a_warning() {
    let broker = Broker::start();
    let out = run_on(
        &broker,
        &[
            "pub",
            "-V",
            "3.1.1",
            "-t",
            "v3/a",
            "-m",
            "x",
            "--content-type",
            "text/plain",
            "--user-property",
            "k=v",
            "--message-expiry",
            "60",
            "--session-expiry",
            "10",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for option in [
        "--content-type",
        "--user-property",
        "--message-expiry",
        "--session-expiry",
    ] {
        assert!(err.contains(option), "{option} not named: {err}");
    }
    assert!(err.contains("MQTT 3.1.1"), "{err}");
}

#[test]
fn pub_lines_go_on_after_a_line_that_is_not_utf8() {
    let broker = Broker::start();
    let subscriber = sub(&broker, &["-t", "bytes/#", "-C", "3", "-F", "jsonl", "-W", "20"]);
    let mut publisher = canopy()
        .args(["pub", "-h", "127.0.0.1", "-p", &broker.ports.tcp.to_string()])
        .args(["-t", "bytes/x", "-l", "-q", "1"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    publisher
        .stdin
        .take()
        .unwrap()
        .write_all(b"first\n\xff\xfe\ncrlf\r\n")
        .unwrap();
    let out = publisher.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, stdout, stderr) = subscriber.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let got: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 3, "{stdout}");
    assert_eq!(got[0]["payload"], "first");
    assert_eq!(got[1]["encoding"], "base64");
    assert_eq!(got[1]["payload"], "//4=");
    assert_eq!(got[2]["payload"], "crlf");
}

#[test]
fn clear_retained_finding_nothing_under_a_wildcard_explains_why() {
    let broker = Broker::start();
    let out = run_on(&broker, &["clear-retained", "-t", "empty/#"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("RabbitMQ") && err.contains("-t a/b/c"), "{err}");
    // An exact topic finding nothing: no note.
    let out = run_on(&broker, &["clear-retained", "-t", "empty/a"]);
    assert!(!text(&out.stderr).contains("RabbitMQ"));
}

/// Regression: `--profile X` never read the credential store and never said why the broker
/// then answered "not authorised".
#[test]
fn saved_profiles_without_a_password_here_say_how_to_give_one() {
    use canopy::profiles::profile::PasswordStorage;
    let broker = Broker::start();
    let file = broker.dir.path().join("profiles.toml");
    let mut profile = canopy::profiles::Profile::tcp("127.0.0.1", broker.ports.auth);
    profile.id = format!("cli-test-{}", std::process::id()).into();
    profile.name = "Locked".into();
    profile.username = Some(crate::common::USER.into());
    profile.password_storage = PasswordStorage::Ask;
    let mut doc = canopy::profiles::store::ProfilesFile {
        profiles: vec![profile.clone()],
        ..Default::default()
    };
    canopy::profiles::store::save(&file, &doc).unwrap();
    let pub_with_profile = || {
        let mut c = canopy();
        c.args(["pub", "--profile", "Locked", "-t", "p/x", "-m", "1"])
            .env("CANOPY_PROFILES", &file)
            .stdin(Stdio::null());
        c
    };
    let out = within(pub_with_profile(), 30);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("profile `Locked`") && err.contains("CANOPY_PASSWORD"),
        "{err}"
    );
    let mut c = pub_with_profile();
    c.env("CANOPY_PASSWORD", crate::common::PASSWORD);
    assert!(within(c, 30).status.success());

    // With the password in a real credential store (scripts/check.sh runs one).
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return;
    }
    profile.password_storage = PasswordStorage::Keyring;
    doc.profiles = vec![profile.clone()];
    canopy::profiles::store::save(&file, &doc).unwrap();
    canopy::profiles::secrets::store(&profile.id, crate::common::PASSWORD).unwrap();
    let out = within(pub_with_profile(), 30);
    canopy::profiles::secrets::delete(&profile.id).unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}
