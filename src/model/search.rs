//! Searching through payloads: the latest value and the kept history of every topic, for
//! text, a regular expression or a JSON condition (`$.temperature > 80`). Incremental like
//! the topic filter: [`Search::advance`] works until a deadline and resumes where it stopped,
//! so a million topics never stall a frame. `canopy sub --grep/--where` uses the same
//! [`Query`].

use std::time::{Instant, SystemTime};

use regex::bytes::{Regex, RegexBuilder};
use serde_json::Value;

use super::topic_tree::{NodeId, TopicTree};

/// Results kept at most: enough to browse, bounded whatever the tree holds.
pub const MAX_RESULTS: usize = 1_000;

/// Nodes examined between two looks at the clock.
const CHUNK: usize = 256;

/// What to look for in a payload.
#[derive(Debug, Clone)]
pub enum Query {
    /// Text, ignoring case (bytes, so binary payloads are searched too).
    Text(Regex),
    /// A regular expression, written `/…/` (or `/…/i` to ignore case).
    Regex(Regex),
    /// A condition on a JSON payload: `$.a.b[0] > 80`, `$.state == "alarm"`, `$.door`
    /// (present and not false/null).
    Json {
        /// Keys and indices from the root.
        path: Vec<PathStep>,
        /// The comparison; `None`: the value is truthy.
        test: Option<(Op, Value)>,
    },
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Query {
    /// Reads what the user typed: `$…` is a JSON condition, `/…/` a regular expression,
    /// anything else text. `None` for blank input; an error in words for a bad one.
    pub fn parse(input: &str) -> Result<Option<Query>, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(None);
        }
        if input.starts_with('$') {
            return json_query(input).map(Some);
        }
        if let Some(body) = input.strip_prefix('/')
            && let Some((pattern, flags)) = body.rsplit_once('/')
        {
            let regex = RegexBuilder::new(pattern)
                .case_insensitive(flags.contains('i'))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("regular expression: {e}"))?;
            return Ok(Some(Query::Regex(regex)));
        }
        let regex = RegexBuilder::new(&regex::escape(input))
            .case_insensitive(true)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(Query::Text(regex)))
    }

    /// Whether a payload matches.
    pub fn matches(&self, payload: &[u8]) -> bool {
        match self {
            Query::Text(r) | Query::Regex(r) => r.is_match(payload),
            Query::Json { path, test } => {
                let Ok(root) = serde_json::from_slice::<Value>(payload) else {
                    return false;
                };
                let Some(value) = walk(&root, path) else {
                    return false;
                };
                match test {
                    None => !matches!(value, Value::Null | Value::Bool(false)),
                    Some((op, wanted)) => compare(value, *op, wanted),
                }
            }
        }
    }
}

fn json_query(input: &str) -> Result<Query, String> {
    let ops = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    let found = ops
        .iter()
        .filter_map(|(s, op)| input.find(s).map(|i| (i, *s, *op)))
        .min_by_key(|(i, s, _)| (*i, std::cmp::Reverse(s.len())));
    let (path_text, test) = match found {
        Some((i, s, op)) => {
            let raw = input[i + s.len()..].trim();
            if raw.is_empty() {
                return Err(format!("`{input}`: nothing to compare with after `{s}`"));
            }
            // A value as JSON (`80`, `"alarm"`, `true`), or a bare word as a string.
            let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
            (&input[..i], Some((op, value)))
        }
        None => (input, None),
    };
    Ok(Query::Json {
        path: parse_path(path_text.trim())?,
        test,
    })
}

/// `$`, `$.a.b`, `$.list[2].x`, `$["key with spaces"]`.
fn parse_path(text: &str) -> Result<Vec<PathStep>, String> {
    let bad = |why: &str| format!("JSON path `{text}`: {why} (write e.g. $.sensor.temperature or $.list[0])");
    let mut rest = text.strip_prefix('$').ok_or_else(|| bad("must start with $"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad("a key is missing after `.`"));
            }
            steps.push(PathStep::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| bad("`[` is never closed"))?;
            let inner = r[..end].trim();
            if let Ok(i) = inner.parse::<usize>() {
                steps.push(PathStep::Index(i));
            } else if let Ok(Value::String(key)) = serde_json::from_str::<Value>(inner) {
                steps.push(PathStep::Key(key));
            } else {
                return Err(bad("`[…]` takes an index or a quoted key"));
            }
            rest = &r[end + 1..];
        } else {
            return Err(bad("expected `.` or `[`"));
        }
    }
    Ok(steps)
}

