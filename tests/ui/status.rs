//! The status bar and the notices, on a real mosquitto: what a user watching a demo sees when
//! the broker goes away and when things fail.

use std::time::{Duration, Instant};

use canopy::engine::ConnectionState;
use canopy::ui::action::Action;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;

use super::{app, step_until};
use crate::common::Broker;

/// "Retry now" during a reconnect wait connects at once: with a 60 s back-off the tab would
/// otherwise stay down for a minute after the broker is back.
#[test]
fn retry_now_reconnects_at_once_instead_of_waiting() {
    let mut broker = Broker::start();
    let mut h = app(&broker);
    let mut profile = broker.tcp_profile();
    profile.name = "Slow retries".into();
    profile.reconnect.first_delay_ms = 60_000;
    profile.reconnect.max_delay_ms = 60_000;
    profile.reconnect.max_attempts = 0;
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    broker.kill();
    step_until(&mut h, "a reconnect wait", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| matches!(t.state(), ConnectionState::Reconnecting { .. }))
    });
    broker.restart();
    // Without the button the tab stays down for the whole wait.
    let settle = Instant::now() + Duration::from_secs(1);
    while Instant::now() < settle {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !h.state().active_tab().is_some_and(|t| t.connected()),
        "reconnected without waiting"
    );
    let pressed = Instant::now();
    h.get_by_label("Retry now").click();
    step_until(&mut h, "connected again after Retry now", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    assert!(
        pressed.elapsed() < Duration::from_secs(15),
        "Retry now did not cut the 60 s wait short ({:?})",
        pressed.elapsed()
    );
}

/// Notices float over the panels: a burst of errors must not push the tree (or anything)
/// down, and only the newest three are shown.
#[test]
fn notices_never_move_the_panels() {
    let broker = Broker::start();
    let mut h = app(&broker);
    let mut profile = broker.tcp_profile();
    profile.name = "Steady".into();
    h.state_mut().act(Action::Connect(Box::new(profile)));
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    h.run_steps(3);
    let filter_before = h.get_by_role_and_label(Role::TextInput, "Filter").rect();
    for i in 1..=5 {
        // Distinct texts: a repeated notice is counted, not shown again.
        let missing = broker.dir.path().join(format!("no-such-recording-{i}.jsonl"));
        h.state_mut().act(Action::StartReplay {
            path: Some(missing),
            speed: canopy::model::recording::Speed::Fastest,
        });
        let name = format!("no-such-recording-{i}");
        step_until(&mut h, &format!("error notice {i}"), |h| {
            h.state().notices().iter().any(|n| n.text.contains(&name))
        });
    }
    h.run_steps(3);
    let filter_after = h.get_by_role_and_label(Role::TextInput, "Filter").rect();
    assert_eq!(filter_before, filter_after, "the notices moved the tree");
    let shown: Vec<&str> = h.state().notices().iter().map(|n| n.text.as_str()).collect();
    assert_eq!(shown.len(), 3, "only the newest three are shown: {shown:?}");
    assert!(shown[2].contains("no-such-recording-5"), "{shown:?}");
}
