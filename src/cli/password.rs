//! The password of a saved profile for the CLI. The window keeps passwords in the OS
//! credential store (or asks); the CLI used to read neither, so `--profile X` connected
//! without a password and failed with "not authorised" and no hint.

use std::io::IsTerminal as _;

use crate::profiles::Profile;
use crate::profiles::profile::PasswordStorage;

/// Fills in the password of a saved profile that has a user name but no password: from the
/// credential store, else by asking on the terminal (without echo), else a note on stderr
/// saying which profile lacks one and how to give it.
pub fn fill(profile: &mut Profile) -> Result<(), String> {
    let needs_one = profile.password.is_none() && profile.username.as_deref().is_some_and(|u| !u.is_empty());
    if !needs_one {
        return Ok(());
    }
    let why_missing = match profile.password_storage {
        PasswordStorage::Keyring => match crate::profiles::secrets::load(&profile.id) {
            Ok(Some(password)) => {
                profile.password = Some(password);
                return Ok(());
            }
            Ok(None) => "no password is saved for it in the credential store".to_owned(),
            Err(e) => e,
        },
        PasswordStorage::Ask => "its password is not saved (asked for on connect)".to_owned(),
        PasswordStorage::File => "the profiles file holds no password for it".to_owned(),
    };
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let prompt = format!(
            "Password for `{}` (profile `{}`): ",
            profile.username.as_deref().unwrap_or_default(),
            profile.name
        );
        // rpassword: reads from the terminal with echo off, so the password is not shown.
        let password = rpassword::prompt_password(prompt)
            .map_err(|e| format!("cannot read the password from the terminal: {e}"))?;
        profile.password = Some(password);
        return Ok(());
    }
    super::complain(format!(
        "note: profile `{}` has a user name but no password here ({why_missing}); give one \
         with the CANOPY_PASSWORD environment variable or -P. Connecting without a password.",
        profile.name
    ));
    Ok(())
}
