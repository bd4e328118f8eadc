//! Regression tests of the window, each named after what broke.

use std::path::PathBuf;

use canopy::profiles::Profile;
use canopy::profiles::store::{self, FORMAT_VERSION, ProfilesFile};
use canopy::ui::action::FileTarget;
use egui_kittest::kittest::Queryable as _;

use super::{app, has_label_containing};
use crate::common::Broker;

fn profile(name: &str) -> Profile {
    Profile {
        name: name.to_owned(),
        ..Profile::default()
    }
}

/// The window with one saved profile, "Locked", selected: the broker's password port, a user
/// name, and the password kept in a credential store the tests never have.
fn window_with_locked_profile(broker: &Broker) -> egui_kittest::Harness<'static, canopy::ui::CanopyApp> {
    let path = broker.dir.path().join("ui-profiles.toml");
    let mut locked = profile("Locked");
    locked.host = "127.0.0.1".into();
    locked.port = broker.ports.auth;
    locked.username = Some(crate::common::USER.into());
    let file = ProfilesFile {
        version: FORMAT_VERSION,
        profiles: vec![locked],
    };
    store::save(&path, &file).unwrap();
    let mut h = app(broker);
    h.step();
    h.get_by_label_contains("Locked  ·").click();
    h.step();
    h
}

/// The file picker runs on a thread while the list can change under it: the picked file
/// used to be applied by list position, so deleting a profile above the one being edited put
/// the certificate path into the profile that moved into its place.
#[test]
fn a_picked_certificate_lands_in_its_profile_after_an_earlier_one_is_deleted() {
    let broker = Broker::start();
    let path = broker.dir.path().join("ui-profiles.toml");
    let file = ProfilesFile {
        version: FORMAT_VERSION,
        profiles: vec![profile("Alpha"), profile("Bravo"), profile("Charlie")],
    };
    store::save(&path, &file).unwrap();
    let mut h = app(&broker);
    h.step();

    // The picker is opened for Bravo: what it will answer names Bravo's id.
    let bravo = h.state().profiles().file.profiles[1].clone();
    assert_eq!(bravo.name, "Bravo");

    // While it is open, Alpha (above Bravo) is deleted: Charlie now sits where Bravo was.
    h.get_by_label_contains("Alpha  ·").click();
    h.step();
    h.get_by_label("Delete this connection").click();
    h.step();
    h.get_by_label("Delete").click();
    h.step();
    assert!(!has_label_containing(&h, "Alpha  ·"));
    assert_eq!(h.state().profiles().file.profiles[1].name, "Charlie");

    let ca = PathBuf::from("/certs/bravo-ca.pem");
    h.state()
        .deliver_picked_file(bravo.id.clone(), FileTarget::Ca, ca.clone());
    h.step();
    h.step();

    let profiles = &h.state().profiles().file.profiles;
    let find = |name: &str| profiles.iter().find(|p| p.name == name).unwrap();
    assert_eq!(find("Bravo").tls.ca_file.as_ref(), Some(&ca));
    assert_eq!(find("Charlie").tls.ca_file, None);
}

/// With no credential store, the window promised "you will be asked for them when
/// connecting" for passwords it could not read, then connected without one and failed with
/// "not authorised". Now it asks.
#[test]
fn a_password_the_credential_store_cannot_give_is_asked_for() {
    let broker = Broker::start();
    // `app` runs without a credential store: the saved password cannot be read.
    let mut h = window_with_locked_profile(&broker);
    h.get_by_label("▶ Connect").click();
    for _ in 0..4 {
        h.step();
    }
    assert!(h.state().tabs().is_empty(), "connected without the password");
    assert!(
        has_label_containing(&h, "Password for"),
        "no password prompt; notices: {:?}",
        h.state().notices()
    );
}

/// Dialogs are real modals: Escape dismisses the password prompt without connecting, and a
/// second Connect asks again (nothing half-done was left behind).
#[test]
fn escape_dismisses_a_dialog_and_nothing_is_done() {
    let broker = Broker::start();
    let mut h = window_with_locked_profile(&broker);
    h.get_by_label("▶ Connect").click();
    h.run_steps(3);
    assert!(has_label_containing(&h, "Password for"), "no password prompt");
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(
        !has_label_containing(&h, "Password for"),
        "Escape left the prompt open"
    );
    assert!(h.state().tabs().is_empty(), "a dismissed prompt connected");
    h.get_by_label("▶ Connect").click();
    h.run_steps(3);
    assert!(
        has_label_containing(&h, "Password for"),
        "the prompt did not come back"
    );
}
