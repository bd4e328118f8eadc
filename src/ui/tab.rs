//! The state of one open connection in the window: its profile, state, topic tree and the
//! view over it.

use std::time::Instant;

use crate::engine::{ConnectionId, ConnectionState};
use crate::model::backlog::Backlog;
use crate::model::message::{Message, QoS};
use crate::model::payload::{Decoding, Rendered};
use crate::model::topic_tree::{NodeId, TopicTree};
pub use crate::model::tree_view::{RateMeter, TreeView};
use crate::profiles::Profile;
use crate::profiles::profile::{MqttVersion, Subscription};

/// Bytes of a payload shown before the user asks for more: laying out text costs time in
/// proportion to its length, and 64 KiB stays within a frame.
pub const DEFAULT_PAYLOAD_LIMIT: usize = 64 * 1024;

/// What the broker said about a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubStatus {
    /// Sent, no answer yet (or not connected).
    Pending,
    /// Granted with this QoS.
    Granted(QoS),
    /// Refused, with the reason.
    Refused(String),
}

/// A subscription of an open connection.
#[derive(Debug, Clone)]
pub struct SubState {
    /// The filter and options.
    pub sub: Subscription,
    /// Its MQTT 5 subscription identifier.
    pub identifier: Option<usize>,
    /// The broker's answer.
    pub status: SubStatus,
}

/// A cached rendering of the payload shown in the message view.
#[derive(Debug, Clone)]
pub struct RenderCache {
    /// (node, total messages on it, history index, view, byte limit, hex bytes per row).
    pub key: (NodeId, u64, usize, Decoding, usize, usize),
    /// The rendering.
    pub rendered: Rendered,
    /// Byte ranges of `rendered.text` to draw as rows, long lines cut (see
    /// [`crate::model::payload::row_ranges`]); only built for large texts, which are drawn
    /// row by row (only the visible ones) instead of as one galley.
    pub rows: Option<Vec<std::ops::Range<usize>>>,
}

/// The add-a-subscription form.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The subscription being composed.
    pub sub: Subscription,
    /// MQTT 5 subscription identifier (0: none).
    pub identifier: usize,
}

impl Default for NewSubscription {
    fn default() -> Self {
        Self {
            sub: Subscription::new("", QoS::AtMostOnce),
            identifier: 0,
        }
    }
}

/// One open connection.
///
/// Fields that must change together are private behind methods: the state and when it came
/// (the reconnect countdown reads both), and the backlog (bounded by its own policy). The
/// rest is plain panel state with no rule across fields, edited by the panels directly.
pub struct ConnectionTab {
    /// The engine's id for this connection; never changes (commands name the tab by it).
    pub id: ConnectionId,
    /// The profile it was opened with (a copy: editing the saved one does not touch an open
    /// connection until it reconnects).
    pub profile: Profile,
    state: ConnectionState,
    state_since: Instant,
    /// Every topic seen.
    pub tree: TopicTree,
    /// The view over the tree.
    pub view: TreeView,
    /// Which message of the selected topic's history is shown (0 = newest).
    pub history_index: usize,
    /// Messages per second as they are applied to the tree.
    pub rate: RateMeter,
    backlog: Backlog,
    /// Payload rendering cache.
    pub render_cache: Option<RenderCache>,
    /// Byte limit of the payload view (raised by "Show more").
    pub payload_limit: usize,
    /// The subscriptions and what the broker answered.
    pub subscriptions: Vec<SubState>,
    /// The add-a-subscription form.
    pub new_subscription: NewSubscription,
    /// The image shown in the message view: its loader URI and bytes (the loader's cache entry
    /// is dropped when it changes).
    pub image: Option<(String, std::sync::Arc<[u8]>)>,
    /// Show JSON payloads as a collapsible tree.
    pub json_tree: bool,
    /// Series charted from this connection's messages.
    pub charts: crate::model::series::Charts,
    /// Recording what this connection receives.
    pub recorder: Option<crate::replay::Recorder>,
    /// MQTT 5 requests published from here and their replies.
    pub requests: crate::model::requests::Requests,
    /// The payload search window's query and results.
    pub search: crate::model::search::SearchPanel,
    /// What every view of this connection hides (the profile's redaction while it is on).
    pub redactor: crate::model::redact::Redactor,
    /// The protocol timeline: packets traced by the engine.
    pub timeline: super::timeline::TimelinePanel,
    /// Messages per second over the last minutes (presentation mode's chart).
    pub rate_history: crate::model::rate::RateHistory,
    /// The profile's protobuf schema, compiled in the background.
    pub proto: crate::model::proto::SchemaState,
}

