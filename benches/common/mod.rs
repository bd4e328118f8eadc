//! Realistic synthetic traffic for the benchmarks (the same workload as `canopy bench publish`).

use std::time::SystemTime;

use canopy::bench::Workload;
use canopy::model::message::{Message, Properties, QoS};

/// Messages `first..first + n` of a workload over `topics` topics
/// (`bench/site{s}/line{l}/machine{m}/{metric}`, small JSON payloads).
pub fn messages(topics: u64, first: u64, n: u64) -> Vec<Message> {
    let w = Workload::new(topics, 0);
    (first..first + n)
        .map(|seq| Message {
            topic: w.topic(seq),
            payload: w.payload(seq),
            qos: QoS::AtMostOnce,
            retain: first == 0,
            dup: false,
            received: SystemTime::now(),
            properties: Properties::default(),
            subscribed: true,
        })
        .collect()
}

/// True when run by `cargo bench` (false when `cargo test` runs the bench once as a test).
#[allow(dead_code)]
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}
