//! Interned topic segments: every distinct level name is stored once, in one string arena,
//! with its lower-case form for case-insensitive filtering.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// A segment's id in [`Segments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentId(pub u32);

impl SegmentId {
    /// The empty segment (interned first, so it is always id 0).
    pub const EMPTY: SegmentId = SegmentId(0);
}

/// The segment table.
#[derive(Debug, Clone)]
pub struct Segments {
    text: String,
    /// (start, length) in `text` per id.
    spans: Vec<(u32, u32)>,
    /// Id of the lower-case form per id (itself when already lower case).
    lower: Vec<u32>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl Default for Segments {
    fn default() -> Self {
        Self::new()
    }
}

impl Segments {
    /// A table holding only the empty segment.
    pub fn new() -> Self {
        let mut s = Self {
            text: String::new(),
            spans: Vec::new(),
            lower: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::FixedState::with_seed(0x6361_6e6f_7079),
        };
        s.intern("");
        s
    }

    /// Number of distinct segments.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether only the empty segment is held (never: it is interned at creation).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// A segment's text.
    pub fn get(&self, id: SegmentId) -> &str {
        let (start, len) = self.spans[id.0 as usize];
        &self.text[start as usize..(start + len) as usize]
    }

    /// A segment's lower-case text.
    pub fn lower(&self, id: SegmentId) -> &str {
        self.get(SegmentId(self.lower[id.0 as usize]))
    }

    /// The id of `segment` if it was interned.
    pub fn find(&self, segment: &str) -> Option<SegmentId> {
        let hash = self.hasher.hash_one(segment);
        self.table
            .find(hash, |id| self.get(SegmentId(*id)) == segment)
            .map(|id| SegmentId(*id))
    }

    /// The id of `segment`, interning it if new.
    pub fn intern(&mut self, segment: &str) -> SegmentId {
        if let Some(id) = self.find(segment) {
            return id;
        }
        let id = self.push(segment);
        let lower = if segment.chars().any(char::is_uppercase) {
            let lowered = segment.to_lowercase();
            self.find(&lowered).unwrap_or_else(|| self.push(&lowered)).0
        } else {
            id.0
        };
        self.lower[id.0 as usize] = lower;
        id
    }

    fn push(&mut self, segment: &str) -> SegmentId {
        let id = u32::try_from(self.spans.len()).unwrap_or(u32::MAX);
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(segment);
        self.spans
            .push((start, u32::try_from(segment.len()).unwrap_or(u32::MAX)));
        self.lower.push(id);
        let hash = self.hasher.hash_one(segment);
        let (spans, text, hasher) = (&self.spans, &self.text, &self.hasher);
        self.table.insert_unique(hash, id, |other| {
            let (s, l) = spans[*other as usize];
            hasher.hash_one(&text[s as usize..(s + l) as usize])
        });
        SegmentId(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_lowers() {
        let mut s = Segments::new();
        assert_eq!(s.find(""), Some(SegmentId::EMPTY));
        let a = s.intern("Temp");
        let b = s.intern("temp");
        assert_ne!(a, b);
        assert_eq!(s.intern("Temp"), a);
        assert_eq!(s.get(a), "Temp");
        assert_eq!(s.lower(a), "temp");
        assert_eq!(s.lower(b), "temp");
        assert_eq!(s.len(), 3, "the lower-case form is shared");
        let c = s.intern("ÄÖ");
        assert_eq!(s.lower(c), "äö");
        for i in 0..10_000 {
            s.intern(&format!("seg{i}"));
        }
        assert_eq!(s.get(s.find("seg9999").unwrap()), "seg9999");
    }
}
