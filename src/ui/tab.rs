//! The state of one open connection in the window: its profile, state, topic tree and the
//! view over it.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::engine::{ConnectionId, ConnectionState};
use crate::model::message::Message;
use crate::model::message::QoS;
use crate::model::payload::{Rendered, View};
use crate::model::topic_tree::{NodeId, Row, TopicTree};
use crate::model::view::{FilterScan, RowBuilder};
use crate::profiles::Profile;
use crate::profiles::profile::{MqttVersion, Subscription};

/// Bytes of a payload shown before the user asks for more: laying out text costs time in
/// proportion to its length, and 64 KiB stays within a frame.
pub const DEFAULT_PAYLOAD_LIMIT: usize = 64 * 1024;

/// Batches (up to 4,096 messages each) allowed to wait for the per-frame apply budget.
pub const MAX_PENDING_BATCHES: usize = 256;

/// Messages per second over a sliding window.
#[derive(Debug, Default)]
pub struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    /// Records `n` messages arriving at `now`.
    pub fn add(&mut self, now: Instant, n: u64) {
        self.samples.push_back((now, n));
        self.trim(now);
    }

    fn trim(&mut self, now: Instant) {
        while let Some((t, _)) = self.samples.front() {
            if now.duration_since(*t) > Duration::from_secs(2) {
                self.samples.pop_front();
            } else {
                break;
            }
        }
    }

    /// Messages per second over the last two seconds.
    pub fn rate(&mut self, now: Instant) -> f64 {
        self.trim(now);
        let n: u64 = self.samples.iter().map(|(_, n)| n).sum();
        n as f64 / 2.0
    }
}

/// What the tree panel shows and how.
#[derive(Debug, Default)]
pub struct TreeView {
    /// Expanded nodes.
    pub expanded: HashSet<NodeId>,
    /// The selected node.
    pub selected: Option<NodeId>,
    /// Filter text.
    pub filter: String,
    /// Hide `$SYS/…`.
    pub hide_sys: bool,
    /// Flattened visible rows (the last complete build; a newer one may be under way).
    pub rows: Vec<Row>,
    expansion_version: u64,
    /// Scroll the selected row into view on the next frame.
    pub scroll_to_selected: bool,
    scan: Option<FilterScan>,
    building: Option<(RowsKey, RowBuilder)>,
    built: Option<RowsKey>,
}

/// What a set of rows was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowsKey {
    shape: u64,
    expansion: u64,
    filter: String,
    hide_sys: bool,
}

impl RowsKey {
    fn same_view(&self, other: &RowsKey) -> bool {
        self.expansion == other.expansion && self.filter == other.filter && self.hide_sys == other.hide_sys
    }
}

impl TreeView {
    /// Expands or collapses a node.
    pub fn set_expanded(&mut self, id: NodeId, open: bool) {
        let changed = if open {
            self.expanded.insert(id)
        } else {
            self.expanded.remove(&id)
        };
        if changed {
            self.expansion_version += 1;
        }
    }

    /// Whether a filter is typed in.
    pub fn filtering(&self) -> bool {
        !self.filter.trim().is_empty()
    }

    /// Brings the rows up to date with the tree's shape, the expansion, the filter and `$SYS`,
    /// working until `deadline` at most (`None`: until done). Big trees take several frames:
    /// the previous rows stay on screen meanwhile, and [`TreeView::pending`] says so.
    pub fn refresh(&mut self, tree: &mut TopicTree, deadline: Option<Instant>) {
        if !self.scan.as_ref().is_some_and(|s| s.is_for(&self.filter)) {
            self.scan = FilterScan::new(&self.filter);
        }
        if let Some(scan) = &mut self.scan
            && !scan.advance(tree, deadline)
        {
            return;
        }
        let key = RowsKey {
            shape: tree.shape_version(),
            expansion: self.expansion_version,
            filter: self
                .scan
                .as_ref()
                .map(|s| s.text().to_owned())
                .unwrap_or_default(),
            hide_sys: self.hide_sys,
        };
        // A change of view restarts the build; a change of shape lets it finish first (or it
        // might never finish while topics keep arriving).
        if self.building.as_ref().is_some_and(|(k, _)| !k.same_view(&key)) {
            self.building = None;
        }
        if self.building.is_none() && self.built.as_ref() != Some(&key) {
            let builder = RowBuilder::new(tree, self.hide_sys);
            self.building = Some((key, builder));
        }
        if let Some((key, builder)) = &mut self.building
            && builder.advance(tree, &self.expanded, self.scan.as_ref(), deadline)
        {
            self.built = Some(key.clone());
            if let Some((_, builder)) = self.building.take() {
                self.rows = builder.into_rows();
            }
        }
    }

    /// While the rows are being rebuilt over several frames: how far along, 0 to 1.
    pub fn pending(&self, tree: &TopicTree) -> Option<f32> {
        if let Some(scan) = &self.scan
            && !scan.is_complete(tree)
        {
            return Some(scan.progress(tree) * 0.5);
        }
        let (_, builder) = self.building.as_ref()?;
        let expected = self.rows.len().max(builder.len()).max(1);
        Some(0.5 + 0.5 * (builder.len() as f32 / expected as f32).min(1.0))
    }

    /// Whether the rows on screen are older than what was asked for (a view change, not
    /// only new topics, is being worked on).
    pub fn stale(&self) -> bool {
        let wanted = self.scan.as_ref().map_or("", |s| s.text());
        let built = self.built.as_ref().map_or("", |b| b.filter.as_str());
        if wanted != built {
            return true;
        }
        match (&self.building, &self.built) {
            (Some((k, _)), Some(b)) => !k.same_view(b),
            (Some(_), None) => true,
            _ => false,
        }
    }
}

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
    pub key: (NodeId, u64, usize, View, usize, usize),
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
pub struct ConnectionTab {
    /// The engine's id for this connection.
    pub id: ConnectionId,
    /// The profile it was opened with.
    pub profile: Profile,
    /// The latest state reported.
    pub state: ConnectionState,
    /// When that state was reported (for the reconnect countdown).
    pub state_since: Instant,
    /// Every topic seen.
    pub tree: TopicTree,
    /// The view over the tree.
    pub view: TreeView,
    /// Which message of the selected topic's history is shown (0 = newest).
    pub history_index: usize,
    /// Incoming messages.
    pub rate: RateMeter,
    /// Batches received but not yet applied (applied within a per-frame time budget).
    pub pending: VecDeque<Vec<Message>>,
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
    /// What every view of this connection hides (the profile's redaction while it is on).
    pub redactor: crate::model::redact::Redactor,
    /// Messages per second over the last minutes (presentation mode's chart).
    pub rate_history: crate::model::rate::RateHistory,
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
            pending: VecDeque::new(),
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

    /// Applies pending batches until `deadline`; returns whether some are left. Past
    /// [`MAX_PENDING_BATCHES`] waiting batches the deadline is ignored until the backlog is back
    /// under it: a slow frame is better than memory growing without bound.
    pub fn apply_pending(&mut self, deadline: Instant) -> bool {
        while let Some(batch) = self.pending.pop_front() {
            let now = Instant::now();
            self.rate.add(now, batch.len() as u64);
            self.rate_history.add(now, batch.len() as u64);
            if !self.charts.is_empty() {
                for m in &batch {
                    self.charts.feed(m);
                }
            }
            self.tree.insert_all(batch, now);
            if Instant::now() >= deadline && self.pending.len() <= MAX_PENDING_BATCHES {
                break;
            }
        }
        !self.pending.is_empty()
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