fn walk<'a>(mut value: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    for step in path {
        value = match (step, value) {
            (PathStep::Key(k), Value::Object(map)) => map.get(k)?,
            (PathStep::Index(i), Value::Array(list)) => list.get(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

fn compare(value: &Value, op: Op, wanted: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (value, wanted) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => None,
        },
        // A number sent as text ("23.5") still compares as a number.
        (Value::String(a), Value::Number(b)) => match (a.trim().parse::<f64>().ok(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => None,
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) => (a == b).then_some(Ordering::Equal),
    };
    match (op, ordering) {
        (Op::Eq, o) => o == Some(Ordering::Equal),
        (Op::Ne, o) => o != Some(Ordering::Equal),
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        (_, None) => false,
    }
}

/// One payload that matched.
///
/// A live topic keeps receiving after the search passed it, so a position in its history
/// ("the latest") would soon name another message: a hit names the message by how many the
/// topic had received when it matched, and [`Hit::locate`] finds where it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The topic's node.
    pub node: NodeId,
    /// Which message of its history it was when found (0 = the latest).
    pub index: usize,
    /// When it was received.
    pub received: SystemTime,
    /// The topic's message count when it was found.
    seen_at: u64,
}

impl Hit {
    /// Where the matched message is in its topic's history now (0 = still the latest), or
    /// `None` once it has left the kept history.
    pub fn locate(&self, tree: &TopicTree) -> Option<usize> {
        let node = tree.node(self.node);
        let newer = usize::try_from(node.messages().saturating_sub(self.seen_at)).ok()?;
        let index = self.index.checked_add(newer)?;
        (index < node.history_len()).then_some(index)
    }
}

/// A search under way over one tree.
#[derive(Debug)]
pub struct Search {
    query: Query,
    /// The next node to examine (arena order).
    cursor: usize,
    /// Also search the kept history, not only the latest value.
    history: bool,
    hits: Vec<Hit>,
    /// Matches found past [`MAX_RESULTS`] (counted, not kept).
    more: usize,
}

impl Search {
    /// A search for `query` from the first node.
    pub fn new(query: Query, history: bool) -> Self {
        Self {
            query,
            cursor: 0,
            history,
            hits: Vec::new(),
            more: 0,
        }
    }

    /// Examines nodes until `deadline` (`None`: to the end). Returns whether it is complete.
    /// Topics that arrive later are searched when the cursor reaches them (new nodes are
    /// appended to the arena); new messages on topics already passed are not.
    pub fn advance(&mut self, tree: &TopicTree, deadline: Option<Instant>) -> bool {
        let end = tree.node_count();
        while self.cursor < end {
            let stop = (self.cursor + CHUNK).min(end);
            for id in self.cursor..stop {
                let node = tree.node(id as NodeId);
                let depth = if self.history {
                    node.history_len().max(1)
                } else {
                    1
                };
                for index in 0..depth {
                    let Some(m) = node.message(index) else { break };
                    if self.query.matches(&m.payload) {
                        if self.hits.len() < MAX_RESULTS {
                            self.hits.push(Hit {
                                node: id as NodeId,
                                index,
                                received: m.received(),
                                seen_at: node.messages(),
                            });
                        } else {
                            self.more += 1;
                        }
                    }
                }
            }
            self.cursor = stop;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        self.cursor >= end
    }

    /// How far along, 0 to 1.
    pub fn progress(&self, tree: &TopicTree) -> f32 {
        (self.cursor as f32 / tree.node_count().max(1) as f32).min(1.0)
    }

    /// The matches kept so far, in tree order.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// Matches found beyond the ones kept.
    pub fn more(&self) -> usize {
        self.more
    }
}

/// The search window's state, one per connection: the query as typed and the search for it,
/// restarted whenever the text or the history choice changes.
#[derive(Debug, Default)]
pub struct SearchPanel {
    /// What the user typed.
    pub text: String,
    /// Also search the kept history, not only the latest value of each topic.
    pub history: bool,
    /// The search for `text` under way or done, with what it was started for.
    search: Option<(String, bool, Search)>,
    /// Why `text` is not a query.
    error: Option<String>,
}

impl SearchPanel {
    /// Starts a new search when the query changed, then advances it until `deadline`.
    pub fn refresh(&mut self, tree: &TopicTree, deadline: Instant) {
        let stale = self
            .search
            .as_ref()
            .is_none_or(|(text, history, _)| *text != self.text || *history != self.history);
        if stale {
            self.search = None;
            self.error = None;
            match Query::parse(&self.text) {
                Ok(Some(query)) => {
                    self.search = Some((self.text.clone(), self.history, Search::new(query, self.history)));
                }
                Ok(None) => {}
                Err(e) => self.error = Some(e),
            }
        }
        if let Some((_, _, search)) = &mut self.search {
            search.advance(tree, Some(deadline));
        }
    }
}

impl SearchPanel {
    /// Searches again from the start (values change on a live broker; a finished search
    /// does not look at topics it already passed).
    pub fn restart(&mut self) {
        self.search = None;
    }

    /// The search for the current text, if it is a query.
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref().map(|(_, _, s)| s)
    }

    /// Why the current text is not a query.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::Message;

