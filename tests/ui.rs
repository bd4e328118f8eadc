//! The real app driven through egui_kittest against a real mosquitto.

use std::time::{Duration, Instant};

use bytes::Bytes;
use canopy::engine::{Command, ConnectionId, ConnectionState, Token};
use canopy::model::message::{OutgoingMessage, Properties, QoS};
use canopy::profiles::profile::Subscription;
use canopy::ui::{AppConfig, CanopyApp};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use crate::common::{Broker, Client};

mod i18n;
mod issue14;
mod layout;
mod present;
mod proto;
mod regression;
mod report_card;
mod search;
mod status;
mod templates;
mod timeline;

fn app(broker: &Broker) -> Harness<'static, CanopyApp> {
    window(broker.dir.path().join("ui-profiles.toml"))
}

/// The whole app in a 1500×950 window, with its profiles in `profiles_path`, no system fonts,
/// no keyring (tests must not touch the user's) and in English (whatever the machine's locale).
pub fn window(profiles_path: std::path::PathBuf) -> Harness<'static, CanopyApp> {
    window_sized(profiles_path, egui::vec2(1500.0, 950.0))
}

/// [`window`] at another size (the app opens at 1440×900).
pub fn window_sized(profiles_path: std::path::PathBuf, size: egui::Vec2) -> Harness<'static, CanopyApp> {
    let config = AppConfig {
        profiles_path,
        load_system_fonts: false,
        use_keyring: false,
        language: Some(canopy::ui::i18n::Language::English),
    };
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| CanopyApp::new(cc, config).unwrap())
}

