//! Redaction: topic levels and JSON fields hidden behind `•••` wherever the window shows them
//! while a demonstration runs (a customer's site name, a serial number on a projector).
//!
//! Rules are saved per profile ([`Rule`]); a [`Redactor`] is what they compile to, asked by
//! every place that shows a topic or a payload. Why over-redact rather than under: a level is
//! hidden from the levels before it only (what follows does not count), so the tree can hide
//! a level it shows before it knows the topics below it, and shows it the same way the topic
//! string, the tiles and the copies do.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// What replaces a hidden level or value.
pub const MASK: &str = "•••";

/// One thing to hide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Level `n` (1 is the first) of every topic.
    Level(u16),
    /// A topic filter whose `+` levels are hidden: `site/+/customer/+` hides the site of
    /// every `site/…` topic and the customer below `site/…/customer`.
    Topic(String),
    /// The value of a JSON field, by name at any depth (`serial`) or by the end of its path
    /// (`customer.name`: a `name` inside a `customer`). A topic whose last level is the field's
    /// name (`…/serial`) has its whole payload hidden.
    Field(String),
}

impl Rule {
    /// Reads a rule as typed: `level 2` (or `segment 2`), a topic filter (anything with `/`,
    /// `+` or `#`), else a JSON field path.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Type a topic filter, \"level N\" or a JSON field.".into());
        }
        let lower = text.to_ascii_lowercase();
        for word in ["level", "segment"] {
            if let Some(n) = lower.strip_prefix(word) {
                return match n.trim().parse::<u16>() {
                    Ok(n) if n >= 1 => Ok(Rule::Level(n)),
                    _ => Err(format!(
                        "\"{text}\": a level is a number from 1, as in \"level 2\"."
                    )),
                };
            }
        }
        if text.contains(['/', '+', '#']) {
            let levels: Vec<&str> = text.split('/').collect();
            let bad_hash = levels
                .iter()
                .enumerate()
                .any(|(i, l)| l.contains('#') && (*l != "#" || i + 1 != levels.len()));
            if bad_hash || levels.iter().any(|l| l.contains('+') && *l != "+") {
                return Err(format!(
                    "\"{text}\" is not a topic filter: + and # stand alone between slashes, # only last."
                ));
            }
            if !levels.contains(&"+") {
                return Err(format!(
                    "\"{text}\" hides nothing: put a + where the level to hide is (site/+/#)."
                ));
            }
            return Ok(Rule::Topic(text.to_owned()));
        }
        if text.split('.').any(str::is_empty) {
            return Err(format!(
                "\"{text}\": a field path is names joined by dots (customer.name)."
            ));
        }
        Ok(Rule::Field(text.to_owned()))
    }

    /// The rule as the user would type it (what [`Rule::parse`] reads back).
    pub fn text(&self) -> String {
        match self {
            Rule::Level(n) => format!("level {n}"),
            Rule::Topic(t) | Rule::Field(t) => t.clone(),
        }
    }
}

/// A level of a [`Rule::Topic`] filter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Literal(String),
    Hidden,
    Rest,
}

/// Compiled rules: what every view asks before it shows a topic or a payload. The default
/// hides nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    levels: Vec<usize>,
    filters: Vec<Vec<Level>>,
    /// Field paths, each a list of keys (the last one is the field itself).
    fields: Vec<Vec<String>>,
}

