//! `--proto` and `--proto-type` of `canopy sub` and `canopy pub`: the user's `.proto` files and
//! which message type a topic's payloads are (see `model::proto`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::model::proto::{Binding, Decoder, ProtoSettings, Schema};

/// The schema options shared by `sub` and `pub`.
#[derive(Debug, Args, Default)]
pub struct ProtoArgs {
    /// A .proto file or a folder of them (compiled in-process, no protoc needed; a folder is
    /// the root imports are looked up from). Without it, the schema of --profile is used.
    #[arg(long = "proto", value_name = "FILE|DIR")]
    pub proto: Option<PathBuf>,
    /// Bind a message type to a topic pattern: `PATTERN=package.Message` (`+`/`#` allowed;
    /// repeatable; the most specific pattern wins). A type alone binds every topic (`sub`) or
    /// the topic of -t (`pub`).
    #[arg(long = "proto-type", value_name = "[PATTERN=]TYPE", requires = "proto")]
    pub types: Vec<String>,
}

impl ProtoArgs {
    /// The bindings given, a bare type bound to `default_pattern`.
    fn bindings(&self, default_pattern: &str) -> Result<Vec<Binding>, String> {
        self.types
            .iter()
            .map(|spec| {
                let (pattern, message_type) =
                    spec.rsplit_once('=').unwrap_or((default_pattern, spec.as_str()));
                crate::model::topic::validate_filter(pattern)
                    .map_err(|e| format!("--proto-type `{spec}`: bad topic pattern `{pattern}`: {e}"))?;
                if message_type.trim().is_empty() {
                    return Err(format!("--proto-type `{spec}`: no message type after `=`"));
                }
                Ok(Binding::new(pattern, message_type.trim()))
            })
            .collect()
    }

    /// The decoder to use: the files of --proto with the --proto-type bindings, else the
    /// profile's own schema settings; `Ok(None)` when there is none. A schema that does not
    /// compile, or a type it does not have, is an error in words (the command should exit
    /// with the usage code: the arguments or settings are wrong).
    pub fn decoder(&self, profile: &ProtoSettings, default_pattern: &str) -> Result<Option<Decoder>, String> {
        let (path, bindings) = match &self.proto {
            Some(path) => {
                if self.types.is_empty() {
                    return Err("--proto needs at least one --proto-type PATTERN=package.Message".into());
                }
                (path.clone(), self.bindings(default_pattern)?)
            }
            None => match &profile.path {
                Some(path) if !profile.bindings.is_empty() => (path.clone(), profile.bindings.clone()),
                _ => return Ok(None),
            },
        };
        let schema = Schema::compile(&path).map_err(|e| format!("the schema {}: {e}", path.display()))?;
        let decoder = Decoder::new(Arc::new(schema), &bindings);
        if let Some((binding, e)) = decoder.unknown_types().next() {
            return Err(format!("--proto-type `{}`: {e}", binding.message_type));
        }
        Ok(Some(decoder))
    }
}
