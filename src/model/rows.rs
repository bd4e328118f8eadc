//! The work behind the tree panel, done in slices so that no frame stalls on a big tree: a
//! filter scan over every node and the flattening of the visible rows. Both can be resumed
//! across frames (pass a deadline) and both pick up nodes added while they run.

use std::collections::HashSet;
use std::time::Instant;

use super::topic_tree::{NodeId, ROOT, Row, TopicTree};

/// Nodes processed between two looks at the clock.
const CHUNK: usize = 2048;

/// Which nodes a filter keeps: those whose full topic contains the filter text (ignoring case)
/// and their ancestors. Scans nodes in arena order, which puts every parent before its
/// children, with a string-matching automaton whose state is carried from parent to child, so
/// each node costs only its own segment.
#[derive(Debug, Clone)]
pub struct FilterScan {
    text: String,
    needle: Vec<u8>,
    /// Knuth–Morris–Pratt failure function of `needle`.
    fail: Vec<u32>,
    /// Automaton state after each scanned node's full topic (`needle.len()`: matched).
    states: Vec<u32>,
    keep: Vec<bool>,
    matches: usize,
}

impl FilterScan {
    /// A scan for `filter`, or `None` when it is blank (no filter).
    pub fn new(filter: &str) -> Option<Self> {
        let text = filter.trim().to_lowercase();
        if text.is_empty() {
            return None;
        }
        let needle = text.as_bytes().to_vec();
        let mut fail = vec![0u32; needle.len()];
        let mut k = 0usize;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1] as usize;
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k as u32;
        }
        Some(Self {
            text,
            needle,
            fail,
            states: vec![0],
            keep: vec![true],
            matches: 0,
        })
    }

    /// The filter text it matches (trimmed, lower case).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `filter` is the text this scan is for.
    pub fn is_for(&self, filter: &str) -> bool {
        let f = filter.trim();
        f.len() == self.text.len() && f.to_lowercase() == self.text
    }

    /// Nodes whose own topic matches (ancestors not counted), among those scanned.
    pub fn matches(&self) -> usize {
        self.matches
    }

    /// Whether every node of `tree` has been scanned.
    pub fn is_complete(&self, tree: &TopicTree) -> bool {
        self.states.len() >= tree.node_count()
    }

    /// Share of `tree`'s nodes scanned, 0 to 1.
    pub fn progress(&self, tree: &TopicTree) -> f32 {
        self.states.len() as f32 / tree.node_count().max(1) as f32
    }

    /// Whether the scan keeps `id` (nodes not yet scanned are not kept).
    pub fn keeps(&self, id: NodeId) -> bool {
        self.keep.get(id as usize).copied().unwrap_or(false)
    }

    fn step(&self, mut state: usize, byte: u8) -> usize {
        while state > 0 && self.needle[state] != byte {
            state = self.fail[state - 1] as usize;
        }
        if self.needle[state] == byte {
            state += 1;
        }
        state
    }

    /// Scans the nodes not yet scanned until done or past `deadline`; returns whether done.
    pub fn advance(&mut self, tree: &TopicTree, deadline: Option<Instant>) -> bool {
        let full = self.needle.len();
        let total = tree.node_count();
        while self.states.len() < total {
            let end = (self.states.len() + CHUNK).min(total);
            for id in self.states.len()..end {
                let id = id as NodeId;
                let parent = tree.node(id).parent().unwrap_or(ROOT);
                let mut state = self.states[parent as usize] as usize;
                if state < full {
                    if parent != ROOT {
                        state = self.step(state, b'/');
                    }
                    for &b in tree.lower_name(id).as_bytes() {
                        if state == full {
                            break;
                        }
                        state = self.step(state, b);
                    }
                }
                self.states.push(state as u32);
                let matched = state == full;
                self.keep.push(matched);
                if matched {
                    self.matches += 1;
                    let mut p = parent;
                    while p != ROOT && !self.keep[p as usize] {
                        self.keep[p as usize] = true;
                        p = tree.node(p).parent().unwrap_or(ROOT);
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        self.states.len() >= total
    }
}

/// Flattens the visible rows depth first, in sorted order, resumably.
#[derive(Debug, Clone, Default)]
pub struct RowBuilder {
    stack: Vec<NodeId>,
    rows: Vec<Row>,
    /// Whether `$` topics at the top level (`$SYS`…) are listed.
    show_sys: bool,
}

impl RowBuilder {
    /// Starts from the top-level topics; without `show_sys`, `$SYS` and other `$` topics are left out.
    pub fn new(tree: &mut TopicTree, show_sys: bool) -> Self {
        let stack = tree.sorted_children(ROOT).iter().rev().copied().collect();
        Self {
            stack,
            rows: Vec::new(),
            show_sys,
        }
    }

    /// Rows produced so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was produced yet.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Continues until done or past `deadline`; returns whether done. With a filter, every
    /// kept node is shown with its kept children (ancestors of matches are opened); without,
    /// the children of `expanded` nodes are shown.
    pub fn advance(
        &mut self,
        tree: &mut TopicTree,
        expanded: &HashSet<NodeId>,
        filter: Option<&FilterScan>,
        deadline: Option<Instant>,
    ) -> bool {
        let mut budget = CHUNK;
        while let Some(id) = self.stack.pop() {
            budget -= 1;
            if budget == 0 {
                budget = CHUNK;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    self.stack.push(id);
                    return false;
                }
            }
            let node = tree.node(id);
            if !self.show_sys && node.parent() == Some(ROOT) && tree.name(id).starts_with('$') {
                continue;
            }
            if filter.is_some_and(|f| !f.keeps(id)) {
                continue;
            }
            self.rows.push(Row {
                id,
                depth: node.depth(),
            });
            let open = node.has_children() && (filter.is_some() || expanded.contains(&id));
            if open {
                self.stack.extend(tree.sorted_children(id).iter().rev().copied());
            }
        }
        true
    }

    /// The rows (complete once [`RowBuilder::advance`] returned true).
    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::model::message::Message;

    fn msg(topic: &str) -> Message {
        Message::received_now(topic, Bytes::from_static(b"1"))
    }

    fn tree(topics: &[&str]) -> TopicTree {
        let mut t = TopicTree::new();
        for topic in topics {
            t.insert(msg(topic), Instant::now());
        }
        t
    }

    /// The obvious definition, to check the automaton against.
    fn naive(t: &TopicTree, filter: &str) -> Vec<bool> {
        let needle = filter.trim().to_lowercase();
        let mut keep = vec![false; t.node_count()];
        keep[0] = true;
        for id in 1..t.node_count() as NodeId {
            if t.full_topic(id).to_lowercase().contains(&needle) {
                keep[id as usize] = true;
                for a in t.ancestors(id) {
                    keep[a as usize] = true;
                }
            }
        }
        keep
    }

    #[test]
    fn automaton_agrees_with_substring_search() {
        let t = tree(&[
            "aab/aaab/abab",
            "a/a/b",
            "ab/ab",
            "x/AaB/y",
            "b/a",
            "$SYS/broker/load",
            "plant/line1/temp",
            "/leading",
            "trailing/",
            "ä/Ä/äb",
        ]);
        for filter in [
            "a", "ab", "a/a", "aab", "aaab/ab", "b/a", "/", "//", "broker/l", " AB ", "zz", "äb", "ä/ä",
        ] {
            let mut scan = FilterScan::new(filter).unwrap();
            assert!(scan.advance(&t, None));
            let expected = naive(&t, filter);
            for id in 0..t.node_count() as NodeId {
                assert_eq!(
                    scan.keeps(id),
                    expected[id as usize],
                    "filter {filter:?}, {}",
                    t.full_topic(id)
                );
            }
        }
        assert!(FilterScan::new("  ").is_none());
    }

    #[test]
    fn scan_resumes_and_picks_up_new_nodes() {
        let topics: Vec<String> = (0..20_000)
            .map(|i| format!("s{}/m{}/v{i}", i % 7, i % 13))
            .collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut t = tree(&refs);
        let mut scan = FilterScan::new("v19").unwrap();
        // A deadline in the past still makes progress, one chunk per call.
        let mut calls = 0;
        while !scan.advance(&t, Some(Instant::now() - Duration::from_secs(1))) {
            calls += 1;
        }
        assert!(calls > 3);
        assert_eq!(scan.matches(), 1 + 10 + 100 + 1000);
        t.insert(msg("new/v19x"), Instant::now());
        assert!(!scan.is_complete(&t));
        assert!(scan.advance(&t, None));
        assert!(scan.keeps(t.find("new").unwrap()));
        assert!(scan.keeps(t.find("new/v19x").unwrap()));
        assert!(scan.is_for(" V19 "));
    }

    #[test]
    fn builder_resumes_to_the_same_rows() {
        let topics: Vec<String> = (0..30_000)
            .map(|i| format!("a{}/b{}/c{i}", i % 3, i % 10))
            .collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut t = tree(&refs);
        let mut expanded = HashSet::new();
        for a in t.sorted_children(ROOT).to_vec() {
            expanded.insert(a);
            for b in t.node(a).children().to_vec() {
                expanded.insert(b);
            }
        }
        let at_once = t.visible_rows(&expanded, "", true);
        assert_eq!(at_once.len(), 3 + 30 + 30_000);
        let mut builder = RowBuilder::new(&mut t, true);
        let mut calls = 0;
        while !builder.advance(
            &mut t,
            &expanded,
            None,
            Some(Instant::now() - Duration::from_secs(1)),
        ) {
            calls += 1;
        }
        assert!(calls > 5);
        assert_eq!(builder.into_rows(), at_once);
        assert_eq!(t.full_topic(at_once[0].id), "a0");
        assert_eq!(t.full_topic(at_once[1].id), "a0/b0");
        assert_eq!(t.full_topic(at_once[2].id), "a0/b0/c0");
        assert_eq!(t.full_topic(at_once[3].id), "a0/b0/c30");
    }
}
