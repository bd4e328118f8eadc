//! Three-way merge of profile lists, for two windows editing the same file.

use super::profile::{Profile, random_profile_id};

/// The result of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged profiles.
    pub profiles: Vec<Profile>,
    /// Profiles both sides changed differently (ours kept, theirs added as a copy).
    pub conflicts: Vec<String>,
    /// Profiles changed, added or removed by the other side and taken over.
    pub taken: usize,
}

fn find<'a>(list: &'a [Profile], id: &str) -> Option<&'a Profile> {
    list.iter().find(|p| p.id == id)
}

/// Merges `ours` and `theirs`, both derived from `base`, by profile id. Nothing either side
/// changed is lost: when both changed one profile differently, ours is kept and theirs is
/// added as "NAME (other window)"; an edit wins over a deletion.
pub fn merge(base: &[Profile], ours: &[Profile], theirs: &[Profile]) -> Merged {
    let mut ids: Vec<&str> = theirs.iter().map(|p| p.id.as_str()).collect();
    for p in ours {
        if !ids.contains(&p.id.as_str()) {
            ids.push(&p.id);
        }
    }
    let mut out = Merged {
        profiles: Vec::new(),
        conflicts: Vec::new(),
        taken: 0,
    };
    for id in ids {
        let (b, o, t) = (find(base, id), find(ours, id), find(theirs, id));
        if o == b {
            if t != b {
                out.taken += 1;
            }
            out.profiles.extend(t.cloned());
        } else if t == b || o == t {
            out.profiles.extend(o.cloned());
        } else {
            match (o, t) {
                (Some(o), Some(t)) => {
                    out.profiles.push(o.clone());
                    let mut copy = t.clone();
                    copy.id = random_profile_id();
                    copy.name = format!("{} (other window)", t.name);
                    out.conflicts.push(o.name.clone());
                    out.profiles.push(copy);
                }
                (Some(p), None) | (None, Some(p)) => {
                    // Edited on one side, deleted on the other: keep the edit.
                    out.profiles.push(p.clone());
                    out.conflicts.push(p.name.clone());
                }
                (None, None) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, name: &str, port: u16) -> Profile {
        Profile {
            id: id.into(),
            name: name.into(),
            client_id: format!("client-{id}"),
            port,
            ..Profile::default()
        }
    }

    #[test]
    fn independent_changes_are_combined() {
        let base = vec![p("a", "A", 1), p("b", "B", 1)];
        let ours = vec![p("a", "A", 2), p("b", "B", 1), p("c", "C", 1)];
        let theirs = vec![p("a", "A", 1), p("b", "B", 3), p("d", "D", 1)];
        let m = merge(&base, &ours, &theirs);
        let got: Vec<(String, u16)> = m.profiles.iter().map(|p| (p.id.to_string(), p.port)).collect();
        assert_eq!(
            got,
            vec![("a".into(), 2), ("b".into(), 3), ("d".into(), 1), ("c".into(), 1)]
        );
        assert!(m.conflicts.is_empty());
        assert_eq!(m.taken, 2);
    }

    #[test]
    fn deletions_and_conflicts() {
        let base = vec![p("a", "A", 1), p("b", "B", 1), p("c", "C", 1)];
        // We delete a, edit b; they edit a, edit b differently, delete c.
        let ours = vec![p("b", "B", 2), p("c", "C", 1)];
        let theirs = vec![p("a", "A", 5), p("b", "B", 3)];
        let m = merge(&base, &ours, &theirs);
        let names: Vec<&str> = m.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["A", "B", "B (other window)"]);
        assert_eq!(m.conflicts.len(), 2);
    }
}
