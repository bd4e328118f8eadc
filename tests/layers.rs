//! The layers, kept by a test rather than by convention: `model` ← `engine` ← `profiles` ←
//! (`cli`, `ui`), no egui below the window, and no import cycles among the window's modules
//! (panels depend on `ui::action`, never on the app). Reads the sources: a `use` that breaks
//! a rule fails here with the file that has it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

/// The `crate::NAME` roots a text refers to (in code and docs alike: a doc link up a layer is
/// a dependency too).
fn crate_refs(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn lower_layers_never_reach_up() {
    let rules: [(&str, &[&str]); 3] = [
        (
            "model",
            &["engine", "profiles", "ui", "cli", "replay", "demo", "sandbox"],
        ),
        ("engine", &["profiles", "ui", "cli", "replay", "demo", "sandbox"]),
        ("profiles", &["ui", "cli", "replay", "demo", "sandbox"]),
    ];
    let mut broken = Vec::new();
    for (layer, forbidden) in rules {
        for (path, text) in sources(&src(layer)) {
            for name in crate_refs(&text, "crate::") {
                if forbidden.contains(&name.as_str()) {
                    broken.push(format!("{} uses crate::{name}", path.display()));
                }
            }
            if text.contains("egui") {
                broken.push(format!("{} mentions egui", path.display()));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn window_modules_form_no_cycle_and_actions_import_no_panel() {
    // Module = first path component under src/ui (a file or a directory of files).
    let ui = src("ui");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources(&ui) {
        let rel = path.strip_prefix(&ui).unwrap();
        let module = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "mod" {
            continue;
        }
        let mut deps = crate_refs(&text, "crate::ui::");
        // `super::x` in a top-level file of ui/ names a sibling module.
        if rel.components().count() == 1 {
            deps.extend(crate_refs(&text, "super::"));
            for group in text.split("use super::{").skip(1) {
                let inner = group.split('}').next().unwrap_or("");
                deps.extend(
                    inner
                        .split(',')
                        .map(|s| s.trim().split("::").next().unwrap_or("").to_owned()),
                );
            }
        }
        graph
            .entry(module.clone())
            .or_default()
            .extend(deps.into_iter().filter(|d| *d != module));
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    assert!(
        // Leaves that import no panel either: notice ids, and the language a setting names.
        graph["action"].iter().all(|d| d == "notices" || d == "i18n"),
        "ui::action imports {:?}",
        graph["action"]
    );
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            return Some(format!("{} -> {m}", path[i..].join(" -> ")));
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for d in &graph[m] {
            if let Some(cycle) = visit(d, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        let cycle = visit(m, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle among ui modules: {}",
            cycle.unwrap()
        );
    }
}