/// Steps the app until `what` holds; fails naming what it waited for.
fn step_until(
    h: &mut Harness<'static, CanopyApp>,
    description: &str,
    what: impl Fn(&Harness<'static, CanopyApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if what(h) {
            return;
        }
        if Instant::now() > deadline {
            let states: Vec<String> = h
                .state()
                .tabs()
                .iter()
                .map(|t| format!("{:?}", t.state()))
                .collect();
            panic!(
                "timed out waiting for {description}; tabs: {states:?}; notices: {:?}",
                h.state().notices()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn has_label_containing(h: &Harness<'static, CanopyApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

fn publish_retained(broker: &Broker, topic: &str, payload: impl AsRef<[u8]>) {
    let mut c = Client::new();
    c.connect(9, broker.tcp_profile());
    c.wait_connected(9);
    c.send(Command::Publish {
        id: ConnectionId(9),
        token: Token(1),
        message: Box::new(OutgoingMessage {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_ref()),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::default(),
        }),
    });
    c.wait_outcome(9, 1);
}

/// Creates a profile through the editor and connects with it.
fn create_and_connect(h: &mut Harness<'static, CanopyApp>, broker: &Broker, name: &str) {
    h.get_by_label("➕ New").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Name")
        .set_text_value_accesskit(name);
    h.step();
    h.get_by_role_and_label(Role::TextInput, "URL")
        .set_text_value_accesskit(&format!("mqtt://127.0.0.1:{}", broker.ports.tcp));
    h.step();
    h.get_by_label("Apply").click();
    h.step();
    h.step();
    assert!(has_label_containing(
        h,
        &format!("{name}  ·  mqtt://127.0.0.1:{}", broker.ports.tcp)
    ));
    h.get_by_label("▶ Connect").click();
    step_until(h, "the connection to be up", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
}

#[test]
fn explore_publish_and_survive_a_broker_restart() {
    let mut broker = Broker::start();
    publish_retained(&broker, "plant/line1/temp", "{\"value\": 21.5, \"unit\": \"C\"}");
    publish_retained(&broker, "plant/line1/pressure", "1.013");
    let mut h = app(&broker);
    create_and_connect(&mut h, &broker, "Test plant");
    assert!(has_label_containing(&h, "Connected to 127.0.0.1"));

    // Topics appear in the tree; expand with the keyboard and select one.
    step_until(&mut h, "the plant topic in the tree", |h| {
        h.query_by_label("plant").is_some()
    });
    h.get_by_label("plant").click();
    h.step();
    h.key_press(egui::Key::ArrowRight);
    step_until(&mut h, "line1 shown", |h| h.query_by_label("line1").is_some());
    h.get_by_label("line1").click();
    h.step();
    h.key_press(egui::Key::ArrowRight);
    step_until(&mut h, "temp shown", |h| h.query_by_label("temp").is_some());
    h.get_by_label("temp").click();
    step_until(&mut h, "the payload of temp in the message view", |h| {
        h.query_by_value("{\n  \"value\": 21.5,\n  \"unit\": \"C\"\n}")
            .is_some()
    });
    assert!(has_label_containing(&h, "plant/line1/temp"));

    // Publish from the panel; a second client sees it.
    let mut watcher = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("ui/#", QoS::AtLeastOnce)];
    watcher.connect(5, p);
    watcher.wait_subscribed(5, 1);
    h.get_by_label("Publish…").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "Topic")
        .set_text_value_accesskit("ui/out");
    h.step();
    h.get_by_role_and_label(Role::MultilineTextInput, "Payload")
        .set_text_value_accesskit("hello from the window");
    h.step();
    h.get_by_label("📤 Publish").click();
    step_until(&mut h, "the publish outcome", |h| has_label_containing(h, "sent"));
    watcher.wait_messages(5, "ui/out", 1);
    assert_eq!(&watcher.messages(5)[0].payload[..], b"hello from the window");
    // The message also reaches our own tree (subscribed to #).
    step_until(&mut h, "ui/out in the tree", |h| h.query_by_label("ui").is_some());

    // The broker dies: the status bar says so; it comes back: connected again.
    broker.kill();
    step_until(&mut h, "the status bar to say reconnecting", |h| {
        has_label_containing(h, "Reconnecting — attempt")
    });
    assert!(matches!(
        h.state().active_tab().map(|t| t.state()),
        Some(ConnectionState::Reconnecting { .. })
    ));
    broker.restart();
    step_until(&mut h, "the status bar to say connected again", |h| {
        has_label_containing(h, "Connected to 127.0.0.1")
    });
}

#[test]
fn a_bad_ca_path_shows_an_error_beside_the_field() {
    let broker = Broker::start();
    let mut h = app(&broker);
    h.get_by_label("➕ New").click();
    h.step();
    h.get_by_label("TLS certificates").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "CA file")
        .set_text_value_accesskit("/nonexistent/ca.pem");
    step_until(&mut h, "the CA file error", |h| {
        has_label_containing(h, "CA file /nonexistent/ca.pem cannot be read: file not found")
    });
    // A garbage file is named as not PEM.
    let garbage = broker.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "garbage").unwrap();
    h.get_by_role_and_label(Role::TextInput, "CA file")
        .set_text_value_accesskit(garbage.to_str().unwrap());
    step_until(&mut h, "the not-PEM error", |h| {
        has_label_containing(h, "is not a PEM certificate")
    });
    // A good CA clears the error.
    h.get_by_role_and_label(Role::TextInput, "CA file")
        .set_text_value_accesskit(broker.pki.ca.to_str().unwrap());
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!has_label_containing(&h, "cannot be read"));
    assert!(!has_label_containing(&h, "is not a PEM"));
}

