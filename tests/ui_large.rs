//! Large payloads in the window: a 5 MB payload, even after "Show more", is drawn row by row
//! (only the visible rows), never as one giant text that froze the window for seconds per
//! press and took gigabytes.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use canopy::model::message::{Message, QoS};
use canopy::ui::CanopyApp;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _, by};

/// The longest text any accessibility node carries: what one widget lays out.
fn longest_text(h: &Harness<'static, CanopyApp>) -> usize {
    h.query_all(by().predicate(|_| true))
        .map(|n| {
            let n = n.accesskit_node();
            n.value()
                .map_or(0, |v| v.len())
                .max(n.label().map_or(0, |l| l.len()))
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_five_megabyte_payload_is_drawn_row_by_row_even_after_show_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = crate::ui::window(dir.path().join("profiles.toml"));
    let line = "0123456789abcdef".repeat(8);
    let text: String = (0..40_000).map(|i| format!("{i:08} {line}\n")).collect();
    assert!(text.len() > 5_000_000);
    h.state_mut().open_offline(
        "large",
        vec![Message {
            topic: "big/blob".into(),
            payload: Bytes::from(text),
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            received: SystemTime::now(),
            properties: Default::default(),
            subscribed: true,
        }],
    );
    h.step();
    {
        let tab = h.state_mut().active_tab_mut().expect("the offline tab");
        let id = tab.tree.find("big/blob").expect("the topic");
        tab.select(id);
    }
    h.step();
    h.step();
    assert!(
        h.query_by_label("Show more").is_some(),
        "a 5 MB payload is shown in part at first"
    );
    for press in 1..=3 {
        let Some(more) = h.query_by_label("Show more") else {
            break;
        };
        more.click();
        let started = Instant::now();
        h.step();
        h.step();
        eprintln!("Show more #{press}: two frames in {:?}", started.elapsed());
        assert!(
            longest_text(&h) < 1_000,
            "after Show more #{press} one widget holds {} bytes of text",
            longest_text(&h)
        );
    }
    assert!(
        h.query_by_label("Show more").is_none(),
        "the whole payload is shown"
    );
    assert!(
        h.query_all_by_label_contains("00039999").next().is_none(),
        "rows far below are not laid out"
    );
}
