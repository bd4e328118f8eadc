//! The topic tree: every topic seen, arranged by `/` levels, with per-node counts, the latest
//! message and a bounded history. Pure data: no network, no UI.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Instant;

use super::message::Message;

/// Index of a node in the tree's arena.
pub type NodeId = u32;

/// The root node (an empty segment above every topic).
pub const ROOT: NodeId = 0;

/// Messages kept per topic in its history (the newest first); the latest is always kept.
pub const HISTORY_PER_TOPIC: usize = 100;

/// One level of a topic path.
#[derive(Debug, Clone)]
pub struct Node {
    /// This level's segment (`temp` in `plant/line1/temp`).
    pub name: Box<str>,
    /// The parent node (`None` for the root).
    pub parent: Option<NodeId>,
    /// Depth below the root (top-level segments are at depth 0).
    pub depth: u16,
    /// Children by segment, in sorted order.
    pub children: BTreeMap<Box<str>, NodeId>,
    /// Messages received on exactly this topic.
    pub messages: u64,
    /// Messages received on this topic and every topic below it.
    pub subtree_messages: u64,
    /// Topics (nodes that received at least one message) in this subtree, this one included.
    pub subtree_topics: u32,
    /// Recent messages on this topic, newest first (at most [`HISTORY_PER_TOPIC`]).
    pub history: VecDeque<Message>,
    /// When the last message on this topic or below arrived.
    pub last_update: Option<Instant>,
}

impl Node {
    fn new(name: &str, parent: Option<NodeId>, depth: u16) -> Self {
        Self {
            name: name.into(),
            parent,
            depth,
            children: BTreeMap::new(),
            messages: 0,
            subtree_messages: 0,
            subtree_topics: 0,
            history: VecDeque::new(),
            last_update: None,
        }
    }

    /// The newest message on this topic.
    pub fn latest(&self) -> Option<&Message> {
        self.history.front()
    }