#[test]
fn a_failed_connection_is_explained_in_the_status_bar_and_a_notice() {
    let broker = Broker::start();
    let mut h = app(&broker);
    h.get_by_label("➕ New").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "URL")
        .set_text_value_accesskit(&format!(
            "mqtt://{}:wrong@127.0.0.1:{}",
            crate::common::USER,
            broker.ports.auth
        ));
    h.step();
    h.get_by_label("Apply").click();
    h.step();
    h.get_by_label("▶ Connect").click();
    step_until(&mut h, "the failure", |h| has_label_containing(h, "Failed: "));
    assert!(
        h.state()
            .notices()
            .iter()
            .any(|n| n.text.contains("user name or password") || n.text.contains("not authorised"))
    );
    // Issue 14: the words name the user that was sent and where to change the credentials,
    // never the password.
    let user = format!("user “{}”", crate::common::USER);
    let status = h.get_by_label_contains("Failed: ").value().unwrap();
    assert!(
        status.contains(&user) && status.contains("Authentication") && !status.contains("wrong"),
        "status bar: {status}"
    );
    assert!(
        h.state()
            .notices()
            .iter()
            .any(|n| n.text.contains(&user) && n.text.contains("password")),
        "{:?}",
        h.state().notices()
    );
    // Edits were saved to the profiles file (atomically, off the UI thread).
    let path = broker.dir.path().join("ui-profiles.toml");
    step_until(&mut h, "the profiles file", |_| path.exists());
    let saved = canopy::profiles::store::load(&path).unwrap();
    assert!(saved.profiles.iter().any(|p| p.port == broker.ports.auth));
}

#[test]
fn first_run_offers_a_sandbox_whose_demo_traffic_reaches_the_tree() {
    // No broker of ours here: the embedded sandbox is all it takes.
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        profiles_path: dir.path().join("fresh/profiles.toml"),
        load_system_fonts: false,
        use_keyring: false,
        language: Some(canopy::ui::i18n::Language::English),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| CanopyApp::new(cc, config).unwrap());
    h.step();
    for name in ["EMQX public — TLS", "test.mosquitto.org"] {
        assert!(has_label_containing(&h, name), "{name} offered on first run");
    }
    h.get_by_label_contains("Local sandbox").click();
    h.step();
    h.get_by_label("▶ Connect").click();
    step_until(&mut h, "demo topics in the tree", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.connected() && t.tree.topic_count() > 10)
    });
    assert!(h.query_by_label("plant").is_some() && h.query_by_label("home").is_some());
    assert!(has_label_containing(&h, "Connected to 127.0.0.1"));
    // The first-run profiles were saved.
    let path = dir.path().join("fresh/profiles.toml");
    step_until(&mut h, "the profiles file", |_| path.exists());
}

#[test]
fn clear_retained_below_a_node_asks_then_deletes_exactly_that_subtree() {
    let broker = Broker::start();
    for topic in ["old/a", "old/b/c", "old/b/d", "keep/x"] {
        publish_retained(&broker, topic, "v");
    }
    let mut h = app(&broker);
    create_and_connect(&mut h, &broker, "Clean-up");
    step_until(&mut h, "the retained topics in the tree", |h| {
        h.state().active_tab().is_some_and(|t| {
            ["old/a", "old/b/c", "old/b/d", "keep/x"]
                .iter()
                .all(|topic| t.tree.find(topic).is_some())
        })
    });
    h.get_by_label("old").click();
    step_until(&mut h, "the clear button", |h| {
        h.query_by_label("🗑 Clear retained below…").is_some()
    });
    h.get_by_label("🗑 Clear retained below…").click();
    step_until(&mut h, "the confirmation", |h| {
        has_label_containing(h, "Delete the retained messages of 3 topics at or below old?")
    });
    h.get_by_label("Delete 3 retained messages").click();
    step_until(&mut h, "the result notice", |h| {
        h.state()
            .notices()
            .iter()
            .any(|n| n.text.contains("Cleared 3 retained messages at or below old."))
    });
    // The broker agrees: only keep/x is still retained.
    let mut c = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("#", QoS::AtLeastOnce)];
    c.connect(3, p);
    c.wait_messages(3, "keep/x", 1);
    std::thread::sleep(Duration::from_millis(500));
    let topics: Vec<&str> = c
        .messages(3)
        .iter()
        .map(|m| m.topic.as_str())
        .filter(|t| !t.starts_with('$'))
        .collect();
    assert_eq!(topics, ["keep/x"]);

    // Nothing retained left below `old` (still selected): the dialog says so, deletes nothing.
    step_until(&mut h, "the deletions echoed into the tree", |h| {
        h.state().active_tab().is_some_and(|t| {
            let mut tree = t.tree.clone();
            let old = tree.find("old").unwrap();
            tree.retained_below(old).is_empty()
        })
    });
    h.get_by_label("🗑 Clear retained below…").click();
    step_until(&mut h, "the nothing-to-do dialog", |h| {
        has_label_containing(h, "No retained message is known at or below old.")
    });
}

