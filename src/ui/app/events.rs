//! Draining the engine's events: messages into the tabs (within the frame's budget), state
//! changes, and the routing of publish outcomes to whoever waits for them (a replay, a
//! clear-retained job, the publish panel).

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::origins::Origin;
use super::{APPLY_BUDGET, CanopyApp};
use crate::engine::{ConnectionId, ConnectionState, Event, PublishOutcome, Token};
use crate::ui::i18n::tr;
use crate::ui::notices::Level;
use crate::ui::status_bar::failure_words;

/// Retained messages being deleted (their outcomes arrive as publish outcomes).
pub(super) struct ClearJob {
    /// The topic the user chose; shown in the progress and the final notice.
    pub(super) root: String,
    /// The topics being cleared, in token order.
    pub(super) topics: Vec<String>,
    /// Outcomes received so far.
    pub(super) done: usize,
    /// `topic: why` of each failure.
    pub(super) failed: Vec<String>,
}

impl CanopyApp {
    /// Takes every waiting engine event, then applies queued messages for at most
    /// [`APPLY_BUDGET`] (the active tab first) so a flood never freezes the window.
    pub(super) fn drain_engine(&mut self) {
        while let Some(event) = self.engine.try_recv() {
            self.on_engine_event(event);
        }
        let deadline = Instant::now() + APPLY_BUDGET;
        let mut more = false;
        let active = self.active;
        if let Some(tab) = self.tabs.get_mut(active) {
            more |= tab.apply_pending(deadline);
        }
        for (i, tab) in self.tabs.iter_mut().enumerate() {
            if i != active {
                more |= tab.apply_pending(deadline);
            }
        }
        if more {
            self.ctx.request_repaint();
        }
    }

    fn on_engine_event(&mut self, event: Event) {
        match event {
            Event::Messages { id, messages } => {
                if self.cjk.watching() && messages.iter().any(|m| self.cjk.saw(&m.topic, &m.payload)) {
                    self.notices
                        .push(Level::Info, tr!("fonts.missing_cjk").into_owned());
                }
                if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                    if let Some(recorder) = &tab.recorder {
                        recorder.record(&messages);
                    }
                    if !tab.requests.list.is_empty() {
                        for m in &messages {
                            tab.requests.offer(m);
                        }
                    }
                    tab.queue(messages);
                }
            }
            Event::State { id, state } => {
                if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                    if let ConnectionState::Failed { reason } = &state {
                        self.notices.push(
                            Level::Error,
                            format!("{}: {}", tab.profile.name, failure_words(&tab.profile, reason)),
                        );
                    }
                    tab.set_state(state);
                }
            }
            Event::Published { token, outcome, .. } => self.route_outcome(token, outcome),
            Event::Subscribed { id, results } => {
                if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                    tab.subscribed(&results);
                }
            }
            Event::Unsubscribed { id, filters } => {
                if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                    tab.subscriptions.retain(|s| !filters.contains(&s.sub.filter));
                }
            }
            Event::Error { id, message } => self.engine_error(id, message),
            Event::Trace { id, entries } => {
                if let Some(tab) = self.tabs.iter_mut().find(|t| t.id == id) {
                    tab.timeline.extend(entries);
                }
            }
        }
    }

    fn engine_error(&mut self, id: ConnectionId, message: String) {
        let name = self
            .tabs
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.profile.name.clone());
        self.notices.push(
            Level::Error,
            match name {
                Some(n) => format!("{n}: {message}"),
                None => message,
            },
        );
    }

    /// Gives a publish outcome to whoever registered its token (see [`super::origins`]).
    fn route_outcome(&mut self, token: Token, outcome: PublishOutcome) {
        match self.origins.take(token) {
            Some(Origin::Replay) => {
                if let Some(job) = &mut self.replay {
                    job.control.outcomes.fetch_add(1, Ordering::Relaxed);
                    job.failed += u64::from(matches!(outcome, PublishOutcome::Failed(_)));
                }
            }
            Some(Origin::Clear(index)) => {
                let Some(job) = &mut self.clear_job else { return };
                job.done += 1;
                if let PublishOutcome::Failed(why) = outcome {
                    let topic = job.topics.get(index).map_or("?", String::as_str);
                    job.failed.push(format!("{topic}: {why}"));
                }
                if job.done == job.topics.len() {
                    self.finish_clear_job();
                }
            }
            Some(Origin::Panel) => {
                // A failure the panel no longer lists (scrolled out of its recent list, or a
                // clear from the message view) still gets said.
                if let PublishOutcome::Failed(why) = &outcome
                    && self.persisted.publish.recent.iter().all(|r| r.token != token)
                {
                    self.notices.push(Level::Error, why.clone());
                }
                self.persisted.publish.outcome(token, outcome);
            }
            None => log::debug!("publish outcome for unknown token {token:?}: {outcome:?}"),
        }
    }

    fn finish_clear_job(&mut self) {
        let Some(job) = self.clear_job.take() else {
            return;
        };
        let n = job.topics.len() - job.failed.len();
        let level = if job.failed.is_empty() {
            Level::Info
        } else {
            Level::Error
        };
        self.notices.push(
            level,
            if job.failed.is_empty() {
                tr!("events.cleared", n = n, root = job.root).into_owned()
            } else {
                tr!(
                    "events.cleared_some",
                    n = n,
                    total = job.topics.len(),
                    root = job.root,
                    failed = job.failed.join("; ")
                )
                .into_owned()
            },
        );
    }
}
