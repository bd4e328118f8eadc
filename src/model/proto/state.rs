//! A connection's schema at run time: being compiled, ready to decode, or why it is not, and
//! the message view's rendering of a payload with it.

use super::Decoder;
use crate::model::payload::{self, Decoding, Rendered};

/// Where a connection's schema is (the window compiles it in the background at connect).
#[derive(Debug, Clone, Default)]
pub enum SchemaState {
    /// The profile has no schema (or no binding).
    #[default]
    Off,
    /// Being compiled.
    Compiling,
    /// Compiled: payloads of bound topics are decoded with it.
    Ready(Decoder),
    /// It did not compile (the error, with file and line).
    Failed(String),
}

impl SchemaState {
    /// The decoder, once compiled.
    pub fn decoder(&self) -> Option<&Decoder> {
        match self {
            Self::Ready(d) => Some(d),
            _ => None,
        }
    }
}

/// Renders a payload of `topic` for the message view: with the type bound to the topic when
/// `decoding` is Auto and a binding matches (pretty JSON; hex with the reason when it does not
/// decode), else as [`payload::render_for`] does.
pub fn render(schema: &SchemaState, topic: &str, bytes: &[u8], decoding: Decoding, limit: usize) -> Rendered {
    let decoded = (decoding == Decoding::Auto)
        .then(|| schema.decoder()?.decode(topic, bytes))
        .flatten();
    match decoded {
        None => payload::render_for(topic, bytes, decoding, limit),
        Some(Ok((json, _))) => Rendered {
            decoding: Decoding::Json,
            text: serde_json::to_string_pretty(&json).unwrap_or_default(),
            shown: bytes.len(),
            total: bytes.len(),
            note: None,
        },
        Some(Err(e)) => {
            let mut r = payload::render_for(topic, bytes, Decoding::Hex, limit);
            r.note = Some(format!("{e} (shown as hex)"));
            r
        }
    }
}
