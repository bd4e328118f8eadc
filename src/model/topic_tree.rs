//! The topic tree: every topic seen, arranged by `/` levels, with per-node counts, the latest
//! message of every topic and a history bounded by a global memory budget. Pure data: no
//! network, no UI.
//!
//! Built for millions of topics: nodes live in one arena (`Vec<Node>`), segment names are
//! interned once in a single string arena, children are found through one hash map keyed by
//! `(parent, segment)`, and each node's child list is sorted lazily, only when it is shown.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thin_vec::ThinVec;

use super::message::Message;
use super::segments::{SegmentId, Segments};

mod order;
mod stored;

pub use order::natural_cmp;
#[cfg(test)]
use stored::HISTORY_ENTRY_OVERHEAD;
pub use stored::StoredMessage;

/// Index of a node in the tree's arena.
pub type NodeId = u32;

/// The root node (an empty segment above every topic).
pub const ROOT: NodeId = 0;

/// What the tree keeps besides the latest message of every topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Bytes all topics' history may use together (payloads and bookkeeping). Past it the
    /// oldest history is evicted first; the latest message of every topic is always kept.
    pub history_budget: usize,
    /// Messages kept per topic, the latest included.
    pub history_per_topic: usize,
    /// Payloads longer than this are kept whole as a topic's latest message but cut to this
    /// length once they move into history.
    pub history_payload_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            history_budget: 256 * 1024 * 1024,
            history_per_topic: 100,
            history_payload_cap: 1024 * 1024,
        }
    }
}

/// The root's parent.
const NO_PARENT: NodeId = NodeId::MAX;
const CHILDREN_UNSORTED: u8 = 1;
const HISTORY_TRIMMED: u8 = 2;
/// The latest message arrived although no subscription matches its topic (see
/// [`Message::subscribed`]).
const UNASKED: u8 = 4;

/// One level of a topic path.
#[derive(Debug, Clone)]
pub struct Node {
    name: SegmentId,
    parent: NodeId,
    depth: u16,
    flags: u8,
    children: ThinVec<NodeId>,
    messages: u64,
    subtree_messages: u64,
    subtree_topics: u32,
    /// Hundredths of a second after the tree's epoch, plus one (0: never).
    last_update: u32,
    latest: Option<StoredMessage>,
    /// Older messages, newest first. Boxed: most topics have no history, and an empty
    /// `VecDeque` inline would cost every node 32 bytes instead of 8.
    #[allow(clippy::box_collection)]
    history: Option<Box<VecDeque<StoredMessage>>>,
}

impl Node {
    fn new(name: SegmentId, parent: NodeId, depth: u16) -> Self {
        Self {
            name,
            parent,
            depth,
            flags: 0,
            children: ThinVec::new(),
            messages: 0,
            subtree_messages: 0,
            subtree_topics: 0,
            last_update: 0,
            latest: None,
            history: None,
        }
    }

    /// The parent node (`None` for the root).
    pub fn parent(&self) -> Option<NodeId> {
        (self.parent != NO_PARENT).then_some(self.parent)
    }

    /// Depth below the root (top-level segments are at depth 0).
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// The children, in sorted order once [`TopicTree::sort_children`] ran since the last one
    /// was added.
    pub fn children(&self) -> &[NodeId] {
        &self.children
    }

    /// Whether any topic lies below this one.
    pub fn has_children(&self) -> bool {
        !self.children.is_empty()
    }

    /// Messages received on exactly this topic.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Messages received on this topic and every topic below it.
    pub fn subtree_messages(&self) -> u64 {
        self.subtree_messages
    }

    /// Topics (nodes that received at least one message) in this subtree, this one included.
    pub fn subtree_topics(&self) -> u32 {
        self.subtree_topics
    }

    /// The newest message on this topic.
    pub fn latest(&self) -> Option<&StoredMessage> {
        self.latest.as_ref()
    }

    /// A message of this topic's history: 0 is the latest, 1 the one before, and so on.
    pub fn message(&self, index: usize) -> Option<&StoredMessage> {
        match index {
            0 => self.latest.as_ref(),
            i => self.history.as_ref()?.get(i - 1),
        }
    }

    /// Messages kept for this topic, the latest included.
    pub fn history_len(&self) -> usize {
        usize::from(self.latest.is_some()) + self.history.as_ref().map_or(0, |h| h.len())
    }

    /// Whether older messages of this topic were evicted to stay within the history budget.
    pub fn history_trimmed(&self) -> bool {
        self.flags & HISTORY_TRIMMED != 0
    }

    /// Whether the broker sent the newest message although none of our subscriptions matches
    /// its topic. Such topics are shown, marked, and never cleared or exported.
    pub fn unasked(&self) -> bool {
        self.flags & UNASKED != 0
    }

    /// Whether the newest message is retained.
    pub fn retained(&self) -> bool {
        self.latest.as_ref().is_some_and(|m| m.retain)
    }