    fn q(text: &str) -> Query {
        Query::parse(text).unwrap().unwrap()
    }

    #[test]
    fn the_three_kinds_of_query() {
        assert!(q("ALARM").matches(b"state: alarm"));
        assert!(!q("alarm").matches(b"state: ok"));
        assert!(q("/temp(erature)?\\s*=\\s*8\\d/").matches(b"temp = 85"));
        assert!(!q("/^ALARM/").matches(b"alarm"));
        assert!(q("/^ALARM/i").matches(b"alarm"));
        assert!(q("$.temperature > 80").matches(br#"{"temperature": 80.5}"#));
        assert!(!q("$.temperature > 80").matches(br#"{"temperature": 80}"#));
        assert!(
            q("$.temperature >= 80").matches(br#"{"temperature": "80"}"#),
            "numbers sent as text"
        );
        assert!(q(r#"$.state == "alarm""#).matches(br#"{"state": "alarm"}"#));
        assert!(
            q("$.state == alarm").matches(br#"{"state": "alarm"}"#),
            "a bare word is a string"
        );
        assert!(q("$.state != idle").matches(br#"{"state": "running"}"#));
        assert!(q("$.m[1].v <= 2").matches(br#"{"m": [{"v": 9}, {"v": 2}]}"#));
        assert!(q(r#"$["a b"] == 1"#).matches(br#"{"a b": 1}"#));
        assert!(q("$.door").matches(br#"{"door": true}"#));
        assert!(!q("$.door").matches(br#"{"door": false}"#));
        assert!(
            !q("$.x > 1").matches(b"not json"),
            "non-JSON payloads never match a condition"
        );
        assert!(
            !q("$.x > 1").matches(br#"{"x": "high"}"#),
            "no order between text and a number"
        );
        assert!(Query::parse("   ").unwrap().is_none());
    }

    #[test]
    fn bad_queries_are_explained() {
        for (input, says) in [
            ("$.a >", "nothing to compare"),
            ("$.", "a key is missing"),
            ("$[x]", "index or a quoted key"),
            ("$.a[1", "never closed"),
            ("/(/", "regular expression"),
        ] {
            let e = Query::parse(input).unwrap_err();
            assert!(e.contains(says), "{input}: {e}");
        }
    }

    #[test]
    fn latest_and_history_over_frames() {
        let mut tree = TopicTree::new();
        for i in 0..50_000 {
            let t = if i % 2 == 0 { 85 } else { 20 };
            tree.insert(
                Message::received_now(format!("s/{i}"), format!(r#"{{"temperature": {t}}}"#)),
                Instant::now(),
            );
        }
        // An older hot value under a now-cool latest one: found only with the history.
        tree.insert(
            Message::received_now("s/1", r#"{"temperature": 99}"#),
            Instant::now(),
        );
        tree.insert(
            Message::received_now("s/1", r#"{"temperature": 10}"#),
            Instant::now(),
        );
        let mut latest = Search::new(q("$.temperature > 80"), false);
        let mut slices = 0;
        while !latest.advance(&tree, Some(Instant::now())) {
            slices += 1;
        }
        assert!(slices > 10, "a big search spreads over frames ({slices})");
        assert_eq!(latest.hits().len() + latest.more(), 25_000);
        assert_eq!(latest.hits().len(), MAX_RESULTS, "results are bounded");
        let mut all = Search::new(q("$.temperature > 90"), true);
        assert!(all.advance(&tree, None));
        let hit = &all.hits()[0];
        assert_eq!((tree.full_topic(hit.node), hit.index), ("s/1".into(), 1));
    }

    /// Seen in the release window on the live demo: a hit for `$.battery_pct < 40` showed
    /// a battery at 77 % because the topic's newer message had taken the hit's place.
    #[test]
    fn a_hit_follows_its_message_as_newer_ones_arrive() {
        let mut tree = TopicTree::with_limits(crate::model::topic_tree::Limits {
            history_per_topic: 3,
            ..Default::default()
        });
        let insert = |tree: &mut TopicTree, v: u32| {
            tree.insert(
                Message::received_now("car/1", format!(r#"{{"battery": {v}}}"#)),
                Instant::now(),
            )
        };
        insert(&mut tree, 30);
        let mut search = Search::new(q("$.battery < 40"), false);
        assert!(search.advance(&tree, None));
        let hit = search.hits()[0].clone();
        assert_eq!(hit.locate(&tree), Some(0));
        insert(&mut tree, 77);
        let now = hit.locate(&tree).unwrap();
        assert_eq!(now, 1, "the matched message moved one down the history");
        let matched = tree.node(hit.node).message(now).unwrap();
        assert_eq!(&matched.payload[..], br#"{"battery": 30}"#);
        for v in [78, 79, 80] {
            insert(&mut tree, v);
        }
        assert_eq!(hit.locate(&tree), None, "evicted from the kept history");
    }
}
