//! The profiles file: `profiles.toml` in the platform's config directory, shared by the GUI
//! and the CLI.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::profile::{PasswordStorage, Profile, SandboxSettings};

/// Version of the file format written by this build.
pub const FORMAT_VERSION: u32 = 1;

/// The on-disk document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfilesFile {
    /// Format version; files from a newer version are not overwritten.
    pub version: u32,
    /// The profiles, in the user's order.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

impl Default for ProfilesFile {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            profiles: Vec::new(),
        }
    }
}

/// Why the profiles file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No config directory could be determined (no home directory).
    #[error("no configuration directory could be found for this user")]
    NoConfigDir,
    /// The file could not be read: the OS refused, it is not a regular file, or it is too
    /// large.
    #[error(transparent)]
    Unreadable(crate::fsutil::ReadError),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this format.
    #[error("{path} is not a valid profiles file: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file was written by a newer Canopy.
    #[error("{path} was written by a newer Canopy (format {found}); it is opened read-only")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// No profile has the requested name.
    #[error("no saved profile is named `{0}`")]
    NotFound(String),
}

/// The default location of the profiles file (`$XDG_CONFIG_HOME/canopy/profiles.toml` on Linux).
pub fn default_path() -> Result<PathBuf, StoreError> {
    directories::ProjectDirs::from("", "", "canopy")
        .map(|d| d.config_dir().join("profiles.toml"))
        .ok_or(StoreError::NoConfigDir)
}

/// Reads a profiles file. A missing file is an empty list.
pub fn load(path: &Path) -> Result<ProfilesFile, StoreError> {
    let text = match read(path) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => return Ok(ProfilesFile::default()),
        Err(e) => return Err(StoreError::Unreadable(e)),
    };
    let file = parse(&text).map_err(|message| StoreError::Parse {
        path: path.to_owned(),
        message,
    })?;
    if file.version > FORMAT_VERSION {
        return Err(StoreError::NewerVersion {
            path: path.to_owned(),
            found: file.version,
        });
    }
    Ok(file)
}

/// Reads the profiles file's text, capped at [`crate::fsutil::PROFILES_LIMIT`] (a huge or
/// endless file must not freeze the window or the CLI).
pub fn read(path: &Path) -> Result<String, crate::fsutil::ReadError> {
    crate::fsutil::read_capped_text(path, crate::fsutil::PROFILES_LIMIT, "a profiles file")
}

/// Parses the profiles file's text. The error says where and what, never a secret of the
/// file (see [`super::redact`]).
pub fn parse(text: &str) -> Result<ProfilesFile, String> {
    toml::from_str(text).map_err(|e| super::redact::toml_error(text, &e))
}

/// Writes the file atomically: a temporary file in the same directory, fsync, rename. The
/// previous version is kept as `profiles.toml.bak`. Mode 0600 on Unix.
pub fn save(path: &Path, file: &ProfilesFile) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let text = toml::to_string_pretty(file).map_err(|e| io(std::io::Error::other(e)))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("profiles"),
        std::process::id()
    ));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    if path.exists() {
        std::fs::copy(path, backup_path(path)).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The profile list as written to disk: passwords only where the profile keeps them in the
/// file; everywhere else they live in the credential store or are asked for.
pub fn for_disk(file: &ProfilesFile) -> ProfilesFile {
    let mut out = file.clone();
    for p in &mut out.profiles {
        if p.password_storage != PasswordStorage::File {
            p.password = None;
        }
    }
    out
}

/// What went wrong opening the profiles file.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenProblem {
    /// The file does not parse; it was copied aside and is never written over until the user
    /// restores the backup or starts afresh.
    Corrupt {
        /// The parser's message (with line and column).
        message: String,
        /// Where the bad file was copied.
        kept_as: Option<PathBuf>,
        /// The previous version, if it is readable.
        backup: Option<ProfilesFile>,
    },
    /// Written by a newer Canopy: opened read-only.
    Newer {
        /// Its format version.
        found: u32,
    },
    /// The file exists but cannot be read (permissions...).
    Unreadable(String),
}

impl std::fmt::Display for OpenProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Corrupt {
                message,
                kept_as,
                backup,
            } => {
                write!(f, "The profiles file is damaged: {message}")?;
                if let Some(k) = kept_as {
                    write!(f, " It was kept as {}.", k.display())?;
                }
                if let Some(b) = backup {
                    write!(f, " A backup with {} profiles can be restored.", b.profiles.len())?;
                }
                Ok(())
            }
            Self::Newer { found } => write!(
                f,
                "The profiles file was written by a newer Canopy (format {found}); it is open read-only and will not be overwritten."
            ),
            Self::Unreadable(e) => write!(
                f,
                "The profiles file cannot be read: {e}. Changes will not be saved."
            ),
        }
    }
}