#[test]
fn subscriptions_are_added_granted_and_removed_while_connected() {
    let broker = Broker::start();
    publish_retained(&broker, "plant/line1/temp", "21");
    let mut h = app(&broker);
    h.get_by_label("➕ New").click();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "URL")
        .set_text_value_accesskit(&format!(
            "mqtt://{}:{}@127.0.0.1:{}/",
            crate::common::USER,
            crate::common::PASSWORD,
            broker.ports.auth
        ));
    h.step();
    h.get_by_label("Apply").click();
    h.step();
    h.get_by_label("▶ Connect").click();
    step_until(&mut h, "connected", |h| {
        h.state().active_tab().is_some_and(|t| t.connected())
    });
    h.get_by_label_contains("📡 Subscriptions (").click();
    step_until(&mut h, "the profile's subscription granted", |h| {
        has_label_containing(h, "granted QoS 0")
    });

    let add = |h: &mut Harness<'static, CanopyApp>, filter: &str| {
        h.get_by_role_and_label(Role::TextInput, "Subscribe to")
            .set_text_value_accesskit(filter);
        h.step();
        h.get_by_label("➕ Subscribe").click();
        h.step();
    };
    // A new subscription brings the retained message into the tree. (mosquitto grants every
    // well-formed filter, its ACLs act on delivery, so a refusal cannot be staged here.)
    add(&mut h, "plant/#");
    step_until(&mut h, "plant in the tree", |h| {
        h.query_by_label("plant").is_some()
    });
    step_until(&mut h, "plant/# granted", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.subscriptions.iter().any(|s| {
                s.sub.filter == "plant/#" && s.status == canopy::ui::tab::SubStatus::Granted(QoS::AtMostOnce)
            })
        })
    });

    // Unsubscribe from plant/#.
    let before = h.state().active_tab().unwrap().subscriptions.len();
    let index = h
        .state()
        .active_tab()
        .unwrap()
        .subscriptions
        .iter()
        .position(|s| s.sub.filter == "plant/#")
        .unwrap();
    h.get_all_by_label("Unsubscribe").nth(index).unwrap().click();
    step_until(&mut h, "plant/# gone from the list", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.subscriptions.len() == before - 1 && t.subscriptions.iter().all(|s| s.sub.filter != "plant/#")
        })
    });
}