impl Redactor {
    /// Compiles `rules`.
    pub fn new(rules: &[Rule]) -> Self {
        let mut out = Self::default();
        for rule in rules {
            match rule {
                Rule::Level(n) => out.levels.push(usize::from(*n)),
                Rule::Topic(filter) => out.filters.push(
                    filter
                        .split('/')
                        .map(|l| match l {
                            "+" => Level::Hidden,
                            "#" => Level::Rest,
                            l => Level::Literal(l.to_owned()),
                        })
                        .collect(),
                ),
                Rule::Field(path) => out.fields.push(path.split('.').map(str::to_owned).collect()),
            }
        }
        out
    }

    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty() && self.filters.is_empty() && self.fields.is_empty()
    }

    /// Whether any rule hides topic levels (else topics need no look).
    pub fn hides_levels(&self) -> bool {
        !self.levels.is_empty() || !self.filters.is_empty()
    }

    /// Whether the last of `path` (a topic's levels from the first down to the one asked
    /// about) is hidden.
    pub fn hides_level(&self, path: &[&str]) -> bool {
        let depth = path.len();
        if depth == 0 {
            return false;
        }
        self.levels.contains(&depth) || self.filters.iter().any(|f| filter_hides(f, path))
    }

    /// A topic with its hidden levels replaced by [`MASK`].
    pub fn topic<'a>(&self, topic: &'a str) -> Cow<'a, str> {
        if !self.hides_levels() {
            return Cow::Borrowed(topic);
        }
        let levels: Vec<&str> = topic.split('/').collect();
        let hidden: Vec<bool> = (1..=levels.len())
            .map(|k| self.hides_level(&levels[..k]))
            .collect();
        if !hidden.contains(&true) {
            return Cow::Borrowed(topic);
        }
        let shown: Vec<&str> = levels
            .iter()
            .zip(&hidden)
            .map(|(l, h)| if *h { MASK } else { l })
            .collect();
        Cow::Owned(shown.join("/"))
    }

    /// A payload with the hidden fields' values replaced by `"•••"` (compact JSON then), or
    /// all of it by `•••` when the topic's last level is a hidden field's name. Payloads that
    /// are not JSON, or hold no hidden field, come back as they are.
    pub fn payload<'a>(&self, topic: &str, payload: &'a [u8]) -> Cow<'a, [u8]> {
        if self.fields.is_empty() {
            return Cow::Borrowed(payload);
        }
        let last = topic.rsplit('/').next().unwrap_or(topic);
        if self.fields.iter().any(|f| f.len() == 1 && f[0] == last) {
            return Cow::Owned(MASK.as_bytes().to_vec());
        }
        // Cheap test first: most payloads name none of the fields.
        let named = self.fields.iter().any(|f| {
            f.last()
                .is_some_and(|k| memchr::memmem::find(payload, k.as_bytes()).is_some())
        });
        if !named {
            return Cow::Borrowed(payload);
        }
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(payload) else {
            return Cow::Borrowed(payload);
        };
        if !self.json(&mut value) {
            return Cow::Borrowed(payload);
        }
        serde_json::to_vec(&value).map_or(Cow::Borrowed(payload), Cow::Owned)
    }

    /// Replaces the hidden fields of a JSON value in place; returns whether any was.
    pub fn json(&self, value: &mut serde_json::Value) -> bool {
        if self.fields.is_empty() {
            return false;
        }
        let mut keys = Vec::new();
        self.walk(value, &mut keys)
    }

    /// Whether the field at the end of `keys` (object keys from the top, array indices left
    /// out) is hidden.
    pub fn hides_field(&self, keys: &[&str]) -> bool {
        self.fields
            .iter()
            .any(|f| f.len() <= keys.len() && f.iter().rev().zip(keys.iter().rev()).all(|(a, b)| a == b))
    }

    fn walk(&self, value: &mut serde_json::Value, keys: &mut Vec<String>) -> bool {
        let mut changed = false;
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    keys.push(k.clone());
                    let path: Vec<&str> = keys.iter().map(String::as_str).collect();
                    if self.hides_field(&path) {
                        *v = serde_json::Value::String(MASK.to_owned());
                        changed = true;
                    } else {
                        changed |= self.walk(v, keys);
                    }
                    keys.pop();
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    changed |= self.walk(v, keys);
                }
            }
            _ => {}
        }
        changed
    }
}

