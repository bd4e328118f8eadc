//! Canopy: a fast desktop MQTT explorer with a headless CLI.
//!
//! - [`engine`]: MQTT connections on a tokio runtime in their own thread, driven by commands.
//! - [`model`]: messages and topics, pure data.
//! - [`profiles`]: connection profiles and their file.
//! - [`probe`]: the broker report card (`canopy probe`).
//! - [`cli`]: `canopy pub`, `canopy sub`, `canopy bench`, ...
//! - [`bench`](mod@bench): the benchmarks' synthetic workload and memory figures.
//! - [`ui`]: the egui desktop window.
//! - [`sandbox`], [`demo`]: an embedded broker and demo traffic, for working offline.
//! - [`replay`]: recording and replaying in the window.
//! - [`fsutil`]: reading user-named files with a size cap.
//! - [`logging`]: the log file and `RUST_LOG`.

pub mod bench;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod fsutil;
pub mod logging;
pub mod model;
pub mod probe;
pub mod profiles;
pub mod replay;
pub mod sandbox;
pub mod ui;

// The window's texts (locales/*.toml), embedded at compile time; see `ui::i18n`. A key missing in
// Chinese shows the English text.
rust_i18n::i18n!("locales", fallback = "en");
