//! Realistic synthetic traffic for the benchmarks.

use std::time::SystemTime;

use bytes::Bytes;
use canopy::model::message::{Message, Properties, QoS};

/// `n` messages on `n` distinct topics `site{s}/line{l}/machine{m}/sensor{k}` with small JSON
/// payloads, about 100 topics per machine.
pub fn messages(n: usize, seed: u64) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let topic = format!(
                "site{}/line{}/machine{}/sensor{}",
                i % 10,
                (i / 10) % 10,
                (i / 100) % 100,
                i / 10_000 + (i % 100) * 100
            );
            let payload = format!(
                "{{\"value\":{:.2},\"unit\":\"C\",\"seq\":{}}}",
                (i as u64 ^ seed) % 1000,
                seed
            );
            Message {
                topic,
                payload: Bytes::from(payload),
                qos: QoS::AtMostOnce,
                retain: seed == 0,
                dup: false,
                received: SystemTime::now(),
                properties: Properties::default(),
            }
        })
        .collect()
}