impl ConnectionTab {
    /// A tab for a connection that is about to be opened.
    pub fn new(id: ConnectionId, profile: Profile) -> Self {
        let redactor = profile.presentation.redactor();
        Self {
            id,
            profile,
            state: ConnectionState::Connecting,
            state_since: Instant::now(),
            tree: TopicTree::new(),
            view: TreeView::default(),
            history_index: 0,
            rate: RateMeter::default(),
            backlog: Backlog::default(),
            render_cache: None,
            payload_limit: DEFAULT_PAYLOAD_LIMIT,
            subscriptions: Vec::new(),
            new_subscription: Default::default(),
            image: None,
            json_tree: false,
            charts: Default::default(),
            recorder: None,
            redactor,
            rate_history: Default::default(),
            requests: Default::default(),
            search: Default::default(),
            proto: Default::default(),
            timeline: Default::default(),
        }
    }

    /// Resets the subscription list to the profile's (on (re)connecting).
    pub fn reset_subscriptions(&mut self) {
        self.subscriptions = self
            .profile
            .subscriptions
            .iter()
            .map(|sub| SubState {
                sub: sub.clone(),
                identifier: None,
                status: SubStatus::Pending,
            })
            .collect();
    }

    /// Remembers an MQTT 5 request (a publish with a response topic) so that replies are
    /// matched by correlation data. Returns the subscription to make when none of this
    /// connection's subscriptions covers the response topic.
    pub fn track_request(
        &mut self,
        message: &crate::model::message::OutgoingMessage,
    ) -> Option<Subscription> {
        if !self.speaks_v5() {
            return None;
        }
        let response_topic = message.properties.response_topic.clone()?;
        let covered = self
            .subscriptions
            .iter()
            .any(|s| crate::model::topic::matches(&s.sub.filter, &response_topic));
        let listen = (!covered && crate::model::topic::validate_filter(&response_topic).is_ok())
            .then(|| Subscription::new(response_topic.clone(), QoS::AtLeastOnce));
        self.requests.add(
            message.topic.clone(),
            response_topic,
            message.properties.correlation_data.clone(),
        );
        listen
    }

    /// Records the broker's answers.
    pub fn subscribed(&mut self, results: &[crate::engine::SubscribeResult]) {
        for r in results {
            if let Some(s) = self.subscriptions.iter_mut().find(|s| s.sub.filter == r.filter) {
                s.status = match &r.granted {
                    Ok(q) => SubStatus::Granted(*q),
                    Err(why) => SubStatus::Refused(why.clone()),
                };
            }
        }
    }

    /// Whether MQTT 5 features apply: the version the broker accepted once connected, the
    /// profile's choice before (Auto counts as 5.0, which it tries first).
    pub fn speaks_v5(&self) -> bool {
        match &self.state {
            ConnectionState::Connected { version, .. } => *version == MqttVersion::V5,
            _ => self.profile.version.allows_v5(),
        }
    }

    /// Whether the connection is up.
    pub fn connected(&self) -> bool {
        matches!(self.state, ConnectionState::Connected { .. })
    }

    /// Whether the connection task is still running (not disconnected or failed).
    pub fn open(&self) -> bool {
        !self.state.is_final()
    }

    /// The latest state the engine reported.
    pub fn state(&self) -> &ConnectionState {
        &self.state
    }

    /// When [`ConnectionTab::state`] was reported (for the reconnect countdown).
    pub fn state_since(&self) -> Instant {
        self.state_since
    }

    /// Takes a new state, restarting the clock of [`ConnectionTab::state_since`].
    pub fn set_state(&mut self, state: ConnectionState) {
        self.state = state;
        self.state_since = Instant::now();
    }

    /// Queues messages from the engine; [`ConnectionTab::apply_pending`] puts them in the tree.
    pub fn queue(&mut self, messages: Vec<Message>) {
        self.backlog.push(messages);
    }

    /// Whether messages wait to be applied.
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Applies queued batches until `deadline` (see [`Backlog::drain`] for the bound); returns
    /// whether some are left.
    pub fn apply_pending(&mut self, deadline: Instant) -> bool {
        let Self {
            backlog,
            rate,
            rate_history,
            charts,
            tree,
            ..
        } = self;
        backlog.drain(deadline, |batch| {
            let now = Instant::now();
            rate.add(now, batch.len() as u64);
            rate_history.add(now, batch.len() as u64);
            if !charts.is_empty() {
                for m in &batch {
                    charts.feed(m);
                }
            }
            tree.insert_all(batch, now);
        })
    }

    /// Selects a node, resetting the message view.
    pub fn select(&mut self, id: NodeId) {
        if self.view.selected != Some(id) {
            self.view.selected = Some(id);
            self.history_index = 0;
            self.payload_limit = DEFAULT_PAYLOAD_LIMIT;
        }
    }
}
