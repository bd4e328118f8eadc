//! Passwords in the OS credential store (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through the `keyring` crate. Calls block on IPC: use them
//! from background threads only. Nothing secret is ever put in an error message.

/// The service name under which Canopy stores passwords.
pub const SERVICE: &str = "canopy";

fn entry(profile_id: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(SERVICE, profile_id).map_err(describe)
}

fn describe(e: keyring::Error) -> String {
    match e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            "no credential store is available (Secret Service / Keychain / Credential Manager)".into()
        }
        keyring::Error::NoEntry => "no saved password".into(),
        other => format!("credential store error: {other}"),
    }
}

/// Saves the password of a profile.
pub fn store(profile_id: &str, password: &str) -> Result<(), String> {
    entry(profile_id)?.set_password(password).map_err(describe)
}

/// The saved password of a profile, if any.
pub fn load(profile_id: &str) -> Result<Option<String>, String> {
    match entry(profile_id)?.get_password() {
        Ok(p) => Ok(Some(p)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(describe(e)),
    }
}

/// Removes the saved password of a profile (no error if there was none).
pub fn delete(profile_id: &str) -> Result<(), String> {
    match entry(profile_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(e)),
    }
}
