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
mod tests;
