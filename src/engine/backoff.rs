//! The reconnect policy: exponential backoff with a cap and an attempt limit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When to try again after a connection is lost. The defaults follow the classic paho
/// auto-reconnect recipe: 1 s, doubling, at most 60 s, 12 attempts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconnectPolicy {
    /// Whether to reconnect at all.
    pub enabled: bool,
    /// Delay before the first attempt, in milliseconds.
    pub first_delay_ms: u64,
    /// Factor applied to the delay after each failed attempt (at least 1).
    pub multiplier: f64,
    /// Upper bound of the delay, in milliseconds.
    pub max_delay_ms: u64,
    /// Attempts before giving up; 0 means forever.
    pub max_attempts: u32,
}

// `f64` is never NaN here (see `delay`), so equality is total in practice.
impl Eq for ReconnectPolicy {}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            first_delay_ms: 1_000,
            multiplier: 2.0,
            max_delay_ms: 60_000,
            max_attempts: 12,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before attempt `attempt` (1-based), or `None` when the policy gives up.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if !self.enabled || attempt == 0 || (self.max_attempts != 0 && attempt > self.max_attempts) {
            return None;
        }
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let exponent = i32::try_from(attempt - 1).unwrap_or(i32::MAX);
        let raw = self.first_delay_ms as f64 * multiplier.powi(exponent);
        let capped = raw.min(self.max_delay_ms as f64).max(0.0);
        Some(Duration::from_millis(capped as u64))
    }

    /// "3/12" or "3" when the policy retries forever.
    pub fn attempt_label(&self, attempt: u32) -> String {
        if self.max_attempts == 0 {
            attempt.to_string()
        } else {
            format!("{attempt}/{}", self.max_attempts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_doubles_up_to_a_minute_then_gives_up() {
        let p = ReconnectPolicy::default();
        let secs: Vec<u64> = (1..=12).map(|a| p.delay(a).unwrap().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]);
        assert_eq!(p.delay(13), None);
        assert_eq!(p.delay(0), None);
    }

    #[test]
    fn zero_attempts_means_forever() {
        let p = ReconnectPolicy {
            max_attempts: 0,
            ..ReconnectPolicy::default()
        };
        assert_eq!(p.delay(10_000), Some(Duration::from_secs(60)));
        assert_eq!(p.attempt_label(7), "7");
    }

    #[test]
    fn disabled_and_odd_multipliers() {
        let off = ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        };
        assert_eq!(off.delay(1), None);
        let flat = ReconnectPolicy {
            multiplier: f64::NAN,
            ..ReconnectPolicy::default()
        };
        assert_eq!(flat.delay(5), Some(Duration::from_secs(1)));
        let shrinking = ReconnectPolicy {
            multiplier: 0.5,
            ..ReconnectPolicy::default()
        };
        assert_eq!(shrinking.delay(3), Some(Duration::from_secs(1)));
        assert_eq!(ReconnectPolicy::default().attempt_label(3), "3/12");
    }
}