    /// Whether this node is a topic (received a message) rather than only a level.
    pub fn is_topic(&self) -> bool {
        self.messages > 0
    }
}

/// A visible row of the flattened tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The node shown.
    pub id: NodeId,
    /// Its indentation level.
    pub depth: u16,
}

/// All topics of one connection.
#[derive(Debug, Clone)]
pub struct TopicTree {
    nodes: Vec<Node>,
    segments: Segments,
    /// `(parent << 32 | segment)` → child.
    index: FxHashMap<u64, NodeId>,
    total_messages: u64,
    /// Changes whenever a node is added (the flattened rows must be rebuilt).
    shape_version: u64,
    epoch: Instant,
    limits: Limits,
    history_bytes: usize,
    history_entries: usize,
    /// Every history entry in arrival order, for evicting the oldest first: (node, seq).
    eviction: VecDeque<(NodeId, u64)>,
    evicted: u64,
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}

impl TopicTree {
    /// An empty tree with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// An empty tree.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            nodes: vec![Node::new(SegmentId::EMPTY, NO_PARENT, 0)],
            segments: Segments::new(),
            index: FxHashMap::default(),
            total_messages: 0,
            shape_version: 0,
            epoch: Instant::now(),
            limits,
            history_bytes: 0,
            history_entries: 0,
            eviction: VecDeque::new(),
            evicted: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits; history beyond the new budget is evicted at once.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.enforce_budget();
    }

    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// A node's own segment (`temp` in `plant/line1/temp`).
    pub fn name(&self, id: NodeId) -> &str {
        self.segments.get(self.nodes[id as usize].name)
    }

    /// A node's own segment in lower case (for case-insensitive matching).
    pub fn lower_name(&self, id: NodeId) -> &str {
        self.segments.lower(self.nodes[id as usize].name)
    }

    /// Number of nodes (levels and topics), the root included.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of distinct topics that received messages.
    pub fn topic_count(&self) -> u32 {
        self.nodes[ROOT as usize].subtree_topics
    }

    /// Messages received in total.
    pub fn total_messages(&self) -> u64 {
        self.total_messages
    }

    /// Changes whenever the tree's shape changes.
    pub fn shape_version(&self) -> u64 {
        self.shape_version
    }

    /// Bytes the history uses now (against [`Limits::history_budget`]).
    pub fn history_bytes(&self) -> usize {
        self.history_bytes
    }

    /// History entries evicted so far to stay within the budget.
    pub fn history_evicted(&self) -> u64 {
        self.evicted
    }

    /// When the last message on this topic or below arrived.
    pub fn last_update(&self, id: NodeId) -> Option<Instant> {
        match self.nodes[id as usize].last_update {
            0 => None,
            t => Some(self.epoch + Duration::from_millis(u64::from(t - 1) * 10)),
        }
    }

    /// The node of a topic, if seen.
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        let mut id = ROOT;
        for segment in topic.split('/') {
            let name = self.segments.find(segment)?;
            id = *self.index.get(&key(id, name))?;
        }
        Some(id)
    }

    /// The full topic of a node (`plant/line1/temp`).
    pub fn full_topic(&self, id: NodeId) -> String {
        let mut parts: Vec<&str> = std::iter::once(id)
            .chain(self.ancestors(id))
            .filter(|n| *n != ROOT)
            .map(|n| self.name(n))
            .collect();
        parts.reverse();
        parts.join("/")
    }

    /// The ancestors of a node, nearest first (the root excluded).
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id as usize].parent(), |p| {
            self.nodes[*p as usize].parent()
        })
        .filter(|p| *p != ROOT)
    }

    /// The topics at or below `id` whose latest message is retained and not empty (what the
    /// broker retains, as far as this connection has seen), in tree order. Topics no
    /// subscription asked for are left out: clearing them would act outside the user's filters.
    pub fn retained_below(&mut self, id: NodeId) -> Vec<NodeId> {
        let mut found = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n as usize];
            if !node.unasked()
                && node
                    .latest
                    .as_ref()
                    .is_some_and(|m| m.retain && !m.payload.is_empty())
            {
                found.push(n);
            }
            stack.extend(self.sorted_children(n).iter().rev().copied());
        }
        found
    }

    /// Sorts a node's children by name if some were added since the last sort.
    pub fn sort_children(&mut self, id: NodeId) {
        let node = &mut self.nodes[id as usize];
        if node.flags & CHILDREN_UNSORTED == 0 {
            return;
        }
        node.flags &= !CHILDREN_UNSORTED;
        let mut children = std::mem::take(&mut node.children);
        let (nodes, segments) = (&self.nodes, &self.segments);
        children.sort_by(|a, b| {
            natural_cmp(
                segments.get(nodes[*a as usize].name),
                segments.get(nodes[*b as usize].name),
            )
        });
        self.nodes[id as usize].children = children;
    }

    /// A node's children in sorted order.
    pub fn sorted_children(&mut self, id: NodeId) -> &[NodeId] {
        self.sort_children(id);
        &self.nodes[id as usize].children
    }

    fn child(&mut self, parent: NodeId, segment: &str) -> NodeId {
        let name = self.segments.intern(segment);
        let k = key(parent, name);
        if let Some(id) = self.index.get(&k) {
            return *id;
        }
        let depth = if parent == ROOT {
            0
        } else {
            self.nodes[parent as usize].depth.saturating_add(1)
        };
        let id = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        self.nodes.push(Node::new(name, parent, depth));
        let p = &mut self.nodes[parent as usize];
        p.children.push(id);
        if p.children.len() > 1 {
            p.flags |= CHILDREN_UNSORTED;
        }
        self.index.insert(k, id);
        self.shape_version += 1;
        id
    }

    /// Adds a message; returns its node.
    pub fn insert(&mut self, message: Message, now: Instant) -> NodeId {
        let mut id = ROOT;
        for segment in message.topic.split('/') {
            id = self.child(id, segment);
        }
        let stamp = u32::try_from(now.saturating_duration_since(self.epoch).as_millis() / 10)
            .unwrap_or(u32::MAX - 1)
            + 1;
        let node = &mut self.nodes[id as usize];
        node.messages += 1;
        if message.subscribed {
            node.flags &= !UNASKED;
        } else {
            node.flags |= UNASKED;
        }
        let stored = StoredMessage::new(message, node.messages);
        let new_topic = node.latest.is_none();
        if let Some(previous) = node.latest.replace(stored) {
            self.push_history(id, previous);
        }
        self.total_messages += 1;
        let mut n = id;
        loop {
            let node = &mut self.nodes[n as usize];
            node.subtree_messages += 1;
            node.subtree_topics += u32::from(new_topic);
            node.last_update = stamp;
            if n == ROOT {
                break;
            }
            n = node.parent;
        }
        id
    }

    /// Adds messages in order.
    pub fn insert_all(&mut self, messages: impl IntoIterator<Item = Message>, now: Instant) {
        for m in messages {
            self.insert(m, now);
        }
    }

    fn push_history(&mut self, id: NodeId, mut message: StoredMessage) {
        let keep = self.limits.history_per_topic.saturating_sub(1);
        if keep == 0 {
            return;
        }
        let cap = self.limits.history_payload_cap;
        if message.payload.len() > cap {
            message.payload = Bytes::copy_from_slice(&message.payload[..cap]);
        }
        self.history_bytes += message.cost();
        self.history_entries += 1;
        self.eviction.push_back((id, message.seq));
        let history = self.nodes[id as usize].history.get_or_insert_with(Box::default);
        history.push_front(message);
        let dropped = if history.len() > keep {
            history.pop_back()
        } else {
            None
        };
        if let Some(old) = dropped {
            self.history_bytes -= old.cost();
            self.history_entries -= 1;
        }
        self.enforce_budget();
        // Entries dropped by the per-topic bound stay in the queue until found stale; compact it
        // before it grows far beyond the live entries.
        if self.eviction.len() > 2 * self.history_entries + 4096 {
            let nodes = &self.nodes;
            self.eviction.retain(|(n, seq)| {
                nodes[*n as usize]
                    .history
                    .as_ref()
                    .and_then(|h| h.back())
                    .is_some_and(|oldest| oldest.seq <= *seq)
            });
        }
    }

    fn enforce_budget(&mut self) {
        while self.history_bytes > self.limits.history_budget {
            let Some((id, seq)) = self.eviction.pop_front() else {
                break;
            };
            let node = &mut self.nodes[id as usize];
            let Some(history) = node.history.as_mut() else {
                continue;
            };
            if history.back().is_some_and(|m| m.seq == seq)
                && let Some(old) = history.pop_back()
            {
                self.history_bytes -= old.cost();
                self.history_entries -= 1;
                self.evicted += 1;
                node.flags |= HISTORY_TRIMMED;
                if history.is_empty() {
                    node.history = None;
                }
            }
        }
    }

    /// The visible rows, computed at once: children of expanded nodes, in sorted order. With a
    /// filter (case-insensitive substring of the full topic), only matching nodes and their
    /// ancestors are shown, and those ancestors are shown expanded. `show_sys` lists `$SYS`.
    /// (The window builds rows across frames with [`super::rows`] instead.)
    pub fn visible_rows(&mut self, expanded: &HashSet<NodeId>, filter: &str, show_sys: bool) -> Vec<Row> {
        let mut scan = super::rows::FilterScan::new(filter);
        if let Some(scan) = &mut scan {
            scan.advance(self, None);
        }
        let mut builder = super::rows::RowBuilder::new(self, show_sys);
        builder.advance(self, expanded, scan.as_ref(), None);
        builder.into_rows()
    }
}

fn key(parent: NodeId, name: SegmentId) -> u64 {
    (u64::from(parent) << 32) | u64::from(name.0)
}

#[cfg(test)]
mod tests;
