//! Binary payload decoders: gzip, CBOR (ciborium), MessagePack (rmpv), Sparkplug B (prost
//! messages from the Eclipse Tahu schema), schema-less protobuf (the wire format, hand-written
//! here and fuzzed in the tests) and PNG/JPEG image headers. Each returns `None` when the bytes
//! are not what it decodes; none panics on any input.

use std::fmt::Write as _;
use std::io::Read as _;

/// Decompressed gzip payloads are cut at this size (a gzip bomb costs nothing).
pub const GUNZIP_LIMIT: usize = 64 * 1024 * 1024;

/// Nesting deeper than this is shown as `…` (a hostile payload cannot exhaust the stack).
const MAX_DEPTH: usize = 32;

/// Whether the bytes start like gzip.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses gzip (at most `limit` bytes out); the flag says whether it was cut.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<(Vec<u8>, bool), String> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| format!("not valid gzip: {e}"))?;
    let cut = out.len() > limit;
    out.truncate(limit);
    Ok((out, cut))
}

/// An image's format and size, from its header.
pub fn image_info(bytes: &[u8]) -> Option<(&'static str, u32, u32)> {
    let format = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("PNG", image::ImageFormat::Png)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        ("JPEG", image::ImageFormat::Jpeg)
    } else {
        return None;
    };
    let reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format.1);
    let (w, h) = reader.into_dimensions().ok()?;
    Some((format.0, w, h))
}

/// CBOR as indented JSON-like text, if the whole payload is one CBOR item.
pub fn cbor_text(bytes: &[u8]) -> Option<String> {
    let mut reader = bytes;
    let value: ciborium::Value =
        ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH).ok()?;
    if !reader.is_empty() {
        return None;
    }
    let mut out = String::new();
    cbor_write(&mut out, &value, 0);
    Some(out)
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn cbor_write(out: &mut String, v: &ciborium::Value, depth: usize) {
    use ciborium::Value as V;
    match v {
        V::Integer(i) => {
            let _ = write!(out, "{}", i128::from(*i));
        }
        V::Float(f) => {
            let _ = write!(out, "{f}");
        }
        V::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        V::Null => out.push_str("null"),
        V::Text(t) => {
            let _ = write!(out, "{t:?}");
        }
        V::Bytes(b) => {
            let _ = write!(out, "h'{}'", hex(b, 64));
        }
        V::Tag(tag, inner) => {
            let _ = write!(out, "{tag}(");
            cbor_write(out, inner, depth);
            out.push(')');
        }
        V::Array(items) => container(out, depth, ('[', ']'), items, cbor_write),
        V::Map(entries) => container(out, depth, ('{', '}'), entries, |out, (k, v), depth| {
            cbor_write(out, k, depth);
            out.push_str(": ");
            cbor_write(out, v, depth);
        }),
        _ => out.push('?'),
    }
}

/// Writes `[ … ]` or `{ … }` with one indented item per line.
fn container<T>(
    out: &mut String,
    depth: usize,
    (open, close): (char, char),
    items: &[T],
    write: impl Fn(&mut String, &T, usize),
) {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        indent(out, depth + 1);
        write(out, item, depth + 1);
    }
    if !items.is_empty() {
        out.push('\n');
        indent(out, depth);
    }
    out.push(close);
}

fn hex(bytes: &[u8], max: usize) -> String {
    let mut s: String = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push('…');
    }
    s
}

/// MessagePack as indented JSON-like text, if the whole payload is one MessagePack value.
pub fn msgpack_text(bytes: &[u8]) -> Option<String> {
    let mut reader = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH).ok()?;
    if !reader.is_empty() {
        return None;
    }
    let mut out = String::new();
    msgpack_write(&mut out, &value, 0);
    Some(out)
}

