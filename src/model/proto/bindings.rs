//! Which message type a topic's payloads are: bindings of a topic pattern (`+`/`#` wildcards)
//! to a type, saved per profile, and the [`Decoder`] that pairs them with a compiled schema.
//!
//! When several patterns match a topic, **the most specific wins**: more literal levels first
//! (`plant/line1/temp` beats `plant/+/temp` beats `plant/#`), then a pattern without `#`, then
//! the longer pattern, then the one listed first. So a catch-all `#` binding can sit beside
//! exact ones in any order.

use std::sync::Arc;

use prost_reflect::MessageDescriptor;
use serde::{Deserialize, Serialize};

use super::{ProtoError, Schema};

/// One topic pattern bound to a message type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Binding {
    /// A topic filter: `plant/+/reading`, `devices/#`.
    pub pattern: String,
    /// The full message type name: `package.Message`.
    pub message_type: String,
}

impl Binding {
    /// A binding of `pattern` to `message_type`.
    pub fn new(pattern: impl Into<String>, message_type: impl Into<String>) -> Self {
        Self {
            pattern: pattern.into(),
            message_type: message_type.into(),
        }
    }

    /// How specific the pattern is, greater wins (see the module doc).
    fn specificity(&self) -> (usize, bool, usize) {
        let levels = self.pattern.split('/');
        let literal = levels.clone().filter(|l| *l != "+" && *l != "#").count();
        (literal, !self.pattern.ends_with('#'), levels.count())
    }
}

/// A profile's schema settings: the `.proto` file or folder, and the bindings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProtoSettings {
    /// A `.proto` file or a folder of them (compiled at connect, in the background). `None`:
    /// no schema, payloads are shown by the schema-less decoders.
    pub path: Option<std::path::PathBuf>,
    /// Topic patterns and their message types.
    pub bindings: Vec<Binding>,
}

impl ProtoSettings {
    /// Whether there is nothing to decode with.
    pub fn is_empty(&self) -> bool {
        self.path.is_none() || self.bindings.is_empty()
    }

    /// The binding `topic` uses, if any (the most specific that matches).
    pub fn binding_for(&self, topic: &str) -> Option<&Binding> {
        most_specific(&self.bindings, |b| b, topic)
    }
}

/// The item whose binding is the most specific match for `topic` (see the module doc).
fn most_specific<'a, T>(items: &'a [T], binding: impl Fn(&T) -> &Binding, topic: &str) -> Option<&'a T> {
    let mut best: Option<&T> = None;
    for item in items {
        let b = binding(item);
        // `>`: the first listed stays among equally specific ones.
        if !b.pattern.is_empty()
            && crate::model::topic::matches(&b.pattern, topic)
            && best.is_none_or(|best| b.specificity() > binding(best).specificity())
        {
            best = Some(item);
        }
    }
    best
}

/// A compiled schema with the bindings that use it: what the views, charts, exports and the
/// CLI decode with. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Decoder {
    schema: Arc<Schema>,
    bindings: Vec<(Binding, Result<MessageDescriptor, ProtoError>)>,
}

impl Decoder {
    /// Pairs `schema` with `bindings`, looking every type up once (an unknown type stays an
    /// error for the topics it binds, so they show why they are not decoded).
    pub fn new(schema: Arc<Schema>, bindings: &[Binding]) -> Self {
        let bindings = bindings
            .iter()
            .map(|b| (b.clone(), schema.message(&b.message_type)))
            .collect();
        Self { schema, bindings }
    }

    /// The same schema with other bindings (no compile).
    pub fn with_bindings(&self, bindings: &[Binding]) -> Self {
        Self::new(self.schema.clone(), bindings)
    }

    /// The compiled schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Bindings whose type is not in the schema, with the error (shown when the schema loads).
    pub fn unknown_types(&self) -> impl Iterator<Item = (&Binding, &ProtoError)> {
        self.bindings
            .iter()
            .filter_map(|(b, r)| r.as_ref().err().map(|e| (b, e)))
    }

    /// The message type bound to `topic` (its lookup error when the type is unknown), or
    /// `None` when no binding matches.
    pub fn type_for(&self, topic: &str) -> Option<Result<&MessageDescriptor, &ProtoError>> {
        most_specific(&self.bindings, |(b, _)| b, topic).map(|(_, r)| r.as_ref())
    }

    /// Decodes a payload of `topic` with its bound type: `None` when no binding matches, else
    /// the JSON and the type's full name, or why it does not decode.
    pub fn decode(
        &self,
        topic: &str,
        bytes: &[u8],
    ) -> Option<Result<(serde_json::Value, String), ProtoError>> {
        Some(
            self.type_for(topic)?
                .map_err(Clone::clone)
                .and_then(|desc| super::decode(desc, bytes).map(|json| (json, desc.full_name().to_owned()))),
        )
    }

    /// [`Decoder::decode`] as a recording line or an export carries it.
    pub fn decode_json(&self, topic: &str, bytes: &[u8]) -> Option<super::ProtoJson> {
        let (type_name, result) = match self.type_for(topic)? {
            Ok(desc) => (desc.full_name().to_owned(), super::decode(desc, bytes)),
            Err(e) => {
                let name = most_specific(&self.bindings, |(b, _)| b, topic)
                    .map(|(b, _)| b.message_type.clone())
                    .unwrap_or_default();
                (name, Err(e.clone()))
            }
        };
        Some(match result {
            Ok(json) => super::ProtoJson {
                type_name,
                json: Some(json),
                error: None,
            },
            Err(e) => super::ProtoJson {
                type_name,
                json: None,
                error: Some(e.to_string()),
            },
        })
    }

    /// Encodes JSON for `topic` with its bound type; `None` when no binding matches.
    pub fn encode(&self, topic: &str, json: &str) -> Option<Result<Vec<u8>, ProtoError>> {
        Some(
            self.type_for(topic)?
                .map_err(Clone::clone)
                .and_then(|desc| super::encode(desc, json)),
        )
    }
}
