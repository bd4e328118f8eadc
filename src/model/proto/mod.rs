//! The user's own `.proto` files: compiled in-process (protox, no `protoc`), then payloads
//! decoded to JSON and JSON encoded to payloads with a message type of them (prost-reflect,
//! the canonical protobuf JSON mapping). [`bindings`] says which type a topic uses.
//!
//! Decoding is done only for what is looked at (the message view, charted series, an export,
//! `canopy sub`), never for every message on arrival: a broker holding a million retained
//! messages costs nothing more with a schema bound.

pub mod bindings;
pub mod state;

use std::path::{Path, PathBuf};

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};

pub use bindings::{Binding, Decoder, ProtoSettings};
pub use state::SchemaState;

/// Files of a folder compiled at most (a folder of a whole monorepo is a mistake, not a schema).
pub const MAX_FILES: usize = 2_000;
/// Folder levels searched below the chosen folder.
const MAX_DEPTH: usize = 16;
/// Payloads larger than this are not decoded (a message view shows them raw, with a note):
/// decoding costs time and memory in proportion to the size, and the views are bounded.
pub const MAX_DECODE_BYTES: usize = 1 << 20;

/// What went wrong with a schema, a type name or a payload. Words for the user in `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The file or folder could not be read.
    #[error("cannot read {path}: {why}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why, in words.
        why: String,
    },
    /// A folder without any `.proto` file.
    #[error("no .proto file in {0}")]
    NoFiles(PathBuf),
    /// A syntax or type error: `file:line:column: what` (the file relative to the folder).
    #[error("{0}")]
    Compile(String),
    /// No message type of that name in the schema.
    #[error("no message type `{name}` in the schema{hint}")]
    UnknownType {
        /// The name asked for.
        name: String,
        /// ` (did you mean …?)` or empty.
        hint: String,
    },
    /// The payload is not a message of that type.
    #[error("not a {type_name} message: {why}")]
    Decode {
        /// The full type name.
        type_name: String,
        /// What the decoder said.
        why: String,
    },
    /// The JSON does not describe a message of that type.
    #[error("the JSON does not fit {type_name}: {why}")]
    Encode {
        /// The full type name.
        type_name: String,
        /// What did not fit, with the line and column in the JSON.
        why: String,
    },
    /// A payload above [`MAX_DECODE_BYTES`].
    #[error("{0} bytes is too large to decode (the limit is 1 MiB)")]
    TooLarge(usize),
}

/// A payload decoded with its bound type, as a recording line or an export carries it:
/// `{"type": "pkg.Msg", "json": {…}}`, or `{"type": "pkg.Msg", "error": "…"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProtoJson {
    /// The message type's full name (as bound, when it is not in the schema).
    #[serde(rename = "type")]
    pub type_name: String,
    /// The decoded message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// Why the payload did not decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A compiled set of `.proto` files.
#[derive(Debug, Clone)]
pub struct Schema {
    pool: DescriptorPool,
    /// The file or folder it was compiled from.
    pub source: PathBuf,
    /// `.proto` files compiled (imports of the standard `google/protobuf` files not counted).
    pub files: usize,
}

impl Schema {
    /// Compiles `path`: one `.proto` file (its folder is where imports are looked up), or every
    /// `.proto` file below a folder (the folder is the import root). Blocking file I/O: never
    /// call it on the UI thread.
    pub fn compile(path: &Path) -> Result<Self, ProtoError> {
        let read_error = |e: std::io::Error| ProtoError::Read {
            path: path.to_owned(),
            why: e.to_string(),
        };
        let meta = std::fs::metadata(path).map_err(read_error)?;
        let (root, names) = if meta.is_dir() {
            let mut names = Vec::new();
            collect_protos(path, path, 0, &mut names);
            if names.is_empty() {
                return Err(ProtoError::NoFiles(path.to_owned()));
            }
            names.sort();
            (path.to_owned(), names)
        } else {
            let root = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_owned();
            let name = path.file_name().map(PathBuf::from).unwrap_or_default();
            (root, vec![name])
        };
        let files = names.len();
        let mut compiler = protox::Compiler::new([&root]).map_err(compile_error)?;
        compiler.include_imports(true);
        compiler.open_files(&names).map_err(compile_error)?;
        Ok(Self {
            pool: compiler.descriptor_pool(),
            source: path.to_owned(),
            files,
        })
    }

