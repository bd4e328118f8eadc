//! What the benchmarks share: a realistic synthetic workload (hierarchical telemetry topics with
//! JSON payloads) and the process's memory figures.

use bytes::Bytes;

/// The last level of every machine's topics.
pub const METRICS: [&str; 10] = [
    "temperature",
    "pressure",
    "humidity",
    "vibration",
    "speed",
    "power",
    "current",
    "voltage",
    "status",
    "errors",
];

/// A set of `topics` topics `bench/site{s}/line{l}/machine{m}/{metric}`: ten metrics per
/// machine, 100 machines per line, 10 lines per site.
#[derive(Debug, Clone)]
pub struct Workload {
    topics: u64,
    size: usize,
    prefix: String,
}

impl Workload {
    /// `topics` topics (at least 1) with payloads of about `size` bytes (at least the natural
    /// JSON document, ~60 bytes).
    pub fn new(topics: u64, size: usize) -> Self {
        Self {
            topics: topics.max(1),
            size,
            prefix: "bench".to_owned(),
        }
    }

    /// The same workload under another first level (`bench` by default).
    pub fn with_prefix(self, prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            ..self
        }
    }

    /// Number of topics.
    pub fn topics(&self) -> u64 {
        self.topics
    }

    /// The topic of message `seq` (messages go round the topics in order).
    pub fn topic(&self, seq: u64) -> String {
        let i = seq % self.topics;
        let machine = i / 10;
        format!(
            "{}/site{:03}/line{}/machine{:02}/{}",
            self.prefix,
            machine / 1000,
            (machine / 100) % 10,
            machine % 100,
            METRICS[(i % 10) as usize]
        )
    }

    /// The payload of message `seq`: a small JSON document, padded to the configured size.
    pub fn payload(&self, seq: u64) -> Bytes {
        let i = seq % self.topics;
        // A cheap deterministic wobble so values differ from message to message.
        let wobble = (seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as f64 / 10.0;
        let value = 20.0 + (i % 50) as f64 + wobble;
        let mut text = format!("{{\"value\":{value:.1},\"unit\":\"C\",\"seq\":{seq}");
        // `,"pad":"` + padding + `"}` makes exactly `size` bytes.
        if self.size > text.len() + 10 {
            let pad = self.size - text.len() - 10;
            text.push_str(",\"pad\":\"");
            text.extend(std::iter::repeat_n('x', pad));
            text.push('"');
        }
        text.push('}');
        Bytes::from(text)
    }
}

/// The process's peak resident memory in bytes (Linux: `VmHWM`), if known.
pub fn peak_rss() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}

/// The process's resident memory now in bytes (Linux: `VmRSS`), if known.
pub fn current_rss() -> Option<u64> {
    status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_distinct_and_hierarchical() {
        let w = Workload::new(1_000_000, 0);
        assert_eq!(w.topic(0), "bench/site000/line0/machine00/temperature");
        assert_eq!(w.topic(999_999), "bench/site099/line9/machine99/errors");
        assert_eq!(w.topic(1_000_000), w.topic(0));
        let some: std::collections::HashSet<String> = (0..100_000).map(|i| w.topic(i * 7 + 3)).collect();
        assert_eq!(some.len(), 100_000);
    }

    #[test]
    fn payloads_are_json_of_the_asked_size() {
        let w = Workload::new(10, 300);
        for seq in [0, 1, 12345] {
            let p = w.payload(seq);
            let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
            assert!(v["value"].is_number());
            assert!((290..=310).contains(&p.len()), "{}", p.len());
        }
        assert!(Workload::new(10, 0).payload(5).len() < 60);
    }

    #[test]
    fn memory_figures_are_read() {
        assert!(peak_rss().unwrap() >= current_rss().unwrap() / 2);
        assert!(current_rss().unwrap() > 1024 * 1024);
    }
}
