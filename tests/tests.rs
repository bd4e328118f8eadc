//! Integration tests: one binary (fast to link), one module per area, all against a real
//! mosquitto started by `common::Broker`.

mod cli;
mod common;
mod engine;
mod profiles;
mod ui;