#[test]
fn decoders_json_tree_and_charts() {
    use prost::Message as _;
    let broker = Broker::start();
    let sparkplug = canopy::model::decode::sparkplug::Payload {
        timestamp: Some(1_764_140_000_000),
        seq: Some(1),
        metrics: vec![canopy::model::decode::sparkplug::Metric {
            name: Some("Line speed".into()),
            datatype: Some(10),
            value: Some(canopy::model::decode::sparkplug::Value::Double(42.5)),
            ..Default::default()
        }],
        ..Default::default()
    }
    .encode_to_vec();
    let mut c = Client::new();
    c.connect(9, broker.tcp_profile());
    c.wait_connected(9);
    let send = |c: &mut Client, token: u64, topic: &str, payload: Vec<u8>| {
        c.send(Command::Publish {
            id: ConnectionId(9),
            token: Token(token),
            message: Box::new(OutgoingMessage {
                topic: topic.into(),
                payload: Bytes::from(payload),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::default(),
            }),
        });
        c.wait_outcome(9, token);
    };
    send(&mut c, 1, "spBv1.0/plant/DDATA/edge1/press", sparkplug);
    send(
        &mut c,
        2,
        "sensors/json",
        br#"{"temp": {"value": 20.5}, "ok": true}"#.to_vec(),
    );
    let mut png = Vec::new();
    image::RgbImage::from_pixel(8, 4, image::Rgb([200, 40, 40]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    send(&mut c, 3, "cams/1/snapshot", png);
    let mut h = app(&broker);
    create_and_connect(&mut h, &broker, "Decoders");
    let select = |h: &mut Harness<'static, CanopyApp>, topic: &str| {
        let tab = h.state_mut().active_tab_mut().unwrap();
        let id = tab.tree.find(topic).unwrap();
        tab.select(id);
        h.step();
        h.step();
    };
    step_until(&mut h, "both topics", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.tree.find("sensors/json").is_some() && t.tree.find("spBv1.0/plant/DDATA/edge1/press").is_some()
        })
    });

    // Sparkplug B is detected from the topic and decoded into named, typed metrics.
    select(&mut h, "spBv1.0/plant/DDATA/edge1/press");
    let shown = |h: &Harness<'static, CanopyApp>| {
        let cache = h
            .state()
            .active_tab()
            .and_then(|t| t.render_cache.clone())
            .unwrap();
        (cache.rendered.decoding, cache.rendered.text)
    };
    let (view, text) = shown(&h);
    assert_eq!(view, canopy::model::payload::Decoding::Sparkplug);
    assert!(text.contains("Line speed  Double    42.5"), "{text}");

    // A PNG payload is previewed as an image.
    step_until(&mut h, "the snapshot topic", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("cams/1/snapshot").is_some())
    });
    select(&mut h, "cams/1/snapshot");
    let (view, text) = shown(&h);
    assert_eq!(view, canopy::model::payload::Decoding::Image);
    assert!(text.starts_with("PNG image, 8 × 4 pixels"), "{text}");
    assert!(h.state().active_tab().unwrap().image.is_some());

    // JSON as a tree; 📈 beside a number charts it, and new values extend the series.
    select(&mut h, "sensors/json");
    h.get_by_label("As a tree").click();
    h.step();
    h.step();
    assert!(has_label_containing(&h, "{…} 2 keys"));
    h.get_all_by_label("Chart this value over time")
        .next()
        .unwrap()
        .click();
    step_until(&mut h, "the series", |h| {
        h.state().active_tab().is_some_and(|t| t.charts.series.len() == 1)
    });
    assert_eq!(
        h.state().active_tab().unwrap().charts.series[0].path,
        ["temp", "value"]
    );
    h.step();
    assert!(has_label_containing(&h, "📈 Charts (1)"));
    for (i, v) in [21.5, 22.5].iter().enumerate() {
        send(
            &mut c,
            10 + i as u64,
            "sensors/json",
            format!(r#"{{"temp": {{"value": {v}}}}}"#).into_bytes(),
        );
    }
    step_until(&mut h, "three points", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.charts.series[0].points.len() == 3)
    });
    let values: Vec<f64> = h.state().active_tab().unwrap().charts.series[0]
        .points
        .iter()
        .map(|p| p[1])
        .collect();
    assert_eq!(values, [20.5, 21.5, 22.5]);
    assert!(h.state().active_tab().unwrap().charts.to_csv().lines().count() == 4);

    // A per-topic view override is remembered: Hex for this topic only.
    h.get_by_label("Hex").click();
    h.step();
    h.step();
    assert!(shown(&h).1.starts_with("00000000  7b 22 74 65"));
    select(&mut h, "spBv1.0/plant/DDATA/edge1/press");
    assert_eq!(
        shown(&h).0,
        canopy::model::payload::Decoding::Sparkplug,
        "other topics keep Auto"
    );
    select(&mut h, "sensors/json");
    assert!(shown(&h).1.starts_with("00000000  7b 22 74 65"), "Hex remembered");
}

