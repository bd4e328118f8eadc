//! `canopy sub --proto` / `canopy pub --proto`: the built binary against a real mosquitto,
//! payloads encoded by prost-reflect (through Canopy's model) from the fixture schema.

use std::path::PathBuf;

use super::{run_on, sub, text};
use crate::common::Broker;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proto")
}

fn reading_bytes(value: f64) -> Vec<u8> {
    let schema = canopy::model::proto::Schema::compile(&fixtures()).unwrap();
    let desc = schema.message("canopy.plant.Reading").unwrap();
    canopy::model::proto::encode(
        &desc,
        &format!(r#"{{"sensor":"t1","quantity":{{"value":{value},"unit":"CELSIUS"}},"samples":[1,2]}}"#),
    )
    .unwrap()
}

const BINDING: &str = "plant/+/reading=canopy.plant.Reading";

#[test]
fn sub_prints_decoded_json_and_raw_bytes_with_the_error_when_they_do_not_decode() {
    let broker = Broker::start();
    let proto = fixtures().display().to_string();
    let file = broker.dir.path().join("reading.bin");
    std::fs::write(&file, reading_bytes(21.5)).unwrap();
    let bad = broker.dir.path().join("bad.bin");
    std::fs::write(&bad, [0x08, 0x01]).unwrap();

    let listener = sub(
        &broker,
        &[
            "-t",
            "plant/#",
            "-C",
            "3",
            "-v",
            "--proto",
            &proto,
            "--proto-type",
            BINDING,
        ],
    );
    let file_arg = file.display().to_string();
    let bad_arg = bad.display().to_string();
    for (topic, source) in [
        ("plant/a/reading", ["-f", file_arg.as_str()]),
        ("plant/b/reading", ["-f", bad_arg.as_str()]),
        ("plant/a/other", ["-m", "plain"]),
    ] {
        let out = run_on(&broker, &["pub", "-t", topic, source[0], source[1]]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let (topic, json) = lines[0].split_once(' ').unwrap();
    assert_eq!(topic, "plant/a/reading");
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(json["quantity"]["value"].as_f64(), Some(21.5));
    assert_eq!(json["quantity"]["unit"], "CELSIUS");
    assert_eq!(
        lines[1].as_bytes(),
        b"plant/b/reading \x08\x01",
        "raw bytes when it does not decode"
    );
    assert!(
        stderr.contains("plant/b/reading: not a canopy.plant.Reading message: "),
        "{stderr}"
    );
    assert_eq!(lines[2], "plant/a/other plain", "unbound topics as they are");

    // -F jsonl: the JSON beside the payload (which stays base64, so the output replays).
    let listener = sub(
        &broker,
        &[
            "-t",
            "plant/#",
            "-C",
            "1",
            "-F",
            "jsonl",
            "--proto",
            &proto,
            "--proto-type",
            BINDING,
        ],
    );
    let out = run_on(&broker, &["pub", "-t", "plant/c/reading", "-f", &file_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["protobuf"]["type"], "canopy.plant.Reading");
    assert_eq!(line["protobuf"]["json"]["samples"][1].as_f64(), Some(2.0));
    assert_eq!(line["encoding"], "base64");
}

#[test]
fn pub_encodes_json_that_sub_decodes_and_refuses_json_that_does_not_fit() {
    let broker = Broker::start();
    let proto = fixtures().join("plant.proto").display().to_string();
    let listener = sub(
        &broker,
        &[
            "-t",
            "plant/#",
            "-C",
            "1",
            "--proto",
            &proto,
            "--proto-type",
            BINDING,
        ],
    );
    // A bare type binds the topic of -t.
    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "plant/x/reading",
            "--proto",
            &proto,
            "--proto-type",
            "canopy.plant.Reading",
            "-m",
            r#"{"sensor":"p1","fault_code":9}"#,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (json["sensor"].as_str(), json["fault_code"].as_u64()),
        (Some("p1"), Some(9))
    );

    let out = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "plant/x/reading",
            "--proto",
            &proto,
            "--proto-type",
            "canopy.plant.Reading",
            "-m",
            r#"{"sensor": 5}"#,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("the JSON does not fit canopy.plant.Reading: "),
        "{err}"
    );
}

#[test]
fn a_bad_schema_or_an_unknown_type_exits_with_a_clear_message() {
    let broker = Broker::start();
    let dir = broker.dir.path().join("bad-proto");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.proto"),
        "syntax = \"proto3\";\nmessage A {\n  string a = 1\n}\n",
    )
    .unwrap();
    let bad = dir.display().to_string();
    let out = run_on(&broker, &["sub", "-t", "#", "--proto", &bad, "--proto-type", "A"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.proto:4:1: "), "{err}");

    let good = fixtures().display().to_string();
    let out = run_on(
        &broker,
        &["sub", "-t", "#", "--proto", &good, "--proto-type", "#=Reading"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no message type `Reading` in the schema (did you mean canopy.plant.Reading?)"),
        "{err}"
    );
    let out = run_on(&broker, &["sub", "-t", "#", "--proto", &good]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--proto needs at least one --proto-type"));
}
