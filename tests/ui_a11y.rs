//! Every interactive widget of the main screens has a name a screen reader can speak (an emoji
//! alone is not one), walked over the same accessibility tree AT-SPI / UIA / NSAccessibility
//! get. `scripts/a11y/` checks the same from outside, on the release binary.

use std::time::{Duration, Instant};

use canopy::ui::CanopyApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _, by};

const INTERACTIVE: [Role; 9] = [
    Role::Button,
    Role::CheckBox,
    Role::RadioButton,
    Role::TextInput,
    Role::MultilineTextInput,
    Role::SpinButton,
    Role::Slider,
    Role::ComboBox,
    Role::Link,
];

fn unnamed(h: &Harness<'static, CanopyApp>) -> Vec<String> {
    h.query_all(by().predicate(|n| INTERACTIVE.contains(&n.role())))
        .filter_map(|n| {
            let node = n.accesskit_node();
            let name = node.label().unwrap_or_default();
            (!name.chars().any(char::is_alphanumeric)).then(|| format!("{:?} {name:?}", node.role()))
        })
        .collect()
}

#[test]
fn every_interactive_widget_has_a_speakable_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = crate::ui::window(dir.path().join("profiles.toml"));
    h.step();
    let first = unnamed(&h);
    assert!(first.is_empty(), "first screen, unnamed: {first:?}");
    // Connected to the sandbox, with demo traffic in the tree and a topic selected.
    h.get_by_label_contains("Local sandbox").click();
    h.step();
    h.get_by_label("▶ Connect").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.query_all_by_label_contains("plant").next().is_none() {
        assert!(Instant::now() < deadline, "no demo topic arrived");
        h.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    h.get_by_label_contains("plant").click();
    for _ in 0..5 {
        h.step();
    }
    let connected = unnamed(&h);
    assert!(connected.is_empty(), "connected screen, unnamed: {connected:?}");
}