#[test]
fn record_in_the_window_then_replay_it() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("window.jsonl");
    let mut h = app(&broker);
    create_and_connect(&mut h, &broker, "Recorder");
    h.state_mut()
        .act(canopy::ui::action::Action::StartRecording(Some(file.clone())));
    step_until(&mut h, "recording", |h| {
        h.state().active_tab().is_some_and(|t| t.recorder.is_some())
    });
    assert!(has_label_containing(&h, "⏹ Stop recording"));

    let mut c = Client::new();
    c.connect(9, broker.tcp_profile());
    c.wait_connected(9);
    for (token, (topic, payload, retain)) in [
        ("rec/a", &b"1"[..], true),
        ("rec/bin", &[0u8, 255, 7][..], false),
        ("rec/a", &b"2"[..], false),
    ]
    .into_iter()
    .enumerate()
    {
        c.send(Command::Publish {
            id: ConnectionId(9),
            token: Token(token as u64),
            message: Box::new(OutgoingMessage {
                topic: topic.into(),
                payload: Bytes::copy_from_slice(payload),
                qos: QoS::AtLeastOnce,
                retain,
                properties: Properties::default(),
            }),
        });
        c.wait_outcome(9, token as u64);
    }
    step_until(&mut h, "the three messages in the tree", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.tree.find("rec/bin").is_some()
                && t.tree
                    .find("rec/a")
                    .is_some_and(|a| t.tree.node(a).messages() == 2)
        })
    });
    h.state_mut().act(canopy::ui::action::Action::StopRecording);
    step_until(&mut h, "the recording notice", |h| {
        h.state().notices().iter().any(|n| n.text.contains("Recorded "))
    });
    // The profile also subscribes to $SYS: keep our topics.
    let lines: Vec<canopy::model::message::Message> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| canopy::model::recording::parse_line(l).unwrap().unwrap())
        .filter(|m| m.topic.starts_with("rec/"))
        .collect();
    std::fs::write(
        &file,
        lines
            .iter()
            .map(|m| canopy::model::recording::Line::from_message(m).to_json() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(&lines[1].payload[..], &[0u8, 255, 7]);
    assert!(lines[0].retain);

    // Replay as fast as possible; a second client sees the same three messages, flags kept.
    let mut watcher = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("rec/#", QoS::AtLeastOnce)];
    p.subscriptions[0].retain_handling = canopy::profiles::profile::RetainHandling::DoNotSend;
    watcher.connect(4, p);
    watcher.wait_subscribed(4, 1);
    h.state_mut().act(canopy::ui::action::Action::StartReplay {
        path: Some(file.clone()),
        speed: canopy::model::recording::Speed::Fastest,
    });
    step_until(&mut h, "the replay notice", |h| {
        h.state()
            .notices()
            .iter()
            .any(|n| n.text.contains("Replayed 3 messages"))
    });
    watcher.wait_messages(4, "rec/a", 2);
    watcher.wait_messages(4, "rec/bin", 1);
    let got: Vec<(String, Vec<u8>, bool)> = watcher
        .messages(4)
        .iter()
        .map(|m| (m.topic.clone(), m.payload.to_vec(), m.retain))
        .collect();
    assert_eq!(
        got,
        [
            ("rec/a".to_owned(), b"1".to_vec(), true),
            ("rec/bin".to_owned(), vec![0, 255, 7], false),
            ("rec/a".to_owned(), b"2".to_vec(), false),
        ]
    );
}

