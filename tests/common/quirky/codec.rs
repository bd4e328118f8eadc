//! Hand-written MQTT 3.1 / 3.1.1 / 5 wire format: just the packets the quirky broker reads and
//! writes. Decoding is strict enough to pull out what the tests assert on and lenient about
//! everything else (unknown MQTT 5 properties are skipped by type, not rejected).
//!
//! Protocol levels: 3 = MQTT 3.1 (`MQIsdp`), 4 = MQTT 3.1.1 (`MQTT`), 5 = MQTT 5 (`MQTT`).

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest remaining length the protocol can express (`FF FF FF 7F`), about 256 MB.
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// Control packet types (high nibble of the first byte).
pub const CONNECT: u8 = 1;
pub const CONNACK: u8 = 2;
pub const PUBLISH: u8 = 3;
pub const PUBACK: u8 = 4;
pub const PUBREC: u8 = 5;
pub const PUBREL: u8 = 6;
pub const PUBCOMP: u8 = 7;
pub const SUBSCRIBE: u8 = 8;
pub const SUBACK: u8 = 9;
pub const UNSUBSCRIBE: u8 = 10;
pub const UNSUBACK: u8 = 11;
pub const PINGREQ: u8 = 12;
pub const PINGRESP: u8 = 13;
pub const DISCONNECT: u8 = 14;

/// One frame off the wire: the first byte and the body (remaining-length bytes).
pub struct Frame {
    pub first: u8,
    pub body: Vec<u8>,
}

impl Frame {
    pub fn kind(&self) -> u8 {
        self.first >> 4
    }
}

/// Reads one frame. `Ok(None)` on a clean end of stream before the first byte.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Frame>> {
    let mut first = [0u8; 1];
    if r.read(&mut first).await? == 0 {
        return Ok(None);
    }
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = r.read_u8().await?;
        len |= usize::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return Err(invalid("remaining length longer than 4 bytes"));
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Some(Frame {
        first: first[0],
        body,
    }))
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// Decoding error: a short description, enough to close the connection with a log line.
pub type DecodeResult<T> = Result<T, String>;

/// Cursor over a packet body.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err(format!("need {n} bytes, have {}", self.buf.len()));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
    pub fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> DecodeResult<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self) -> DecodeResult<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn varint(&mut self) -> DecodeResult<usize> {
        let mut value = 0usize;
        for i in 0..4 {
            let b = self.u8()?;
            value |= usize::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("variable byte integer longer than 4 bytes".into())
    }
    /// Two-byte length then that many bytes.
    pub fn binary(&mut self) -> DecodeResult<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    pub fn string(&mut self) -> DecodeResult<String> {
        let b = self.binary()?;
        String::from_utf8(b.to_vec()).map_err(|_| "string is not UTF-8".to_string())
    }
}

/// The few MQTT 5 properties the broker looks at; the rest are skipped.
#[derive(Default, Debug)]
pub struct Properties {
    pub session_expiry: Option<u32>,
    pub topic_alias_max: Option<u16>,
    pub topic_alias: Option<u16>,
}

/// Reads an MQTT 5 property block (varint length, then properties).
pub fn read_properties(r: &mut Reader) -> DecodeResult<Properties> {
    let len = r.varint()?;
    let mut p = Reader::new(r.take(len)?);
    let mut props = Properties::default();
    while !p.is_empty() {
        let id = p.varint()?;
        match id {
            0x11 => props.session_expiry = Some(p.u32()?),
            0x22 => props.topic_alias_max = Some(p.u16()?),
            0x23 => props.topic_alias = Some(p.u16()?),
            // Byte.
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                p.u8()?;
            }
            // Two-byte integer.
            0x13 | 0x21 => {
                p.u16()?;
            }
            // Four-byte integer.
            0x02 | 0x18 | 0x27 => {
                p.u32()?;
            }
            // Variable byte integer (subscription identifier).
            0x0B => {
                p.varint()?;
            }
            // UTF-8 string or binary data.
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => {
                p.binary()?;
            }
            // User property: string pair.
            0x26 => {
                p.binary()?;
                p.binary()?;
            }
            other => return Err(format!("unknown property 0x{other:02X}")),
        }
    }
    Ok(props)
}

/// What a client said in its CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectSeen {
    /// `MQIsdp` for 3.1, `MQTT` for 3.1.1 and 5 (whatever the client wrote).
    pub protocol_name: String,
    /// Protocol level byte: 3, 4 or 5 (or whatever the client wrote).
    pub level: u8,
    pub client_id: String,
    /// Clean session (3.x) / clean start (5).
    pub clean: bool,
    pub keep_alive: u16,
    /// MQTT 5 session expiry interval property, if sent.
    pub session_expiry: Option<u32>,
    /// MQTT 5 topic alias maximum property, if sent.
    pub topic_alias_max: Option<u16>,
    pub username: Option<String>,
    /// Will topic, if the client set a will.
    pub will_topic: Option<String>,
}

/// Decodes a CONNECT body.
pub fn decode_connect(body: &[u8]) -> DecodeResult<ConnectSeen> {
    let mut r = Reader::new(body);
    let protocol_name = r.string()?;
    let level = r.u8()?;
    let flags = r.u8()?;
    let keep_alive = r.u16()?;
    let props = if level == 5 {
        read_properties(&mut r)?
    } else {
        Properties::default()
    };
    let client_id = r.string()?;
    let mut will_topic = None;
    if flags & 0x04 != 0 {
        if level == 5 {
            read_properties(&mut r)?;
        }
        will_topic = Some(r.string()?);
        r.binary()?;
    }
    let username = if flags & 0x80 != 0 {
        Some(r.string()?)
    } else {
        None
    };
    Ok(ConnectSeen {
        protocol_name,
        level,
        client_id,
        clean: flags & 0x02 != 0,
        keep_alive,
        session_expiry: props.session_expiry,
        topic_alias_max: props.topic_alias_max,
        username,
        will_topic,
    })
}

