//! The state of one open connection in the window: its profile, state, topic tree and the
//! view over it.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::engine::{ConnectionId, ConnectionState};
use crate::model::message::Message;
use crate::model::payload::{Rendered, View};
use crate::model::topic_tree::{NodeId, Row, TopicTree};
use crate::profiles::Profile;

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
    /// Flattened visible rows.
    pub rows: Vec<Row>,
    rows_key: Option<(u64, u64, String, bool)>,
    expansion_version: u64,
    /// Scroll the selected row into view on the next frame.
    pub scroll_to_selected: bool,
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

    /// Rebuilds the rows if the tree's shape, the expansion, the filter or `$SYS` changed.
    pub fn refresh(&mut self, tree: &TopicTree) {
        let key = (
            tree.shape_version(),
            self.expansion_version,
            self.filter.clone(),
            self.hide_sys,
        );
        if self.rows_key.as_ref() != Some(&key) {
            self.rows = tree.visible_rows(&self.expanded, &self.filter, self.hide_sys);
            self.rows_key = Some(key);
        }
    }
}

/// A cached rendering of the payload shown in the message view.
#[derive(Debug, Clone)]
pub struct RenderCache {
    /// (node, total messages on it, history index, view, byte limit).
    pub key: (NodeId, u64, usize, View, usize),
    /// The rendering.
    pub rendered: Rendered,
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
}

impl ConnectionTab {
    /// A tab for a connection that is about to be opened.
    pub fn new(id: ConnectionId, profile: Profile) -> Self {
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
            payload_limit: crate::ui::message::DEFAULT_PAYLOAD_LIMIT,
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

    /// Applies pending batches until `deadline`; returns whether some are left.
    pub fn apply_pending(&mut self, deadline: Instant) -> bool {
        while let Some(batch) = self.pending.pop_front() {
            let now = Instant::now();
            self.rate.add(now, batch.len() as u64);
            self.tree.insert_all(batch, now);
            if Instant::now() >= deadline {
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
            self.payload_limit = crate::ui::message::DEFAULT_PAYLOAD_LIMIT;
        }
    }
}