#[test]
fn broker_stats_from_sys_and_request_response() {
    let broker = Broker::start();
    let mut h = app(&broker);
    create_and_connect(&mut h, &broker, "Stats");
    // mosquitto publishes $SYS every second here (sys_interval 1).
    step_until(&mut h, "$SYS topics", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.tree.find("$SYS/broker/version").is_some())
    });
    h.get_by_label("📊 Broker").click();
    step_until(&mut h, "the broker window", |h| {
        has_label_containing(h, "mosquitto $SYS layout")
    });
    assert!(has_label_containing(&h, "mosquitto version"));
    assert!(has_label_containing(&h, "Clients connected"));

    // A responder answers requests on svc/req to their response topic, echoing the correlation.
    let mut responder = Client::new();
    let mut p = broker.tcp_profile();
    p.subscriptions = vec![Subscription::new("svc/req", QoS::AtLeastOnce)];
    responder.connect(6, p);
    responder.wait_subscribed(6, 1);
    h.state_mut()
        .act(canopy::ui::action::Action::Publish(OutgoingMessage {
            topic: "svc/req".into(),
            payload: Bytes::from_static(b"ping"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties {
                response_topic: Some("svc/reply/canopy".into()),
                correlation_data: Some(Bytes::from_static(b"req-1")),
                ..Properties::default()
            },
        }));
    h.step();
    // The profile's `#` already covers the response topic: no extra subscription is made.
    assert!(
        !h.state()
            .active_tab()
            .unwrap()
            .subscriptions
            .iter()
            .any(|s| s.sub.filter == "svc/reply/canopy")
    );
    responder.wait_messages(6, "svc/req", 1);
    let request = responder.messages(6)[0].clone();
    let respond = |c: &mut Client, token: u64, correlation: &'static [u8], payload: &'static [u8]| {
        c.send(Command::Publish {
            id: ConnectionId(6),
            token: Token(token),
            message: Box::new(OutgoingMessage {
                topic: request.properties.response_topic.clone().unwrap(),
                payload: Bytes::from_static(payload),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Properties {
                    correlation_data: Some(Bytes::from_static(correlation)),
                    ..Properties::default()
                },
            }),
        });
        c.wait_outcome(6, token);
    };
    respond(&mut responder, 1, b"someone-else", b"not ours");
    respond(&mut responder, 2, b"req-1", b"pong");
    h.get_by_label("Publish…").click();
    step_until(&mut h, "the reply matched", |h| {
        has_label_containing(h, "1 reply")
    });
    let tab = h.state().active_tab().unwrap();
    assert_eq!(tab.requests.list.len(), 1);
    assert_eq!(&tab.requests.list[0].replies[0].payload[..], b"pong");
    assert!(has_label_containing(&h, "reply "));

    // Without a subscription covering it, the response topic is subscribed to.
    h.get_by_label_contains("📡 Subscriptions (").click();
    h.step();
    let hash = h
        .state()
        .active_tab()
        .unwrap()
        .subscriptions
        .iter()
        .position(|s| s.sub.filter == "#")
        .unwrap();
    h.get_all_by_label("Unsubscribe").nth(hash).unwrap().click();
    step_until(&mut h, "# unsubscribed", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.subscriptions.iter().all(|s| s.sub.filter != "#"))
    });
    h.state_mut()
        .act(canopy::ui::action::Action::Publish(OutgoingMessage {
            topic: "svc/req".into(),
            payload: Bytes::from_static(b"ping 2"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties {
                response_topic: Some("svc/reply/second".into()),
                correlation_data: Some(Bytes::from_static(b"req-2")),
                ..Properties::default()
            },
        }));
    step_until(&mut h, "the response topic subscribed", |h| {
        h.state().active_tab().is_some_and(|t| {
            t.subscriptions.iter().any(|s| {
                s.sub.filter == "svc/reply/second"
                    && matches!(s.status, canopy::ui::tab::SubStatus::Granted(_))
            })
        })
    });
    responder.wait_messages(6, "svc/req", 2);
    responder.send(Command::Publish {
        id: ConnectionId(6),
        token: Token(3),
        message: Box::new(OutgoingMessage {
            topic: "svc/reply/second".into(),
            payload: Bytes::from_static(b"pong 2"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties {
                correlation_data: Some(Bytes::from_static(b"req-2")),
                ..Properties::default()
            },
        }),
    });
    step_until(&mut h, "the second reply", |h| {
        h.state()
            .active_tab()
            .is_some_and(|t| t.requests.list.get(1).is_some_and(|r| r.replies.len() == 1))
    });
}
