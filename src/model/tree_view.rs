//! What the tree panel shows of a topic tree — expansion, selection, filter, the flattened
//! rows built over several frames — and the message-rate meter. Pure state and policy: no
//! drawing, so it is tested here without a window.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::rows::{FilterScan, RowBuilder};
use super::topic_tree::{NodeId, Row, TopicTree};

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
#[derive(Debug)]
pub struct TreeView {
    /// Expanded nodes.
    pub expanded: HashSet<NodeId>,
    /// The selected node.
    pub selected: Option<NodeId>,
    /// Filter text.
    pub filter: String,
    /// List `$SYS/…` (and other top-level `$` topics).
    pub show_sys: bool,
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
    show_sys: bool,
}

impl RowsKey {
    fn same_view(&self, other: &RowsKey) -> bool {
        self.expansion == other.expansion && self.filter == other.filter && self.show_sys == other.show_sys
    }
}

impl Default for TreeView {
    fn default() -> Self {
        Self {
            expanded: HashSet::new(),
            selected: None,
            filter: String::new(),
            show_sys: true,
            rows: Vec::new(),
            expansion_version: 0,
            scroll_to_selected: false,
            scan: None,
            building: None,
            built: None,
        }
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
            show_sys: self.show_sys,
        };
        // A change of view restarts the build; a change of shape lets it finish first (or it
        // might never finish while topics keep arriving).
        if self.building.as_ref().is_some_and(|(k, _)| !k.same_view(&key)) {
            self.building = None;
        }
        if self.building.is_none() && self.built.as_ref() != Some(&key) {
            let builder = RowBuilder::new(tree, self.show_sys);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::Message;

    fn tree(topics: &[&str]) -> TopicTree {
        let mut tree = TopicTree::new();
        for t in topics {
            tree.insert(Message::received_now(*t, "1"), Instant::now());
        }
        tree
    }

    fn names(view: &TreeView, tree: &TopicTree) -> Vec<String> {
        view.rows.iter().map(|r| tree.full_topic(r.id)).collect()
    }

    #[test]
    fn rows_follow_expansion_filter_and_sys() {
        let mut tree = tree(&[
            "plant/line2/temp",
            "plant/line10/temp",
            "home/door",
            "$SYS/uptime",
        ]);
        let mut view = TreeView::default();
        view.refresh(&mut tree, None);
        assert_eq!(names(&view, &tree), ["$SYS", "home", "plant"]);
        let plant = tree.find("plant").unwrap();
        view.set_expanded(plant, true);
        view.refresh(&mut tree, None);
        assert_eq!(
            names(&view, &tree),
            ["$SYS", "home", "plant", "plant/line2", "plant/line10"],
            "natural order: line2 before line10"
        );
        view.show_sys = false;
        view.refresh(&mut tree, None);
        assert!(!names(&view, &tree).contains(&"$SYS".to_owned()));
        view.filter = "door".into();
        assert!(view.filtering());
        view.refresh(&mut tree, None);
        assert_eq!(
            names(&view, &tree),
            ["home", "home/door"],
            "a match shows with its ancestors"
        );
    }

    #[test]
    fn a_big_rebuild_spreads_over_frames_and_keeps_the_old_rows_meanwhile() {
        let topics: Vec<String> = (0..200_000).map(|i| format!("a/{}/{i}", i % 100)).collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut tree = tree(&refs);
        let mut view = TreeView::default();
        view.refresh(&mut tree, None);
        let before = view.rows.clone();
        view.filter = "199999".into();
        // A deadline already passed: one slice of work, the old rows stay on screen.
        view.refresh(&mut tree, Some(Instant::now()));
        assert!(view.pending(&tree).is_some_and(|p| (0.0..1.0).contains(&p)));
        assert!(view.stale(), "the rows on screen are not the filtered ones yet");
        assert_eq!(view.rows, before);
        let mut frames = 1;
        while view.pending(&tree).is_some() || view.stale() {
            view.refresh(&mut tree, Some(Instant::now() + Duration::from_millis(4)));
            frames += 1;
            assert!(frames < 10_000, "the rebuild never finished");
        }
        assert_eq!(names(&view, &tree), ["a", "a/99", "a/99/199999"]);
    }

    #[test]
    fn an_unchanged_view_is_not_rebuilt() {
        let mut tree = tree(&["x/1", "x/2"]);
        let mut view = TreeView::default();
        view.refresh(&mut tree, None);
        view.set_expanded(tree.find("x").unwrap(), true);
        view.set_expanded(tree.find("x").unwrap(), true);
        view.refresh(&mut tree, None);
        assert!(!view.stale() && view.pending(&tree).is_none());
        assert_eq!(view.rows.len(), 3);
    }

    #[test]
    fn the_rate_is_over_the_last_two_seconds() {
        let start = Instant::now();
        let mut meter = RateMeter::default();
        meter.add(start, 100);
        meter.add(start + Duration::from_millis(1500), 60);
        assert_eq!(meter.rate(start + Duration::from_millis(1900)), 80.0);
        assert_eq!(
            meter.rate(start + Duration::from_millis(2600)),
            30.0,
            "the first sample aged out"
        );
        assert_eq!(meter.rate(start + Duration::from_secs(10)), 0.0);
    }
}
