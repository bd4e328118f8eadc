//! Tests of schemas and bindings against the fixture folder `tests/fixtures/proto/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proto")
}

const READING: &str = r#"{"sensor":"t1","quantity":{"value":21.5,"unit":"CELSIUS"},
    "location":{"line":"L1","cell":3},"samples":[1.5,2.5],"labels":{"site":"north"},
    "fault_code":7,"sequence":"9007199254740993"}"#;

#[test]
fn a_folder_compiles_with_its_imports_and_lists_its_types() {
    let schema = Schema::compile(&fixtures()).unwrap();
    assert_eq!(schema.files, 2);
    assert_eq!(
        schema.message_names(),
        [
            "canopy.common.Quantity",
            "canopy.plant.Command",
            "canopy.plant.Reading",
            "canopy.plant.Reading.Location",
        ]
    );
    // One file: imports are looked up beside it.
    let one = Schema::compile(&fixtures().join("plant.proto")).unwrap();
    assert_eq!(one.files, 1);
    assert!(one.message("canopy.plant.Reading").is_ok());
}

#[test]
fn json_round_trips_through_bytes() {
    let schema = Schema::compile(&fixtures()).unwrap();
    let desc = schema.message(".canopy.plant.Reading").unwrap();
    let bytes = encode(&desc, READING).unwrap();
    let json = decode(&desc, &bytes).unwrap();
    assert_eq!(json["quantity"]["unit"], "CELSIUS", "enums by name");
    assert_eq!(json["quantity"]["value"].as_f64(), Some(21.5));
    assert_eq!(json["location"]["cell"].as_u64(), Some(3), "nested message");
    assert_eq!(json["samples"][1].as_f64(), Some(2.5), "repeated");
    assert_eq!(json["labels"]["site"], "north", "map");
    assert_eq!(json["fault_code"].as_u64(), Some(7), "oneof");
    assert!(json.get("ok").is_none(), "the other oneof member is not set");
    assert_eq!(
        json["sequence"].to_string(),
        "9007199254740993",
        "64-bit integers are exact numbers"
    );
    // Defaults are shown, so a value that drops to zero stays in the tree and the charts.
    let zero = decode(&desc, &encode(&desc, r#"{"sensor":"t1"}"#).unwrap()).unwrap();
    assert_eq!(zero["sequence"].as_i64(), Some(0));
    // And back: the decoded JSON encodes to the same bytes.
    assert_eq!(encode(&desc, &json.to_string()).unwrap(), bytes);
    // lowerCamelCase names are accepted too.
    let camel = encode(&desc, r#"{"faultCode":7}"#).unwrap();
    assert_eq!(decode(&desc, &camel).unwrap()["fault_code"].as_u64(), Some(7));
}

#[test]
fn compile_errors_carry_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.proto"),
        "syntax = \"proto3\";\n\nmessage A {\n  string a = 1\n}\n",
    )
    .unwrap();
    let e = Schema::compile(dir.path()).unwrap_err().to_string();
    assert!(e.starts_with("bad.proto:5:1: "), "{e}");
    std::fs::write(
        dir.path().join("bad.proto"),
        "syntax = \"proto3\";\nmessage A {\n  Missing m = 1;\n}\n",
    )
    .unwrap();
    let e = Schema::compile(dir.path()).unwrap_err().to_string();
    assert!(e.starts_with("bad.proto:3:3: "), "{e}");
    assert!(e.contains("Missing"), "{e}");
    let e = Schema::compile(&dir.path().join("none.proto")).unwrap_err();
    assert!(matches!(e, ProtoError::Read { .. }), "{e}");
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        Schema::compile(empty.path()).unwrap_err(),
        ProtoError::NoFiles(empty.path().to_owned())
    );
}

