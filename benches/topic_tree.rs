//! The topic tree on its own: ingest, flattening and filtering at 100,000 topics.

use std::collections::HashSet;
use std::time::Instant;

use canopy::model::topic_tree::TopicTree;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;

const TOPICS: usize = 100_000;

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("topic_tree");
    g.throughput(Throughput::Elements(TOPICS as u64));
    g.sample_size(10);
    g.bench_function("insert 100k new topics", |b| {
        b.iter_batched(
            || common::messages(TOPICS, 0),
            |messages| {
                let mut t = TopicTree::new();
                t.insert_all(messages, Instant::now());
                t
            },
            BatchSize::LargeInput,
        );
    });
    let mut tree = TopicTree::new();
    tree.insert_all(common::messages(TOPICS, 0), Instant::now());
    g.bench_function("update 100k existing topics", |b| {
        b.iter_batched(
            || common::messages(TOPICS, 1),
            |messages| tree.insert_all(messages, Instant::now()),
            BatchSize::LargeInput,
        );
    });
    g.finish();

    let mut g = c.benchmark_group("topic_tree rows");
    g.sample_size(20);
    let expanded: HashSet<u32> = (0..tree.node_count() as u32).collect();
    g.bench_function("flatten 100k topics, all expanded", |b| {
        b.iter(|| tree.visible_rows(&expanded, "", false))
    });
    g.bench_function("filter 100k topics", |b| {
        b.iter(|| tree.visible_rows(&HashSet::new(), "machine42/", false))
    });
    g.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
