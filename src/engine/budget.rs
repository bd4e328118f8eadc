//! Backpressure between the engine and its consumer: a byte budget for received messages that
//! are queued but not yet taken. A connection task spends it for every message it reads and
//! waits, without reading its socket, while it is spent; the consumer gives it back as it takes
//! each batch ([`super::Engine::try_recv`]). So a slow consumer (a CLI piped into a slow
//! program, a window that gets no frames) makes TCP push back on the broker instead of memory
//! growing with the lag, the way `mosquitto_sub` behaves when its stdout blocks.

use tokio::sync::Semaphore;

use crate::model::message::Message;

/// Bytes of received messages that may wait for the consumer. Large enough that a consumer
/// keeping up never waits (hundreds of thousands of small messages), small enough to keep a
/// stalled one's memory modest.
pub(crate) const DEFAULT_QUEUE_BYTES: usize = 32 << 20;

/// What one message costs beyond its topic and payload bytes (the `Message` itself, its
/// properties, the batch vector).
const OVERHEAD: usize = 160;

/// The byte budget (a semaphore of bytes).
pub(crate) struct Budget {
    permits: Semaphore,
    total: usize,
}

impl Budget {
    pub(crate) fn new(total: usize) -> Self {
        // tokio caps a semaphore's permits; a budget beyond it is as good as unbounded.
        let total = total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Semaphore::new(total),
            total,
        }
    }

    /// The cost of a message: its bytes plus overhead, never more than the whole budget, so
    /// one message larger than the budget still passes (alone).
    pub(crate) fn cost(&self, message: &Message) -> u32 {
        let bytes = message.topic.len() + message.payload.len() + OVERHEAD;
        u32::try_from(bytes.min(self.total)).unwrap_or(u32::MAX)
    }

    /// Takes a message's cost if it is available now.
    pub(crate) fn try_take(&self, cost: u32) -> bool {
        match self.permits.try_acquire_many(cost) {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until a message's cost is available and takes it.
    pub(crate) async fn take(&self, cost: u32) {
        // The semaphore is never closed, so acquiring only fails if it were.
        if let Ok(permit) = self.permits.acquire_many(cost).await {
            permit.forget();
        }
    }

    /// Gives back what a batch of messages cost.
    pub(crate) fn release(&self, messages: &[Message]) {
        let bytes: usize = messages.iter().map(|m| self.cost(m) as usize).sum();
        self.permits.add_permits(bytes);
    }

    /// Bytes currently queued for the consumer.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.total - self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn message(size: usize) -> Message {
        Message {
            topic: "t".into(),
            payload: Bytes::from(vec![0u8; size]),
            qos: crate::model::message::QoS::AtMostOnce,
            retain: false,
            dup: false,
            received: std::time::SystemTime::now(),
            properties: Default::default(),
            subscribed: true,
        }
    }

    #[test]
    fn spent_budget_blocks_until_released() {
        let budget = Budget::new(1000);
        let small = message(100);
        let cost = budget.cost(&small);
        assert_eq!(cost as usize, 1 + 100 + OVERHEAD);
        assert!(budget.try_take(cost));
        assert!(budget.try_take(cost));
        assert!(budget.try_take(cost));
        assert!(!budget.try_take(cost), "only three fit in 1000 bytes");
        budget.release(&[small.clone(), small]);
        assert_eq!(budget.queued(), cost as usize);
        // A message larger than the whole budget costs the whole budget, so it can pass alone.
        let huge = message(10_000);
        assert_eq!(budget.cost(&huge), 1000);
    }
}
