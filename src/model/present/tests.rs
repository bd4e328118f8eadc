use super::*;

fn number(value: f64, unit: &str) -> Value {
    Value::Number {
        value,
        unit: unit.into(),
    }
}

fn read_plain(topic: &str, payload: &str) -> Value {
    read(topic, payload.as_bytes(), &[], "").value
}

#[test]
fn plain_numbers_take_their_unit_from_the_text_or_the_topic() {
    assert_eq!(read_plain("home/kitchen/temperature", "21.5"), number(21.5, "°C"));
    assert_eq!(read_plain("home/kitchen/humidity", " 48 "), number(48.0, "%"));
    assert_eq!(read_plain("a/pressure", "1013.25"), number(1013.25, "hPa"));
    assert_eq!(read_plain("plant/press/pressure", "203.5"), number(203.5, "bar"));
    assert_eq!(read_plain("x/level", "23.5 °C"), number(23.5, "°C"));
    assert_eq!(read_plain("x/thing", "-4"), number(-4.0, ""));
    // The tile's own unit wins.
    assert_eq!(read("x/temperature", b"70", &[], "°F").value, number(70.0, "°F"));
    assert_eq!(read_plain("x/t", ""), Value::Empty);
    assert_eq!(
        read_plain("x/t", "NaN"),
        Value::State {
            text: "NaN".into(),
            tone: Tone::Neutral
        }
    );
}