    /// The message type called `name` (`package.Message`, `package.Outer.Inner`; a leading
    /// dot is allowed).
    pub fn message(&self, name: &str) -> Result<MessageDescriptor, ProtoError> {
        let name = name.trim().trim_start_matches('.');
        self.pool.get_message_by_name(name).ok_or_else(|| {
            // The usual slip is a missing package: offer the types that end with the name.
            let suffix = format!(".{name}");
            let close: Vec<String> = self
                .message_names()
                .into_iter()
                .filter(|full| full.ends_with(&suffix))
                .take(3)
                .collect();
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", close.join(", "))
            };
            ProtoError::UnknownType {
                name: name.to_owned(),
                hint,
            }
        })
    }

    /// Every message type's full name, sorted; the standard `google.protobuf` ones left out.
    pub fn message_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pool
            .all_messages()
            // Map fields' entry types are generated, not the user's.
            .filter(|m| !m.is_map_entry())
            .map(|m| m.full_name().to_owned())
            .filter(|n| !n.starts_with("google.protobuf."))
            .collect();
        names.sort();
        names
    }
}

/// Decodes `bytes` as a `desc` message into JSON: every field shown (defaults too, so a
/// charted value that drops to 0 is still there), `.proto` field names, enum names, 64-bit
/// integers as numbers (so they can be charted).
pub fn decode(desc: &MessageDescriptor, bytes: &[u8]) -> Result<serde_json::Value, ProtoError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(ProtoError::TooLarge(bytes.len()));
    }
    let decode_error = |why: String| ProtoError::Decode {
        type_name: desc.full_name().to_owned(),
        why,
    };
    let message = DynamicMessage::decode(desc.clone(), bytes).map_err(|e| decode_error(e.to_string()))?;
    let options = SerializeOptions::new()
        .skip_default_fields(false)
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| decode_error(e.to_string()))
}

/// Encodes JSON text as a `desc` message (field names as in the `.proto` or in lowerCamelCase;
/// enums by name or number; an unknown field is an error, not silently dropped).
pub fn encode(desc: &MessageDescriptor, json: &str) -> Result<Vec<u8>, ProtoError> {
    use prost_reflect::prost::Message as _;
    let encode_error = |why: String| ProtoError::Encode {
        type_name: desc.full_name().to_owned(),
        why,
    };
    // Parsed first (syntax errors with line and column), then handed over as plain values.
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| encode_error(e.to_string()))?;
    let message =
        DynamicMessage::deserialize(desc.clone(), plain(value)).map_err(|e| encode_error(e.to_string()))?;
    Ok(message.encode_to_vec())
}

/// A JSON value with its numbers as plain integers or floats. Why: with serde_json's
/// `arbitrary_precision` feature (on for exact numbers in the message view) serde_json hands
/// every number to a deserializer as a map, which prost-reflect does not accept.
fn plain(value: serde_json::Value) -> serde_value::Value {
    use serde_json::Value as J;
    use serde_value::Value as V;
    match value {
        J::Null => V::Unit,
        J::Bool(b) => V::Bool(b),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => V::U64(u),
            (None, Some(i)) => V::I64(i),
            _ => V::F64(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => V::String(s),
        J::Array(items) => V::Seq(items.into_iter().map(plain).collect()),
        J::Object(map) => V::Map(map.into_iter().map(|(k, v)| (V::String(k), plain(v))).collect()),
    }
}

/// `file:line:column: what` from protox's error (its `Debug` form is exactly that; its
/// `Display` leaves the place out).
fn compile_error(e: protox::Error) -> ProtoError {
    ProtoError::Compile(format!("{e:?}"))
}

/// The `.proto` files below `dir`, as paths relative to `root`, at most [`MAX_FILES`] and
/// [`MAX_DEPTH`] levels down. Unreadable folders are skipped (the compile then reports any
/// import it misses).
fn collect_protos(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= MAX_FILES {
            return;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() && depth < MAX_DEPTH {
            collect_protos(root, &path, depth + 1, out);
        } else if kind.is_file()
            && path.extension().is_some_and(|e| e == "proto")
            && let Ok(relative) = path.strip_prefix(root)
        {
            out.push(relative.to_owned());
        }
    }
}

#[cfg(test)]
mod tests;
