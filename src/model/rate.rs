//! Messages per second of a connection, one count per second for the last minutes: what the
//! presentation's rate chart draws. Bounded: [`RATE_SECONDS`] counts, whatever the traffic.

use std::collections::VecDeque;
use std::time::Instant;

/// Seconds of rate history kept.
pub const RATE_SECONDS: u64 = 300;

/// Messages counted per second since `start`.
#[derive(Debug, Clone, Default)]
pub struct RateHistory {
    start: Option<Instant>,
    /// (second since `start`, messages in it), oldest first, no gaps filled.
    seconds: VecDeque<(u64, u64)>,
}

impl RateHistory {
    /// Counts `n` messages arriving at `now`.
    pub fn add(&mut self, now: Instant, n: u64) {
        let start = *self.start.get_or_insert(now);
        let second = now.saturating_duration_since(start).as_secs();
        match self.seconds.back_mut() {
            Some((s, count)) if *s == second => *count += n,
            _ => self.seconds.push_back((second, n)),
        }
        while self
            .seconds
            .front()
            .is_some_and(|(s, _)| second.saturating_sub(*s) >= RATE_SECONDS)
        {
            self.seconds.pop_front();
        }
    }

    /// `[seconds before now, messages per second]` for every whole second of the last
    /// `span` seconds (silent seconds as 0), oldest first, the second under way left out
    /// (it is not over). Empty before the first message.
    pub fn points(&self, now: Instant, span: u64) -> Vec<[f64; 2]> {
        let Some(start) = self.start else {
            return Vec::new();
        };
        let current = now.saturating_duration_since(start).as_secs();
        let first = current.saturating_sub(span.min(RATE_SECONDS));
        let mut counts = self.seconds.iter().peekable();
        (first..current)
            .map(|s| {
                while counts.next_if(|(t, _)| *t < s).is_some() {}
                let n = counts.next_if(|(t, _)| *t == s).map_or(0, |(_, n)| *n);
                [-((current - s) as f64), n as f64]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn seconds_are_counted_gaps_are_zero_and_memory_is_bounded() {
        let t0 = Instant::now();
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        let mut h = RateHistory::default();
        assert!(h.points(t0, 60).is_empty());
        h.add(at(0.0), 5);
        h.add(at(0.5), 5);
        h.add(at(2.1), 7);
        assert_eq!(
            h.points(at(3.2), 60),
            vec![[-3.0, 10.0], [-2.0, 0.0], [-1.0, 7.0]]
        );
        // Only the last `span` seconds.
        assert_eq!(h.points(at(3.2), 1), vec![[-1.0, 7.0]]);
        for s in 0..2 * RATE_SECONDS {
            h.add(at(s as f64 + 3.0), 1);
        }
        assert!(h.seconds.len() <= RATE_SECONDS as usize);
        let points = h.points(at(2.0 * RATE_SECONDS as f64 + 3.0), 10_000);
        assert_eq!(points.len(), RATE_SECONDS as usize);
        assert!(points.iter().all(|p| p[1] == 1.0));
    }
}
