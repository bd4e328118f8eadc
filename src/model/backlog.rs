//! Messages received but not yet in the tree: the window applies them within a per-frame time
//! budget so a flood never freezes it, and this is the policy that keeps the queue bounded.

use std::collections::VecDeque;
use std::time::Instant;

use super::message::Message;

/// Batches (up to 4,096 messages each) allowed to wait for the per-frame apply budget. Past
/// this, the budget is ignored until the queue is back under it: a slow frame is better than
/// memory growing without bound.
pub const MAX_PENDING_BATCHES: usize = 256;

/// Batches waiting to be applied, oldest first.
#[derive(Debug, Default)]
pub struct Backlog {
    batches: VecDeque<Vec<Message>>,
}

impl Backlog {
    /// Queues a batch as it came from the engine.
    pub fn push(&mut self, batch: Vec<Message>) {
        if !batch.is_empty() {
            self.batches.push_back(batch);
        }
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Hands batches to `apply`, oldest first, until `deadline` has passed and no more than
    /// [`MAX_PENDING_BATCHES`] wait; at least one batch is applied per call, so progress is
    /// made even on a frame that starts late. Returns whether some are left.
    pub fn drain(&mut self, deadline: Instant, mut apply: impl FnMut(Vec<Message>)) -> bool {
        while let Some(batch) = self.batches.pop_front() {
            apply(batch);
            if Instant::now() >= deadline && self.batches.len() <= MAX_PENDING_BATCHES {
                break;
            }
        }
        !self.batches.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: usize) -> Vec<Message> {
        (0..n)
            .map(|i| Message::received_now(format!("t/{i}"), ""))
            .collect()
    }

    #[test]
    fn a_late_frame_still_applies_one_batch_and_keeps_the_rest() {
        let mut backlog = Backlog::default();
        for _ in 0..10 {
            backlog.push(batch(3));
        }
        let mut applied = 0;
        let left = backlog.drain(Instant::now(), |b| applied += b.len());
        assert_eq!(applied, 3, "one batch per frame when the budget is spent");
        assert!(left);
        assert_eq!(backlog.len(), 9);
    }

    #[test]
    fn past_the_bound_the_budget_is_ignored_until_back_under_it() {
        let mut backlog = Backlog::default();
        for _ in 0..MAX_PENDING_BATCHES + 50 {
            backlog.push(batch(1));
        }
        let mut applied = 0;
        backlog.drain(Instant::now(), |_| applied += 1);
        assert_eq!(applied, 50, "applied down to the bound, not one more");
        assert_eq!(backlog.len(), MAX_PENDING_BATCHES);
    }

    #[test]
    fn with_time_left_everything_is_applied_in_order() {
        let mut backlog = Backlog::default();
        backlog.push(batch(2));
        backlog.push(Vec::new());
        backlog.push(batch(1));
        let mut sizes = Vec::new();
        let left = backlog.drain(Instant::now() + std::time::Duration::from_secs(5), |b| {
            sizes.push(b.len())
        });
        assert_eq!(sizes, [2, 1], "empty batches are not queued");
        assert!(!left && backlog.is_empty());
    }
}
