//! Headless frames of the full window (egui_kittest, no GPU) with 1,000,000 topics loaded: a
//! subtree expanded and a topic selected, the filter in use, the filter being typed into, and
//! messages arriving. Criterion reports the mean frame; a second pass then runs each scenario
//! frame by frame and prints the median, the 99th percentile and the worst frame.
//!
//! `cargo test` runs this once with 20,000 topics as a smoke test.

// Tests and benches stop loudly where they fail (Cargo.toml's [lints] denies unwrap elsewhere).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use canopy::ui::{AppConfig, CanopyApp};
use criterion::Criterion;
use egui_kittest::Harness;

#[path = "common/mod.rs"]
mod common;

fn topics() -> u64 {
    if common::benchmarking() { 1_000_000 } else { 20_000 }
}

fn app(dir: &std::path::Path, topics: u64) -> Harness<'static, CanopyApp> {
    let config = AppConfig {
        profiles_path: dir.join("profiles.toml"),
        load_system_fonts: false,
        use_keyring: false,
        language: Some(canopy::ui::i18n::Language::English),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| CanopyApp::new(cc, config).unwrap());
    h.state_mut().open_offline("bench", Vec::new());
    let tab = h.state_mut().active_tab_mut().expect("tab");
    let chunk = 100_000;
    for first in (0..topics).step_by(chunk as usize) {
        let batch = common::messages(topics, first, chunk.min(topics - first));
        tab.tree.insert_all(batch, Instant::now());
    }
    for path in [
        "bench",
        "bench/site000",
        "bench/site000/line2",
        "bench/site000/line2/machine32",
    ] {
        let id = tab.tree.find(path).expect("path exists");
        tab.view.set_expanded(id, true);
    }
    let selected = tab.tree.find("bench/site000/line2/machine32/pressure");
    if let Some(id) = selected {
        tab.select(id);
    }
    settle(&mut h);
    h
}

/// Steps until the tree view has finished any work spread over frames.
fn settle(h: &mut Harness<'static, CanopyApp>) {
    for _ in 0..10_000 {
        h.step();
        let app = h.state();
        let tab = app.active_tab().expect("tab");
        if tab.view.pending(&tab.tree).is_none() && !tab.has_backlog() {
            return;
        }
    }
}

fn set_filter(h: &mut Harness<'static, CanopyApp>, filter: &str) {
    h.state_mut().active_tab_mut().expect("tab").view.filter = filter.to_owned();
}

/// The filter being typed, one key per frame, then cleared: faster than any person types.
const TYPED: &str = "machine07/temp";

struct Typing(usize);

impl Typing {
    fn next(&mut self) -> &'static str {
        self.0 = (self.0 + 1) % (TYPED.len() + 1);
        &TYPED[..self.0]
    }
}

/// Live traffic: `per_frame` messages on existing topics before every frame.
struct Live {
    topics: u64,
    next: u64,
    per_frame: u64,
}

impl Live {
    fn push(&mut self, h: &mut Harness<'static, CanopyApp>) {
        let batch = common::messages(self.topics, self.next, self.per_frame);
        self.next += self.per_frame;
        h.state_mut().active_tab_mut().expect("tab").queue(batch);
    }
}

/// What happens before each measured frame.
enum Scenario {
    /// Nothing: a subtree expanded and a topic selected.
    Idle,
    /// The filter `machine07/temp` in use.
    Filtered,
    /// The filter typed into, one key per frame.
    Typing(Typing),
    /// The filter in use and 1000 messages on existing topics arriving per frame.
    Live(Live),
}

impl Scenario {
    fn all(topics: u64) -> Vec<(String, Scenario)> {
        let label = format!("{}k topics", topics / 1000);
        vec![
            (
                format!("{label}, subtree expanded, topic selected"),
                Scenario::Idle,
            ),
            (
                format!("{label}, filter `machine07/temp` in use"),
                Scenario::Filtered,
            ),
            (
                format!("{label}, filter typed into (one key per frame)"),
                Scenario::Typing(Typing(0)),
            ),
            (
                format!("{label}, filter in use, 1000 messages arriving per frame"),
                Scenario::Live(Live {
                    topics,
                    next: topics,
                    per_frame: 1000,
                }),
            ),
        ]
    }

    fn prepare(&self, h: &mut Harness<'static, CanopyApp>) {
        let filter = if matches!(self, Scenario::Idle) {
            ""
        } else {
            "machine07/temp"
        };
        set_filter(h, filter);
        settle(h);
    }

    /// Runs one frame; returns the time `step` took.
    fn frame(&mut self, h: &mut Harness<'static, CanopyApp>) -> Duration {
        match self {
            Scenario::Idle | Scenario::Filtered => {}
            Scenario::Typing(typing) => set_filter(h, typing.next()),
            Scenario::Live(live) => live.push(h),
        }
        let t = Instant::now();
        h.step();
        t.elapsed()
    }
}

fn criterion_frames(c: &mut Criterion, h: &mut Harness<'static, CanopyApp>, topics: u64) {
    let mut g = c.benchmark_group("frame");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    for (name, mut scenario) in Scenario::all(topics) {
        scenario.prepare(h);
        g.bench_function(name, |b| b.iter(|| scenario.frame(h)));
    }
    g.finish();
}

/// Runs `frames` frames and prints the median, 99th percentile and worst frame time.
fn percentiles(name: &str, frames: usize, mut frame: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..frames).map(|_| frame()).collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<66} p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms   ({frames} frames)",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    );
    at(0.99)
}

fn percentile_pass(h: &mut Harness<'static, CanopyApp>, topics: u64, frames: usize) {
    println!("\nFrame times, frame by frame:");
    for (name, mut scenario) in Scenario::all(topics) {
        scenario.prepare(h);
        percentiles(&name, frames, || scenario.frame(h));
    }
}

/// 50,000 msg/s over 10,000 topics for 60 s of frames at 60 frames/s (834 messages per frame),
/// counting that every message reaches the tree.
fn live_pass(dir: &std::path::Path, seconds: u64) {
    let topics = 10_000;
    let mut h = app(dir, topics);
    let before = h.state().active_tab().expect("tab").tree.total_messages();
    let mut live = Live {
        topics,
        next: topics,
        per_frame: 834,
    };
    let frames = (seconds * 60) as usize;
    percentiles(
        &format!("10k topics, 50,000 msg/s live (834 per frame), {seconds} s"),
        frames,
        || {
            live.push(&mut h);
            let t = Instant::now();
            h.step();
            t.elapsed()
        },
    );
    settle(&mut h);
    let tree = &h.state().active_tab().expect("tab").tree;
    let arrived = tree.total_messages() - before;
    let sent = live.next - topics;
    println!(
        "  {sent} messages sent, {arrived} in the tree ({}), history {:.1} MiB",
        if arrived == sent {
            "none lost"
        } else {
            "MESSAGES LOST"
        },
        tree.history_bytes() as f64 / 1048576.0
    );
    assert_eq!(arrived, sent, "every message reaches the tree");
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let dir = tempfile::tempdir().expect("tempdir");
    let topics = topics();
    let t = Instant::now();
    let mut h = app(dir.path(), topics);
    println!(
        "loaded {topics} topics into the window in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    criterion_frames(&mut c, &mut h, topics);
    c.final_summary();
    let bench = common::benchmarking();
    percentile_pass(&mut h, topics, if bench { 600 } else { 20 });
    drop(h);
    live_pass(dir.path(), if bench { 60 } else { 1 });
}
