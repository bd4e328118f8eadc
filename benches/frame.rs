//! Headless frames of the full window (egui_kittest, no GPU) with 100,000 topics loaded: a
//! subtree expanded and a topic selected, the filter in use, and messages arriving.

use std::time::Duration;

use canopy::ui::{AppConfig, CanopyApp};
use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;

#[path = "common/mod.rs"]
mod common;

const TOPICS: usize = 100_000;

fn app(dir: &std::path::Path) -> Harness<'static, CanopyApp> {
    let config = AppConfig {
        profiles_path: dir.join("profiles.toml"),
        load_system_fonts: false,
        use_keyring: false,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| CanopyApp::new(cc, config));
    h.state_mut().open_offline("bench", common::messages(TOPICS, 0));
    // Apply everything (the app spreads big batches over frames).
    while h.state().active_tab().is_some_and(|t| !t.pending.is_empty()) {
        h.step();
    }
    let tab = h.state_mut().active_tab_mut().expect("tab");
    for path in ["site3", "site3/line2", "site3/line2/machine32"] {
        let id = tab.tree.find(path).expect("path exists");
        tab.view.set_expanded(id, true);
    }
    let selected = tab
        .tree
        .find("site3/line2/machine32")
        .and_then(|m| tab.tree.node(m).children.values().next().copied());
    if let Some(id) = selected {
        tab.select(id);
    }
    h.step();
    h
}

fn frames(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("frame");
    g.sample_size(30).measurement_time(Duration::from_secs(8));

    let mut h = app(dir.path());
    g.bench_function("100k topics, subtree expanded, topic selected", |b| {
        b.iter(|| h.step())
    });

    h.state_mut().active_tab_mut().expect("tab").view.filter = "machine7".into();
    h.step();
    g.bench_function("100k topics, filter `machine7`", |b| b.iter(|| h.step()));

    // Typing into the filter: the rows are recomputed every frame.
    let mut n = 0u32;
    g.bench_function("100k topics, filter changing every frame", |b| {
        b.iter(|| {
            n += 1;
            h.state_mut().active_tab_mut().expect("tab").view.filter = format!("sensor{}", n % 97);
            h.step();
        })
    });
    h.state_mut().active_tab_mut().expect("tab").view.filter.clear();

    // Live traffic: 1,000 updates to existing topics arrive before every frame (60,000 msg/s
    // at 60 frames/s).
    let updates = common::messages(TOPICS, 7);
    let mut chunks = updates.chunks(1000).cycle();
    g.bench_function("100k topics, 1000 messages arriving per frame", |b| {
        b.iter(|| {
            let batch = chunks.next().map(<[_]>::to_vec).unwrap_or_default();
            h.state_mut()
                .active_tab_mut()
                .expect("tab")
                .pending
                .push_back(batch);
            h.step();
        })
    });
    g.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