/// A PUBLISH from a client.
pub struct PublishIn {
    /// Empty when the client used a topic alias alone (resolved by the caller).
    pub topic: String,
    pub topic_alias: Option<u16>,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
    pub pkid: u16,
}

pub fn decode_publish(first: u8, body: &[u8], level: u8) -> DecodeResult<PublishIn> {
    let qos = (first >> 1) & 0x03;
    let mut r = Reader::new(body);
    let topic = r.string()?;
    let pkid = if qos > 0 { r.u16()? } else { 0 };
    let props = if level == 5 {
        read_properties(&mut r)?
    } else {
        Properties::default()
    };
    Ok(PublishIn {
        topic,
        topic_alias: props.topic_alias,
        payload: r.rest().to_vec(),
        qos,
        retain: first & 0x01 != 0,
        pkid,
    })
}

/// SUBSCRIBE (filters with requested QoS) or UNSUBSCRIBE (QoS 0).
pub fn decode_subscribe(body: &[u8], level: u8, with_qos: bool) -> DecodeResult<(u16, Vec<(String, u8)>)> {
    let mut r = Reader::new(body);
    let pkid = r.u16()?;
    if level == 5 {
        read_properties(&mut r)?;
    }
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        // MQTT 5 options byte: QoS in the low two bits, the rest (no-local, retain
        // handling...) is ignored.
        let qos = if with_qos { r.u8()? & 0x03 } else { 0 };
        filters.push((filter, qos));
    }
    Ok((pkid, filters))
}

/// Packet id at the start of an ack body (PUBACK, PUBREC, PUBREL, PUBCOMP).
pub fn decode_pkid(body: &[u8]) -> DecodeResult<u16> {
    Reader::new(body).u16()
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/// Appends a variable byte integer (remaining length, property length).
pub fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

/// Appends a length-prefixed string or binary.
pub fn put_binary(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// First byte + remaining length + body.
pub fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(first);
    put_varint(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// CONNACK. 3.1 and 3.1.1: `20 02 <session present> <rc>`. 5: `20 03 <sp> <reason> 00`.
pub fn connack(level: u8, session_present: bool, code: u8) -> Vec<u8> {
    let mut body = vec![u8::from(session_present), code];
    if level == 5 {
        body.push(0); // no properties
    }
    frame(CONNACK << 4, &body)
}

/// SUBACK granting `granted` (one code per filter). MQTT 5 adds an empty property block.
pub fn suback(level: u8, pkid: u16, granted: &[u8]) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    if level == 5 {
        body.push(0);
    }
    body.extend_from_slice(granted);
    frame(SUBACK << 4, &body)
}

/// UNSUBACK. 3.x: packet id only. 5: packet id, no properties, reason 0 per filter.
pub fn unsuback(level: u8, pkid: u16, filters: usize) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    if level == 5 {
        body.push(0);
        body.extend(std::iter::repeat_n(0u8, filters));
    }
    frame(UNSUBACK << 4, &body)
}

/// PUBACK / PUBREC / PUBCOMP (`kind` = packet type): the two-byte form, valid in every level
/// (MQTT 5 allows omitting reason 0 and properties).
pub fn ack(kind: u8, pkid: u16) -> Vec<u8> {
    frame(kind << 4, &pkid.to_be_bytes())
}

pub fn pingresp() -> Vec<u8> {
    vec![PINGRESP << 4, 0]
}

/// PUBLISH to a client. `topic` is raw bytes so hostile tests can send invalid UTF-8;
/// `alias` adds an MQTT 5 Topic Alias property (0x23).
pub fn publish(
    level: u8,
    topic: &[u8],
    payload: &[u8],
    qos: u8,
    retain: bool,
    pkid: u16,
    alias: Option<u16>,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(topic.len() + payload.len() + 8);
    put_binary(&mut body, topic);
    if qos > 0 {
        body.extend_from_slice(&pkid.to_be_bytes());
    }
    if level == 5 {
        match alias {
            Some(a) => {
                body.extend_from_slice(&[3, 0x23]);
                body.extend_from_slice(&a.to_be_bytes());
            }
            None => body.push(0),
        }
    }
    body.extend_from_slice(payload);
    frame((PUBLISH << 4) | (qos << 1) | u8::from(retain), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirky_codec_varint_edges() {
        for (n, bytes) in [
            (0usize, vec![0x00]),
            (127, vec![0x7F]),
            (128, vec![0x80, 0x01]),
            (16_383, vec![0xFF, 0x7F]),
            (MAX_REMAINING_LENGTH, vec![0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(out, bytes, "{n}");
            assert_eq!(Reader::new(&bytes).varint().unwrap(), n);
        }
        assert!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]).varint().is_err());
    }

    #[test]
    fn quirky_codec_publish_v5_alias_round_trip() {
        let bytes = publish(5, b"", b"hi", 1, false, 7, Some(1));
        assert_eq!(bytes, [0x32, 10, 0, 0, 0, 7, 3, 0x23, 0, 1, b'h', b'i'][..]);
        let p = decode_publish(bytes[0], &bytes[2..], 5).unwrap();
        assert_eq!(
            (p.topic.as_str(), p.topic_alias, p.pkid, p.qos),
            ("", Some(1), 7, 1)
        );
        assert_eq!(p.payload, b"hi");
    }
}