fn msgpack_write(out: &mut String, v: &rmpv::Value, depth: usize) {
    use rmpv::Value as V;
    match v {
        V::Array(items) => container(out, depth, ('[', ']'), items, msgpack_write),
        V::Map(entries) => container(out, depth, ('{', '}'), entries, |out, (k, v), depth| {
            msgpack_write(out, k, depth);
            out.push_str(": ");
            msgpack_write(out, v, depth);
        }),
        V::Binary(b) => {
            let _ = write!(out, "h'{}'", hex(b, 64));
        }
        V::Ext(kind, data) => {
            let _ = write!(out, "ext({kind}, h'{}')", hex(data, 64));
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// One field of a schema-less protobuf message.
#[derive(Debug, Clone, PartialEq)]
pub enum ProtoValue {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 5.
    Fixed32(u32),
    /// Wire type 2 that parses as a message.
    Message(Vec<(u32, ProtoValue)>),
    /// Wire type 2 that is printable UTF-8.
    Text(String),
    /// Wire type 2, anything else.
    Bytes(Vec<u8>),
}

fn varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in 0..10 {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << (shift * 7);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Parses the protobuf wire format without a schema: every byte must belong to a field (no
/// groups, field numbers 1 to 2^29-1). Length-delimited fields are shown as a nested message
/// when they parse as one, as text when printable, else as bytes.
pub fn protobuf_parse(bytes: &[u8]) -> Option<Vec<(u32, ProtoValue)>> {
    parse_message(bytes, 0)
}

fn parse_message(bytes: &[u8], depth: usize) -> Option<Vec<(u32, ProtoValue)>> {
    if bytes.is_empty() || depth > MAX_DEPTH {
        return None;
    }
    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let key = varint(bytes, &mut pos)?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|n| (1..(1 << 29)).contains(n))?;
        let value = match key & 7 {
            0 => ProtoValue::Varint(varint(bytes, &mut pos)?),
            1 => {
                let raw = bytes.get(pos..pos + 8)?;
                pos += 8;
                ProtoValue::Fixed64(u64::from_le_bytes(raw.try_into().ok()?))
            }
            5 => {
                let raw = bytes.get(pos..pos + 4)?;
                pos += 4;
                ProtoValue::Fixed32(u32::from_le_bytes(raw.try_into().ok()?))
            }
            2 => {
                let len = usize::try_from(varint(bytes, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                let raw = bytes.get(pos..end)?;
                pos = end;
                match std::str::from_utf8(raw) {
                    Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                        ProtoValue::Text(text.to_owned())
                    }
                    _ => match parse_message(raw, depth + 1) {
                        Some(inner) => ProtoValue::Message(inner),
                        None => ProtoValue::Bytes(raw.to_vec()),
                    },
                }
            }
            _ => return None,
        };
        fields.push((number, value));
    }
    Some(fields)
}

/// Schema-less protobuf as an indented listing of field numbers, wire types and values.
pub fn protobuf_text(bytes: &[u8]) -> Option<String> {
    let fields = protobuf_parse(bytes)?;
    let mut out = String::new();
    proto_write(&mut out, &fields, 0);
    Some(out)
}

fn proto_write(out: &mut String, fields: &[(u32, ProtoValue)], depth: usize) {
    for (number, value) in fields {
        indent(out, depth);
        let _ = match value {
            ProtoValue::Varint(v) => {
                let zigzag = ((v >> 1) as i64) ^ -((v & 1) as i64);
                writeln!(out, "{number}: varint {v} (sint {zigzag})")
            }
            ProtoValue::Fixed64(v) => writeln!(out, "{number}: fixed64 {v} (double {})", f64::from_bits(*v)),
            ProtoValue::Fixed32(v) => writeln!(out, "{number}: fixed32 {v} (float {})", f32::from_bits(*v)),
            ProtoValue::Text(t) => writeln!(out, "{number}: string {t:?}"),
            ProtoValue::Bytes(b) => writeln!(out, "{number}: bytes ({}) {}", b.len(), hex(b, 32)),
            ProtoValue::Message(inner) => {
                let _ = writeln!(out, "{number}: message {{");
                proto_write(out, inner, depth + 1);
                indent(out, depth);
                writeln!(out, "}}")
            }
        };
    }
}

/// Sparkplug B (`spBv1.0/...` topics): the payload schema of Eclipse Tahu, as prost messages.
pub mod sparkplug {
    use std::fmt::Write as _;

    use prost::Message as _;

    /// The first topic level of Sparkplug B topics.
    pub const NAMESPACE: &str = "spBv1.0";

    /// A Sparkplug B payload.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Payload {
        /// Milliseconds since the epoch.
        #[prost(uint64, optional, tag = "1")]
        pub timestamp: Option<u64>,
        /// The metrics.
        #[prost(message, repeated, tag = "2")]
        pub metrics: Vec<Metric>,
        /// Sequence number (0 to 255).
        #[prost(uint64, optional, tag = "3")]
        pub seq: Option<u64>,
        /// UUID of the body's format.
        #[prost(string, optional, tag = "4")]
        pub uuid: Option<String>,
        /// Opaque body.
        #[prost(bytes = "vec", optional, tag = "5")]
        pub body: Option<Vec<u8>>,
    }

    /// One metric.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        /// Its name (absent when an alias is used).
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        /// Alias given in the birth certificate.
        #[prost(uint64, optional, tag = "2")]
        pub alias: Option<u64>,
        /// Milliseconds since the epoch.
        #[prost(uint64, optional, tag = "3")]
        pub timestamp: Option<u64>,
        /// The data type (see [`datatype_name`]).
        #[prost(uint32, optional, tag = "4")]
        pub datatype: Option<u32>,
        /// Historical value.
        #[prost(bool, optional, tag = "5")]
        pub is_historical: Option<bool>,
        /// Transient value.
        #[prost(bool, optional, tag = "6")]
        pub is_transient: Option<bool>,
        /// The value is null.
        #[prost(bool, optional, tag = "7")]
        pub is_null: Option<bool>,
        /// The value.
        #[prost(oneof = "Value", tags = "10, 11, 12, 13, 14, 15, 16, 17, 18, 19")]
        pub value: Option<Value>,
    }

    /// A metric's value (data sets, templates and extensions are shown as their kind only).
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// Int8/16/32, UInt8/16/32.
        #[prost(uint32, tag = "10")]
        Int(u32),
        /// Int64, UInt64, DateTime.
        #[prost(uint64, tag = "11")]
        Long(u64),
        /// Float.
        #[prost(float, tag = "12")]
        Float(f32),
        /// Double.
        #[prost(double, tag = "13")]
        Double(f64),
        /// Boolean.
        #[prost(bool, tag = "14")]
        Boolean(bool),
        /// String, Text, UUID.
        #[prost(string, tag = "15")]
        String(String),
        /// Bytes, File.
        #[prost(bytes = "vec", tag = "16")]
        Bytes(Vec<u8>),
        /// A data set.
        #[prost(bytes = "vec", tag = "17")]
        DataSet(Vec<u8>),
        /// A template.
        #[prost(bytes = "vec", tag = "18")]
        Template(Vec<u8>),
        /// An extension.
        #[prost(bytes = "vec", tag = "19")]
        Extension(Vec<u8>),
    }

    /// The name of a Sparkplug data type.
    pub fn datatype_name(t: u32) -> &'static str {
        match t {
            1 => "Int8",
            2 => "Int16",
            3 => "Int32",
            4 => "Int64",
            5 => "UInt8",
            6 => "UInt16",
            7 => "UInt32",
            8 => "UInt64",
            9 => "Float",
            10 => "Double",
            11 => "Boolean",
            12 => "String",
            13 => "DateTime",
            14 => "Text",
            15 => "UUID",
            16 => "DataSet",
            17 => "Bytes",
            18 => "File",
            19 => "Template",
            20 => "PropertySet",
            21 => "PropertySetList",
            _ => "Unknown",
        }
    }

    /// A metric's value in words, and as a number when it is one.
    pub fn value_text(m: &Metric) -> (String, Option<f64>) {
        if m.is_null == Some(true) {
            return ("null".into(), None);
        }
        let t = m.datatype.unwrap_or(0);
        match &m.value {
            // Signed types travel as two's complement in the unsigned field.
            Some(Value::Int(v)) => {
                let n = match t {
                    1 => f64::from(*v as u8 as i8),
                    2 => f64::from(*v as u16 as i16),
                    3 => f64::from(*v as i32),
                    _ => f64::from(*v),
                };
                (n.to_string(), Some(n))
            }
            Some(Value::Long(v)) => {
                let n = if t == 4 { *v as i64 as f64 } else { *v as f64 };
                if t == 13 {
                    let when = chrono::DateTime::from_timestamp_millis(*v as i64)
                        .map_or_else(|| v.to_string(), |d| d.to_rfc3339());
                    (when, Some(n))
                } else {
                    let text = if t == 4 {
                        (*v as i64).to_string()
                    } else {
                        v.to_string()
                    };
                    (text, Some(n))
                }
            }
            Some(Value::Float(f)) => (f.to_string(), Some(f64::from(*f))),
            Some(Value::Double(f)) => (f.to_string(), Some(*f)),
            Some(Value::Boolean(b)) => (b.to_string(), Some(if *b { 1.0 } else { 0.0 })),
            Some(Value::String(s)) => (format!("{s:?}"), None),
            Some(Value::Bytes(b)) => (format!("{} bytes", b.len()), None),
            Some(Value::DataSet(_)) => ("(data set)".into(), None),
            Some(Value::Template(_)) => ("(template)".into(), None),
            Some(Value::Extension(_)) => ("(extension)".into(), None),
            None => ("(no value)".into(), None),
        }
    }

    /// Decodes a payload; plain JSON or text is never taken for Sparkplug.
    pub fn decode(bytes: &[u8]) -> Option<Payload> {
        if bytes.is_empty() || crate::model::payload::is_json(bytes) {
            return None;
        }
        let payload = Payload::decode(bytes).ok()?;
        // Something Sparkplug-like must be there, not just bytes that happen to decode.
        (payload.timestamp.is_some() || !payload.metrics.is_empty() || payload.seq.is_some())
            .then_some(payload)
    }

    /// A payload as a table of metrics.
    pub fn text(bytes: &[u8]) -> Option<String> {
        let p = decode(bytes)?;
        let mut out = String::new();
        let when = p
            .timestamp
            .and_then(|t| chrono::DateTime::from_timestamp_millis(t as i64))
            .map_or_else(|| "no timestamp".into(), |d| d.to_rfc3339());
        let _ = writeln!(
            out,
            "Sparkplug B payload · seq {} · {when} · {} metrics",
            p.seq.map_or_else(|| "-".into(), |s| s.to_string()),
            p.metrics.len()
        );
        let width = p
            .metrics
            .iter()
            .map(|m| m.name.as_deref().map_or(8, str::len))
            .max()
            .unwrap_or(4)
            .min(48);
        for m in &p.metrics {
            let name = match (&m.name, m.alias) {
                (Some(n), _) => n.clone(),
                (None, Some(a)) => format!("alias {a}"),
                (None, None) => "(unnamed)".into(),
            };
            let (value, _) = value_text(m);
            let _ = writeln!(
                out,
                "{name:<width$}  {:<9} {value}",
                datatype_name(m.datatype.unwrap_or(0))
            );
        }
        if let Some(uuid) = &p.uuid {
            let _ = writeln!(out, "uuid {uuid}");
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
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
            0x08, 0x96, 0x01, 0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g', 0x1a, 0x05, 0x0d, 0x00,
            0x00, 0x80, 0x3f,
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
                crate::model::payload::View::Auto,
                1024,
            );
        }
        // Deep nesting is refused, not recursed into.
        let deep = [0x81u8; 10_000];
        assert!(cbor_text(&deep).is_none());
        let deep_mp = [0x91u8; 10_000];
        assert!(msgpack_text(&deep_mp).is_none());
    }
}
