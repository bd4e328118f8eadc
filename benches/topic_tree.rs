//! The topic tree on its own: ingest, flattening and filtering at 100,000 and 1,000,000 topics.

// Tests and benches stop loudly where they fail (Cargo.toml's [lints] denies unwrap elsewhere).
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Instant;

use canopy::model::rows::FilterScan;
use canopy::model::topic_tree::TopicTree;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;

fn ingest(c: &mut Criterion) {
    let sizes: &[u64] = if common::benchmarking() {
        &[100_000, 1_000_000]
    } else {
        &[10_000]
    };
    for &topics in sizes {
        let label = if topics >= 1_000_000 {
            format!("{}M", topics / 1_000_000)
        } else {
            format!("{}k", topics / 1000)
        };
        let mut g = c.benchmark_group(format!("topic_tree {label}"));
        g.throughput(Throughput::Elements(topics));
        g.sample_size(10);
        g.bench_function("insert new topics", |b| {
            b.iter_batched(
                || common::messages(topics, 0, topics),
                |messages| {
                    let mut t = TopicTree::new();
                    t.insert_all(messages, Instant::now());
                    t
                },
                BatchSize::PerIteration,
            );
        });
        let mut tree = TopicTree::new();
        tree.insert_all(common::messages(topics, 0, topics), Instant::now());
        let mut round = 1;
        g.bench_function("update existing topics (history grows)", |b| {
            b.iter_batched(
                || {
                    round += 1;
                    common::messages(topics, round * topics, topics)
                },
                |messages| tree.insert_all(messages, Instant::now()),
                BatchSize::PerIteration,
            );
        });
        g.bench_function("filter scan `machine42/t` over all nodes", |b| {
            b.iter(|| {
                let mut scan = FilterScan::new("machine42/t").expect("filter");
                scan.advance(&tree, None);
                scan.matches()
            })
        });
        let expanded: HashSet<u32> = (0..tree.node_count() as u32).collect();
        g.bench_function("flatten, everything expanded", |b| {
            b.iter(|| tree.visible_rows(&expanded, "", true).len())
        });
        g.finish();
    }
}

criterion_group!(benches, ingest);
criterion_main!(benches);