/// The outcome of opening the profiles file at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The profiles to show.
    pub file: ProfilesFile,
    /// The file did not exist: the first-run profiles are offered.
    pub first_run: bool,
    /// A problem to tell the user about; saving is off while it stands.
    pub problem: Option<OpenProblem>,
}

/// Opens the profiles file, never losing data: a damaged file is copied aside under a dated
/// name and its backup offered; a newer file is read-only.
pub fn open(path: &Path) -> Opened {
    let text = match read(path) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => {
            return Opened {
                file: ProfilesFile {
                    profiles: first_run_profiles(),
                    ..ProfilesFile::default()
                },
                first_run: true,
                problem: None,
            };
        }
        Err(e) => {
            return Opened {
                file: ProfilesFile::default(),
                first_run: false,
                problem: Some(OpenProblem::Unreadable(e.to_string())),
            };
        }
    };
    match parse(&text) {
        Ok(file) if file.version > FORMAT_VERSION => Opened {
            problem: Some(OpenProblem::Newer { found: file.version }),
            file,
            first_run: false,
        },
        Ok(file) => Opened {
            file,
            first_run: false,
            problem: None,
        },
        Err(e) => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            let aside = path.with_extension(format!("toml.damaged-{stamp}"));
            let kept_as = std::fs::copy(path, &aside).ok().map(|_| aside);
            let backup = load(&backup_path(path)).ok().filter(|b| !b.profiles.is_empty());
            Opened {
                file: ProfilesFile::default(),
                first_run: false,
                problem: Some(OpenProblem::Corrupt {
                    message: e,
                    kept_as,
                    backup,
                }),
            }
        }
    }
}

/// Where the previous version of the file is kept.
pub fn backup_path(path: &Path) -> PathBuf {
    path.with_extension("toml.bak")
}

/// The profiles offered on first start: the embedded sandbox (works offline) and well-known
/// public brokers.
pub fn first_run_profiles() -> Vec<Profile> {
    let public = |name: &str, url: &str| {
        let mut p = Profile {
            name: name.to_owned(),
            group: "Public brokers".to_owned(),
            ..Profile::default()
        };
        // The URLs are constants; a failure would only leave the defaults.
        let _ = p.apply_url(url);
        p
    };
    vec![
        Profile {
            name: "Local sandbox".to_owned(),
            group: "Local".to_owned(),
            host: "127.0.0.1".to_owned(),
            sandbox: Some(SandboxSettings::default()),
            subscriptions: vec![crate::profiles::profile::Subscription::new(
                "#",
                Default::default(),
            )],
            ..Profile::default()
        },
        Profile {
            name: "Local broker (localhost:1883)".to_owned(),
            group: "Local".to_owned(),
            ..Profile::default()
        },
        public("EMQX public — TCP", "mqtt://broker.emqx.io:1883"),
        public("EMQX public — TLS", "mqtts://broker.emqx.io:8883"),
        public("EMQX public — WebSocket", "ws://broker.emqx.io:8083/mqtt"),
        public("EMQX public — Secure WebSocket", "wss://broker.emqx.io:8084/mqtt"),
        public("test.mosquitto.org", "mqtt://test.mosquitto.org:1883"),
    ]
}

/// Finds a profile by name (exact, then case-insensitive).
pub fn find(file: &ProfilesFile, name: &str) -> Result<Profile, StoreError> {
    file.profiles
        .iter()
        .find(|p| p.name == name)
        .or_else(|| file.profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
        .cloned()
        .ok_or_else(|| StoreError::NotFound(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/profiles.toml");
        assert_eq!(load(&path).unwrap().profiles.len(), 0);
        let mut file = ProfilesFile::default();
        file.profiles.push(Profile::tcp("a.example", 1));
        save(&path, &file).unwrap();
        file.profiles.push(Profile::tcp("b.example", 2));
        save(&path, &file).unwrap();
        assert_eq!(load(&path).unwrap(), file);
        let backup = load(&path.with_extension("toml.bak")).unwrap();
        assert_eq!(backup.profiles.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_and_newer_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.toml");
        std::fs::write(&path, "version = 1\n[[profiles]\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        std::fs::write(&path, "version = 99\n").unwrap();
        assert!(matches!(
            load(&path),
            Err(StoreError::NewerVersion { found: 99, .. })
        ));
    }

    #[test]
    fn find_by_name() {
        let mut file = ProfilesFile::default();
        let mut p = Profile::tcp("h", 1);
        p.name = "Plant".into();
        file.profiles.push(p);
        assert_eq!(find(&file, "plant").unwrap().host, "h");
        assert!(matches!(find(&file, "x"), Err(StoreError::NotFound(_))));
    }
}
