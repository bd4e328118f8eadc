//! Tests of [`super`] (kept apart so the module reads in one sitting).

use prost::Message as _;
use rand::{Rng, SeedableRng};

use super::*;

fn sparkplug_sample() -> Vec<u8> {
    use sparkplug::{Metric, Payload, Value};
    Payload {
        timestamp: Some(1_764_140_000_000),
        seq: Some(7),
        metrics: vec![
            Metric {
                name: Some("Temperature".into()),
                datatype: Some(10),
                value: Some(Value::Double(21.5)),
                ..Metric::default()
            },
            Metric {
                name: Some("Offset".into()),
                datatype: Some(3),
                value: Some(Value::Int((-5i32) as u32)),
                ..Metric::default()
            },
            Metric {
                name: Some("Running".into()),
                datatype: Some(11),
                value: Some(Value::Boolean(true)),
                ..Metric::default()
            },
        ],
        ..Payload::default()
    }
    .encode_to_vec()
}

#[test]
fn sparkplug_metrics_with_names_types_and_values() {
    let text = sparkplug::text(&sparkplug_sample()).unwrap();
    assert!(
        text.starts_with("Sparkplug B payload · seq 7 · 2025-11-26"),
        "{text}"
    );
    assert!(text.contains("Temperature  Double    21.5"), "{text}");
    assert!(text.contains("Offset       Int32     -5"), "{text}");
    assert!(text.contains("Running      Boolean   true"), "{text}");
    for not_sparkplug in [&br#"{"metrics":[1,2]}"#[..], b"[1,2,3]", b"21.5", b"", b"hello"] {
        assert!(sparkplug::decode(not_sparkplug).is_none(), "{not_sparkplug:?}");
    }
}

#[test]
fn cbor_and_msgpack() {
    let mut cbor = Vec::new();
    let value = ciborium::Value::Map(vec![
        ("temp".into(), 21.5.into()),
        ("ok".into(), true.into()),
        (
            "tags".into(),
            ciborium::Value::Array(vec!["a".into(), "b".into()]),
        ),
    ]);
    ciborium::ser::into_writer(&value, &mut cbor).unwrap();
    let text = cbor_text(&cbor).unwrap();
    assert!(
        text.contains("\"temp\": 21.5") && text.contains("\"ok\": true"),
        "{text}"
    );
    assert!(cbor_text(b"\xa1").is_none(), "truncated map");

    let mut mp = Vec::new();
    rmpv::encode::write_value(
        &mut mp,
        &rmpv::Value::Map(vec![
            ("v".into(), rmpv::Value::from(42)),
            ("b".into(), rmpv::Value::Binary(vec![1, 2])),
        ]),
    )
    .unwrap();
    let text = msgpack_text(&mp).unwrap();
    assert!(text.contains("\"v\": 42") && text.contains("h'0102'"), "{text}");
    assert!(msgpack_text(&mp[..mp.len() - 1]).is_none());
}

#[test]
fn schema_less_protobuf() {
    // field 1 varint 150, field 2 "testing", field 3 { field 1 fixed32 1.0 }
    let bytes = [
        0x08, 0x96, 0x01, 0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g', 0x1a, 0x05, 0x0d, 0x00, 0x00,
        0x80, 0x3f,
    ];
    let text = protobuf_text(&bytes).unwrap();
    assert_eq!(
        text,
        "1: varint 150 (sint 75)\n2: string \"testing\"\n3: message {\n  1: fixed32 1065353216 (float 1)\n}\n"
    );
    assert!(protobuf_text(&[0x08]).is_none(), "truncated varint");
    assert!(protobuf_text(&[0x0b]).is_none(), "groups are not accepted");
    assert!(protobuf_text(b"").is_none());
}

#[test]
fn gzip_and_images() {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&b"hello ".repeat(1000)).unwrap();
    let gz = enc.finish().unwrap();
    assert!(is_gzip(&gz));
    let (out, cut) = gunzip(&gz, 100).unwrap();
    assert_eq!((out.len(), cut), (100, true));
    assert_eq!(gunzip(&gz, GUNZIP_LIMIT).unwrap().0.len(), 6000);
    assert!(gunzip(&[0x1f, 0x8b, 0, 0], 100).is_err());

    let mut png = Vec::new();
    image::RgbImage::new(3, 2)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(image_info(&png), Some(("PNG", 3, 2)));
    assert_eq!(image_info(&png[..20]), None);
    assert_eq!(image_info(b"\xff\xd8\xff\xe0garbage"), None);
}

/// Random and mutated inputs: no decoder may panic (a fuzzer in a unit test, so it runs in CI).
#[test]
fn fuzz_every_decoder() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6361_6e6f);
    let seeds: Vec<Vec<u8>> = vec![
        sparkplug_sample(),
        vec![0x08, 0x96, 0x01, 0x12, 0x02, 0x1a, 0x00],
        vec![0xa2, 0x61, b'a', 0x01, 0x61, b'b', 0x82, 0x01, 0x02],
        vec![0x82, 0xa1, b'x', 0xc4, 0x01, 0xff],
        vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff],
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec(),
    ];
    for i in 0..30_000 {
        let mut input = if i % 3 == 0 {
            (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
        } else {
            seeds[i % seeds.len()].clone()
        };
        for _ in 0..rng.random_range(0..4) {
            if input.is_empty() {
                break;
            }
            let at = rng.random_range(0..input.len());
            match rng.random_range(0..3) {
                0 => input[at] = rng.random(),
                1 => input.truncate(at),
                _ => input.insert(at, rng.random()),
            }
        }
        let _ = sparkplug::text(&input);
        let _ = protobuf_text(&input);
        let _ = cbor_text(&input);
        let _ = msgpack_text(&input);
        let _ = gunzip(&input, 4096);
        let _ = image_info(&input);
        let _ = crate::model::payload::render_for(
            "spBv1.0/g/DDATA/n/d",
            &input,
            crate::model::payload::Decoding::Auto,
            1024,
        );
    }
    // Deep nesting is refused, not recursed into.
    let deep = [0x81u8; 10_000];
    assert!(cbor_text(&deep).is_none());
    let deep_mp = [0x91u8; 10_000];
    assert!(msgpack_text(&deep_mp).is_none());
}