/// Whether `filter` hides the last level of `path`: the levels before it match and the
/// filter has `+` at its place.
fn filter_hides(filter: &[Level], path: &[&str]) -> bool {
    let last = path.len() - 1;
    for (i, level) in path.iter().enumerate() {
        match filter.get(i) {
            None | Some(Level::Rest) => return false,
            Some(Level::Hidden) if i == last => return true,
            Some(Level::Hidden) => {}
            Some(Level::Literal(l)) if l == level && i < last => {}
            Some(Level::Literal(_)) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(rules: &[&str]) -> Redactor {
        let rules: Vec<Rule> = rules.iter().map(|r| Rule::parse(r).unwrap()).collect();
        Redactor::new(&rules)
    }

    #[test]
    fn rules_are_read_as_typed_and_written_back() {
        assert_eq!(Rule::parse(" level 2 "), Ok(Rule::Level(2)));
        assert_eq!(Rule::parse("Segment 3"), Ok(Rule::Level(3)));
        assert_eq!(
            Rule::parse("site/+/customer/#"),
            Ok(Rule::Topic("site/+/customer/#".into()))
        );
        assert_eq!(
            Rule::parse("customer.name"),
            Ok(Rule::Field("customer.name".into()))
        );
        assert_eq!(Rule::parse("serial"), Ok(Rule::Field("serial".into())));
        for bad in [
            "",
            "level 0",
            "level x",
            "site/a+/#",
            "site/#/x",
            "site/x",
            "a..b",
            ".a",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad:?} accepted");
        }
        for rule in [
            Rule::Level(2),
            Rule::Topic("a/+".into()),
            Rule::Field("a.b".into()),
        ] {
            assert_eq!(Rule::parse(&rule.text()), Ok(rule));
        }
    }

    #[test]
    fn topic_levels_are_hidden_by_level_and_by_filter() {
        let r = redactor(&["site/+/customer/+/#", "level 1"]);
        assert_eq!(
            r.topic("site/berlin/customer/acme/temp"),
            "•••/•••/customer/•••/temp"
        );
        let r = redactor(&["site/+/customer/+/#"]);
        assert_eq!(
            r.topic("site/berlin/customer/acme/temp"),
            "site/•••/customer/•••/temp"
        );
        // Hidden from the levels before it only: the same in the tree as in the topic.
        assert_eq!(r.topic("site/berlin/other/acme"), "site/•••/other/acme");
        assert_eq!(r.topic("site/berlin"), "site/•••");
        assert!(r.hides_level(&["site", "berlin"]));
        assert!(!r.hides_level(&["site"]));
        assert_eq!(r.topic("home/kitchen/temp"), "home/kitchen/temp");
        assert!(matches!(r.topic("home/kitchen/temp"), Cow::Borrowed(_)));
        assert!(!r.hides_level(&[]));
        let r = redactor(&["level 2"]);
        assert_eq!(r.topic("a/b/c"), "a/•••/c");
        assert_eq!(r.topic("a"), "a");
        assert!(Redactor::default().is_empty());
    }

    #[test]
    fn json_fields_are_hidden_anywhere_and_by_path() {
        let r = redactor(&["serial", "customer.name"]);
        let out = r.payload(
            "t",
            br#"{"serial":"SN-1","customer":{"name":"ACME","id":7},"name":"x","list":[{"serial":2}]}"#,
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"serial":"•••","customer":{"name":"•••","id":7},"name":"x","list":[{"serial":"•••"}]}"#
        );
        // Untouched payloads are not copied.
        assert!(matches!(r.payload("t", br#"{"value":1}"#), Cow::Borrowed(_)));
        assert!(matches!(r.payload("t", b"serial but not JSON"), Cow::Borrowed(_)));
        assert!(matches!(
            r.payload("t", br#"{"other":{"serial_no":1}}"#),
            Cow::Borrowed(_)
        ));
        // A topic named after a field: the whole payload.
        assert_eq!(&r.payload("dev/1/serial", b"SN-1")[..], "•••".as_bytes());
        assert!(r.hides_field(&["a", "customer", "name"]));
        assert!(!r.hides_field(&["name"]));
    }

    #[test]
    fn nothing_to_hide_costs_nothing() {
        let r = Redactor::default();
        assert!(matches!(r.topic("a/b"), Cow::Borrowed(_)));
        assert!(matches!(r.payload("a/serial", b"x"), Cow::Borrowed(_)));
        assert!(!r.json(&mut serde_json::json!({"serial": 1})));
    }
}
