//! `canopy pub --template`: templates saved in a profile, sent by the built binary to a real
//! mosquitto, variables filled in per message.

use canopy::model::message::QoS;
use canopy::model::template::{Encoding, Template};
use canopy::profiles::store::{ProfilesFile, save};

use super::{canopy, sub, text};
use crate::common::Broker;

fn profiles_with_template(broker: &Broker) -> std::path::PathBuf {
    let file = broker.dir.path().join("profiles.toml");
    let mut profile = canopy::profiles::Profile::tcp("127.0.0.1", broker.ports.tcp);
    profile.name = "Line".into();
    profile.templates = vec![Template {
        name: "reading".into(),
        topic: "plant/press/{{seq}}".into(),
        payload: r#"{"temperature": {{random 20.0..30.0}}, "n": {{seq}}}"#.into(),
        encoding: Encoding::Json,
        qos: QoS::AtLeastOnce,
        count: 3,
        interval_ms: 20,
        ..Template::default()
    }];
    let doc = ProfilesFile {
        profiles: vec![profile],
        ..Default::default()
    };
    save(&file, &doc).unwrap();
    file
}

#[test]
fn a_saved_template_is_sent_with_its_variables_filled_in() {
    let broker = Broker::start();
    let file = profiles_with_template(&broker);
    let listener = sub(&broker, &["-t", "plant/#", "-C", "5", "-v"]);
    let out = canopy()
        .args([
            "pub",
            "--profile",
            "Line",
            "--template",
            "reading",
            "--count",
            "5",
            "--interval",
            "0.01",
        ])
        .env("CANOPY_PROFILES", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, stdout, stderr) = listener.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    for (i, line) in lines.iter().enumerate() {
        let (topic, payload) = line.split_once(' ').unwrap();
        assert_eq!(topic, format!("plant/press/{}", i + 1));
        let v: serde_json::Value = serde_json::from_str(payload).unwrap();
        assert_eq!(v["n"], i + 1);
        let t = v["temperature"].as_f64().unwrap();
        assert!((20.0..=30.0).contains(&t), "{payload}");
        assert!(
            payload.contains('.'),
            "written with the range's decimals: {payload}"
        );
    }
}

#[test]
fn a_missing_template_is_named_with_the_ones_there_are() {
    let broker = Broker::start();
    let file = profiles_with_template(&broker);
    let out = canopy()
        .args(["pub", "--profile", "Line", "--template", "nope"])
        .env("CANOPY_PROFILES", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has no template “nope”; it has: reading"),
        "{}",
        text(&out.stderr)
    );
    // A template needs a profile to come from.
    let out = canopy()
        .args(["pub", "--template", "reading", "-h", "127.0.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