#[test]
fn unknown_types_and_bad_payloads_say_why() {
    let schema = Schema::compile(&fixtures()).unwrap();
    let e = schema.message("Reading").unwrap_err().to_string();
    assert_eq!(
        e,
        "no message type `Reading` in the schema (did you mean canopy.plant.Reading?)"
    );
    let desc = schema.message("canopy.plant.Reading").unwrap();
    // Field 1 (sensor, a string) sent as a varint: the wrong wire type.
    let e = decode(&desc, &[0x08, 0x01]).unwrap_err().to_string();
    assert!(e.starts_with("not a canopy.plant.Reading message: "), "{e}");
    let e = decode(&desc, &[0xff, 0xff, 0xff]).unwrap_err();
    assert!(matches!(e, ProtoError::Decode { .. }), "{e}");
    let e = encode(&desc, r#"{"sensor": 5}"#).unwrap_err().to_string();
    assert!(
        e.starts_with("the JSON does not fit canopy.plant.Reading: "),
        "{e}"
    );
    let e = encode(&desc, r#"{"nope": 1}"#).unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
    let e = encode(&desc, "{} trailing").unwrap_err().to_string();
    assert!(e.contains("trailing characters"), "{e}");
    let big = vec![0u8; MAX_DECODE_BYTES + 1];
    assert_eq!(
        decode(&desc, &big),
        Err(ProtoError::TooLarge(MAX_DECODE_BYTES + 1))
    );
}

#[test]
fn the_most_specific_binding_wins() {
    let settings = ProtoSettings {
        path: Some(fixtures()),
        bindings: vec![
            Binding::new("#", "catch.All"),
            Binding::new("plant/#", "plant.Any"),
            Binding::new("plant/+/temp", "plant.Temp"),
            Binding::new("plant/line1/temp", "plant.Line1"),
            Binding::new("plant/+/+", "plant.Two"),
            Binding::new("plant/+/+", "plant.TwoLater"),
        ],
    };
    let bound = |t: &str| settings.binding_for(t).map(|b| b.message_type.as_str());
    assert_eq!(bound("plant/line1/temp"), Some("plant.Line1"));
    assert_eq!(bound("plant/line2/temp"), Some("plant.Temp"));
    assert_eq!(bound("plant/line2/flow"), Some("plant.Two"), "first of equals");
    assert_eq!(bound("plant/x"), Some("plant.Any"));
    assert_eq!(bound("other"), Some("catch.All"));
    assert_eq!(bound("$SYS/uptime"), None, "# does not match $ topics");
    assert!(ProtoSettings::default().binding_for("a").is_none());
}

#[test]
fn a_decoder_uses_the_bound_type_and_reports_unknown_ones() {
    let schema = Arc::new(Schema::compile(&fixtures()).unwrap());
    let decoder = Decoder::new(
        schema,
        &[
            Binding::new("plant/+/reading", "canopy.plant.Reading"),
            Binding::new("plant/cmd", "canopy.plant.Nope"),
        ],
    );
    let bytes = decoder.encode("plant/a/reading", READING).unwrap().unwrap();
    let (json, type_name) = decoder.decode("plant/a/reading", &bytes).unwrap().unwrap();
    assert_eq!(
        (json["sensor"].as_str(), type_name.as_str()),
        (Some("t1"), "canopy.plant.Reading")
    );
    assert!(
        decoder.decode("other", &bytes).is_none(),
        "not bound: schema-less"
    );
    let e = decoder.decode("plant/cmd", b"").unwrap().unwrap_err();
    assert!(matches!(e, ProtoError::UnknownType { .. }), "{e}");
    assert_eq!(decoder.unknown_types().count(), 1);
}

#[test]
fn charts_and_exports_read_protobuf_payloads_through_the_decoder() {
    use std::time::{Duration, Instant, SystemTime};

    use crate::model::message::{Message, Properties, QoS};
    use crate::model::topic_tree::TopicTree;

    let schema = Arc::new(Schema::compile(&fixtures()).unwrap());
    let decoder = Decoder::new(schema, &[Binding::new("plant/+/reading", "canopy.plant.Reading")]);
    let msg = |value: f64, secs: u64| Message {
        topic: "plant/a/reading".into(),
        payload: decoder
            .encode(
                "plant/a/reading",
                &format!(r#"{{"quantity":{{"value":{value}}}}}"#),
            )
            .unwrap()
            .unwrap()
            .into(),
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        received: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        properties: Properties::default(),
        subscribed: true,
    };
    let mut tree = TopicTree::new();
    tree.insert(msg(20.5, 1), Instant::now());
    let mut charts = crate::model::series::Charts::default();
    charts.decoder = Some(decoder.clone());
    let path = vec!["quantity".to_owned(), "value".to_owned()];
    charts.add("plant/a/reading", path, &tree);
    charts.feed(&msg(0.0, 2));
    let mut bad = msg(1.0, 3);
    bad.payload = bytes::Bytes::from_static(&[0xff, 0xff]);
    charts.feed(&bad);
    assert_eq!(charts.series[0].points, [[1.0, 20.5], [2.0, 0.0]]);

    let id = tree.find("plant/a/reading").unwrap();
    tree.insert(bad, Instant::now());
    let entries = crate::model::export::history(&tree, id);
    let jsonl = crate::model::export::write_decoded(
        &entries,
        crate::model::export::Format::JsonLines,
        Some(&decoder),
    );
    let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["protobuf"]["type"], "canopy.plant.Reading");
    assert_eq!(
        lines[0]["protobuf"]["json"]["quantity"]["value"].as_f64(),
        Some(20.5)
    );
    assert_eq!(
        lines[0]["encoding"], "base64",
        "the bytes stay, so the export replays"
    );
    assert!(
        lines[1]["protobuf"]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a canopy.plant.Reading")
    );
    let csv =
        crate::model::export::write_decoded(&entries, crate::model::export::Format::Csv, Some(&decoder));
    assert!(
        csv.lines().nth(1).unwrap().contains(",protobuf,\"{\"\"sensor"),
        "{csv}"
    );
}

/// Decoding cost per message, for the notes (a measurement, not a check: `cargo test --lib
/// decode_cost -- --ignored --nocapture`).
#[test]
#[ignore = "a measurement"]
fn decode_cost() {
    let schema = Schema::compile(&fixtures()).unwrap();
    let desc = schema.message("canopy.plant.Reading").unwrap();
    let bytes = encode(&desc, READING).unwrap();
    let n = 20_000;
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(decode(&desc, std::hint::black_box(&bytes)).unwrap());
    }
    let per = started.elapsed() / n;
    println!(
        "decode of a {}-byte Reading to JSON: {per:?} per message",
        bytes.len()
    );
    let started = std::time::Instant::now();
    let compiled = Schema::compile(&fixtures()).unwrap();
    println!("compile of {} files: {:?}", compiled.files, started.elapsed());
}