#[test]
fn json_payloads_give_their_value_unit_and_details() {
    let r = read(
        "plant/oven/temperature",
        r#"{"value":23.5,"unit":"°C","ts":1}"#.as_bytes(),
        &[],
        "",
    );
    assert_eq!(r.value, number(23.5, "°C"));
    assert!(r.details.is_empty(), "{:?}", r.details);
    // A value without a unit field: the topic's name.
    assert_eq!(
        read_plain("plant/oven/temperature", r#"{"value":180}"#),
        number(180.0, "°C")
    );
    // The only field, its unit from its name.
    assert_eq!(
        read_plain("sensors/s1", r#"{"temperature":23.5}"#),
        number(23.5, "°C")
    );
    // A state with the rest as details.
    let r = read(
        "plant/press/state",
        br#"{"state":"running","parts":12,"shift":"B","alarm":false,"nested":{"a":1}}"#,
        &[],
        "",
    );
    assert_eq!(
        r.value,
        Value::State {
            text: "running".into(),
            tone: Tone::Good
        }
    );
    assert_eq!(
        r.details,
        vec![
            ("parts".to_owned(), "12".to_owned()),
            ("shift".to_owned(), "B".to_owned()),
            ("alarm".to_owned(), "false".to_owned())
        ]
    );
    // No value, state or single field: the first number.
    let r = read(
        "vehicles/forklift-1/status",
        br#"{"battery_pct":80,"zone":"hall-2","speed_kmh":3.5}"#,
        &[],
        "",
    );
    assert_eq!(r.value, number(80.0, "%"));
    assert_eq!(r.details[0], ("zone".to_owned(), "hall-2".to_owned()));
    // No number at all: the first field.
    let r = read(
        "p/info",
        br#"{"model":"PRESS-100","firmware":"2.0.0","nested":[1]}"#,
        &[],
        "",
    );
    assert_eq!(
        r.value,
        Value::State {
            text: "PRESS-100".into(),
            tone: Tone::Neutral
        }
    );
    assert_eq!(r.details, vec![("firmware".to_owned(), "2.0.0".to_owned())]);
}

#[test]
fn a_chosen_field_is_read_by_path() {
    let path = split_path("speed_kmh");
    let r = read("v/f/status", br#"{"battery_pct":80,"speed_kmh":3.5}"#, &path, "");
    assert_eq!(r.value, number(3.5, "km/h"));
    assert_eq!(r.details, vec![("battery_pct".to_owned(), "80".to_owned())]);
    let path = split_path("a.list.1");
    assert_eq!(
        read("t", br#"{"a":{"list":[1,"on"]}}"#, &path, "").value,
        Value::State {
            text: "on".into(),
            tone: Tone::Good
        }
    );
    assert_eq!(read("t", br#"{"a":1}"#, &split_path("b"), "").value, Value::Empty);
    assert_eq!(read("t", b"12", &split_path("b"), "").value, Value::Empty);
    assert_eq!(split_path(" a. b ."), vec!["a".to_owned(), "b".to_owned()]);
}

#[test]
fn booleans_and_words_are_states_with_tones() {
    assert_eq!(
        read_plain("l", "true"),
        Value::State {
            text: "true".into(),
            tone: Tone::Good
        }
    );
    assert_eq!(
        read_plain("l", "off"),
        Value::State {
            text: "off".into(),
            tone: Tone::Off
        }
    );
    for (word, expected) in [
        ("running", Tone::Good),
        ("ON", Tone::Good),
        ("armed_home", Tone::Good),
        ("idle", Tone::Off),
        ("closed", Tone::Off),
        ("false", Tone::Off),
        ("setup", Tone::Attention),
        ("open", Tone::Attention),
        ("alarm", Tone::Alarm),
        ("Fault-Active", Tone::Alarm),
        ("hall-2", Tone::Neutral),
        ("on_hold", Tone::Good),
    ] {
        assert_eq!(tone(word), expected, "{word}");
    }
    // Long text and dates are text, not states.
    assert_eq!(read_plain("t", "2023-01-11"), Value::Text("2023-01-11".into()));
    let long = "a sentence that is far too long to be a state";
    assert_eq!(read_plain("t", long), Value::Text(long.into()));
}

#[test]
fn gauges_span_the_tile_range_the_unit_or_what_was_seen() {
    let tile = Tile::new("t");
    assert_eq!(gauge_range(&tile, "%", &[]), Some((0.0, 100.0)));
    assert_eq!(gauge_range(&tile, "°C", &[20.0, 25.0, 22.0]), Some((20.0, 25.0)));
    assert_eq!(gauge_range(&tile, "°C", &[20.0]), None);
    assert_eq!(gauge_range(&tile, "°C", &[20.0, 20.0]), None);
    let fixed = Tile {
        min: Some(0.0),
        max: Some(250.0),
        ..Tile::new("t")
    };
    assert_eq!(gauge_range(&fixed, "°C", &[]), Some((0.0, 250.0)));
    let half = Tile {
        max: Some(300.0),
        ..Tile::new("t")
    };
    assert_eq!(gauge_range(&half, "", &[20.0, 25.0]), Some((20.0, 300.0)));
    let upside_down = Tile {
        min: Some(5.0),
        max: Some(1.0),
        ..Tile::new("t")
    };
    assert_eq!(gauge_range(&upside_down, "%", &[]), None);
    assert_eq!(fraction(50.0, (0.0, 200.0)), 0.25);
    assert_eq!(fraction(-5.0, (0.0, 200.0)), 0.0);
    assert_eq!(fraction(500.0, (0.0, 200.0)), 1.0);
}

#[test]
fn numbers_are_written_for_reading_from_afar() {
    assert_eq!(format_number(23.5), "23.5");
    assert_eq!(format_number(23.456), "23.46");
    assert_eq!(format_number(180.0), "180");
    assert_eq!(format_number(181.25), "181.25");
    assert_eq!(format_number(0.1234), "0.123");
    assert_eq!(format_number(-4.0), "-4");
    assert_eq!(format_number(1013.25), "1013.25");
    assert_eq!(format_number(12_345.6), "12\u{2009}346");
    assert_eq!(format_number(123_456.0), "123\u{2009}456");
    assert_eq!(format_number(-1_234_567.0), "-1\u{2009}234\u{2009}567");
}

#[test]
fn old_presentations_load_and_redaction_is_on_by_default() {
    let p: Presentation = serde_json::from_str("{}").unwrap();
    assert!(p.redact && p.pinned.is_empty());
    let p: Presentation =
        serde_json::from_str(r#"{"pinned":[{"topic":"a/b"}],"redaction":[{"level":2},{"field":"serial"}]}"#)
            .unwrap();
    assert_eq!(p.pinned, vec![Tile::new("a/b")]);
    assert!(p.is_pinned("a/b") && !p.is_pinned("a"));
    assert_eq!(p.redactor().topic("x/y"), "x/•••");
    let off = Presentation { redact: false, ..p };
    assert!(off.redactor().is_empty());
}