    /// Whether the newest message is retained.
    pub fn retained(&self) -> bool {
        self.latest().is_some_and(|m| m.retain)
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
    /// The lowercase full topic of every node (for filtering without rebuilding paths).
    lower_paths: Vec<Box<str>>,
    total_messages: u64,
    /// Changes whenever a node is added (the flattened rows must be rebuilt).
    shape_version: u64,
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}

impl TopicTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            nodes: vec![Node::new("", None, 0)],
            lower_paths: vec!["".into()],
            total_messages: 0,
            shape_version: 0,
        }
    }

    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
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

    /// The node of a topic, if seen.
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        let mut id = ROOT;
        for segment in topic.split('/') {
            id = *self.nodes[id as usize].children.get(segment)?;
        }
        Some(id)
    }

    /// The full topic of a node (`plant/line1/temp`).
    pub fn full_topic(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut current = Some(id);
        while let Some(n) = current {
            if n == ROOT {
                break;
            }
            let node = &self.nodes[n as usize];
            parts.push(&*node.name);
            current = node.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// The ancestors of a node, nearest first (the root excluded).
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id as usize].parent, |p| self.nodes[*p as usize].parent)
            .filter(|p| *p != ROOT)
    }

    fn child(&mut self, parent: NodeId, segment: &str) -> NodeId {
        if let Some(id) = self.nodes[parent as usize].children.get(segment) {
            return *id;
        }
        let depth = if parent == ROOT {
            0
        } else {
            self.nodes[parent as usize].depth.saturating_add(1)
        };
        let id = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        self.nodes.push(Node::new(segment, Some(parent), depth));
        let parent_path = &self.lower_paths[parent as usize];
        let mut path = String::with_capacity(parent_path.len() + segment.len() + 1);
        if parent != ROOT {
            path.push_str(parent_path);
            path.push('/');
        }
        path.extend(segment.chars().flat_map(char::to_lowercase));
        self.lower_paths.push(path.into_boxed_str());
        self.nodes[parent as usize].children.insert(segment.into(), id);
        self.shape_version += 1;
        id
    }

    /// Adds a message; returns its node.
    pub fn insert(&mut self, message: Message, now: Instant) -> NodeId {
        let mut id = ROOT;
        for segment in message.topic.split('/') {
            id = self.child(id, segment);
        }
        let node = &mut self.nodes[id as usize];
        let new_topic = node.messages == 0;
        node.messages += 1;
        node.history.push_front(message);
        node.history.truncate(HISTORY_PER_TOPIC);
        self.total_messages += 1;
        let mut current = Some(id);
        while let Some(n) = current {
            let node = &mut self.nodes[n as usize];
            node.subtree_messages += 1;
            if new_topic {
                node.subtree_topics += 1;
            }
            node.last_update = Some(now);
            current = node.parent;
        }
        id
    }

    /// Adds messages in order.
    pub fn insert_all(&mut self, messages: impl IntoIterator<Item = Message>, now: Instant) {
        for m in messages {
            self.insert(m, now);
        }
    }

    /// The visible rows: children of expanded nodes, in sorted order. With a filter
    /// (case-insensitive substring of the full topic), only matching nodes and their ancestors
    /// are shown, and those ancestors are shown expanded. `hide_sys` hides `$SYS`.
    pub fn visible_rows(&self, expanded: &HashSet<NodeId>, filter: &str, hide_sys: bool) -> Vec<Row> {
        let filter = filter.trim().to_lowercase();
        let keep = if filter.is_empty() {
            None
        } else {
            Some(self.matching(&filter))
        };
        let mut rows = Vec::new();
        let mut stack: Vec<NodeId> = self.nodes[ROOT as usize]
            .children
            .values()
            .rev()
            .copied()
            .collect();
        while let Some(id) = stack.pop() {
            let node = &self.nodes[id as usize];
            if hide_sys && node.parent == Some(ROOT) && node.name.starts_with('$') {
                continue;
            }
            if let Some(keep) = &keep
                && !keep[id as usize]
            {
                continue;
            }
            rows.push(Row {
                id,
                depth: node.depth,
            });
            let open = match &keep {
                Some(_) => true,
                None => expanded.contains(&id),
            };
            if open {
                stack.extend(node.children.values().rev().copied());
            }
        }
        rows
    }

    /// Marks nodes whose full topic contains `needle` (already lowercase), and their ancestors.
    fn matching(&self, needle: &str) -> Vec<bool> {
        let mut keep = vec![false; self.nodes.len()];
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        for (id, path) in self.lower_paths.iter().enumerate().skip(1) {
            if keep[id] || finder.find(path.as_bytes()).is_none() {
                continue;
            }
            keep[id] = true;
            let mut parent = self.nodes[id].parent;
            while let Some(p) = parent.filter(|p| *p != ROOT && !keep[*p as usize]) {
                keep[p as usize] = true;
                parent = self.nodes[p as usize].parent;
            }
        }
        keep
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use bytes::Bytes;

    use super::*;
    use crate::model::message::{Properties, QoS};

    fn msg(topic: &str, payload: &str, retain: bool) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::from(payload.to_owned()),
            qos: QoS::AtMostOnce,
            retain,
            dup: false,
            received: SystemTime::now(),
            properties: Properties::default(),
        }
    }

    fn tree() -> TopicTree {
        let mut t = TopicTree::new();
        let now = Instant::now();
        t.insert(msg("plant/line1/temp", "20", true), now);
        t.insert(msg("plant/line1/temp", "21", false), now);
        t.insert(msg("plant/line2/Pressure", "1.1", false), now);
        t.insert(msg("home/kitchen", "on", false), now);
        t.insert(msg("$SYS/broker/uptime", "5", false), now);
        t
    }

    #[test]
    fn counts_and_latest() {
        let t = tree();
        assert_eq!(t.topic_count(), 4);
        assert_eq!(t.total_messages(), 5);
        let temp = t.find("plant/line1/temp").unwrap();
        let node = t.node(temp);
        assert_eq!(node.messages, 2);
        assert_eq!(&node.latest().unwrap().payload[..], b"21");
        assert!(!node.retained());
        assert_eq!(node.history.len(), 2);
        let plant = t.find("plant").unwrap();
        assert_eq!(t.node(plant).subtree_messages, 3);
        assert_eq!(t.node(plant).subtree_topics, 2);
        assert!(!t.node(plant).is_topic());
        assert_eq!(t.full_topic(temp), "plant/line1/temp");
        assert_eq!(t.ancestors(temp).count(), 2);
    }

    #[test]
    fn history_is_bounded() {
        let mut t = TopicTree::new();
        for i in 0..(HISTORY_PER_TOPIC + 10) {
            t.insert(msg("a", &i.to_string(), false), Instant::now());
        }
        let node = t.node(t.find("a").unwrap());
        assert_eq!(node.history.len(), HISTORY_PER_TOPIC);
        assert_eq!(node.messages, (HISTORY_PER_TOPIC + 10) as u64);
        assert_eq!(
            &node.latest().unwrap().payload[..],
            (HISTORY_PER_TOPIC + 9).to_string().as_bytes()
        );
    }

    #[test]
    fn rows_follow_expansion_sorting_and_sys() {
        let t = tree();
        let names = |rows: &[Row]| rows.iter().map(|r| t.full_topic(r.id)).collect::<Vec<_>>();
        let collapsed = t.visible_rows(&HashSet::new(), "", false);
        assert_eq!(names(&collapsed), vec!["$SYS", "home", "plant"]);
        assert_eq!(
            names(&t.visible_rows(&HashSet::new(), "", true)),
            vec!["home", "plant"]
        );
        let expanded: HashSet<NodeId> = [t.find("plant").unwrap()].into();
        let rows = t.visible_rows(&expanded, "", true);
        assert_eq!(names(&rows), vec!["home", "plant", "plant/line1", "plant/line2"]);
        assert_eq!(rows[2].depth, 1);
    }

    #[test]
    fn filter_shows_matches_with_ancestors() {
        let t = tree();
        let rows = t.visible_rows(&HashSet::new(), "PRESS", false);
        let names: Vec<String> = rows.iter().map(|r| t.full_topic(r.id)).collect();
        assert_eq!(names, vec!["plant", "plant/line2", "plant/line2/Pressure"]);
        let rows = t.visible_rows(&HashSet::new(), "line1/te", false);
        assert_eq!(rows.len(), 3);
        assert!(t.visible_rows(&HashSet::new(), "nothing", false).is_empty());
    }
}
