//! `canopy sub --grep / --where`: payload filters in the built binary, against mosquitto.

use super::{run, run_on, sub, text};
use crate::common::Broker;

#[test]
fn where_and_grep_keep_only_matching_payloads() {
    let broker = Broker::start();
    let hot = sub(
        &broker,
        &["-t", "plant/#", "-C", "2", "--where", "$.temperature > 80", "-v"],
    );
    let alarms = sub(&broker, &["-t", "plant/#", "-C", "1", "--grep", "/^ALARM/i"]);
    for (t, payload) in [
        ("plant/a", r#"{"temperature": 50}"#),
        ("plant/b", r#"{"temperature": 85.5}"#),
        ("plant/c", "not json at all"),
        ("plant/d", r#"{"temperature": "70"}"#),
        ("plant/e", "alarm: door open"),
        ("plant/f", r#"{"temperature": "90"}"#),
    ] {
        let out = run_on(&broker, &["pub", "-t", t, "-m", payload, "-q", "1"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (code, stdout, stderr) = hot.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            r#"plant/b {"temperature": 85.5}"#,
            r#"plant/f {"temperature": "90"}"#
        ],
        "numbers sent as text compare as numbers"
    );
    let (code, stdout, _) = alarms.finish();
    assert_eq!(code, Some(0));
    assert_eq!(stdout.trim(), "alarm: door open");
}

#[test]
fn a_bad_filter_is_refused_before_connecting() {
    for (args, says) in [
        (&["--where", "temperature > 80"][..], "a condition starts with $"),
        (&["--where", "$.a >"][..], "nothing to compare"),
        (&["--grep", "/(/"][..], "regular expression"),
    ] {
        // Port 9 has no broker: the error must come first, with the usage code.
        let out = run(&[&["sub", "-h", "127.0.0.1", "-p", "9", "-t", "#"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
