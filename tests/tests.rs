//! Integration tests: one binary (fast to link), one module per area, all against a real
//! mosquitto started by `common::Broker`.

// Tests and benches stop loudly where they fail (Cargo.toml's [lints] denies unwrap elsewhere).
#![allow(clippy::unwrap_used)]

mod chaos;
mod cli;
mod common;
mod engine;
mod flow_control;
mod interop;
mod layers;
mod packet_ids;
mod pressure;
mod probe;
mod profiles;
mod proxy;
mod timeline;
mod ui;
mod ui_a11y;
mod ui_large;
mod versions;
