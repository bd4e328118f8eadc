//! The profiles file: `profiles.toml` in the platform's config directory, shared by the GUI
//! and the CLI.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::profile::Profile;

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
    /// Reading or writing failed.
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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ProfilesFile::default()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let file: ProfilesFile = toml::from_str(&text).map_err(|e| StoreError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if file.version > FORMAT_VERSION {
        return Err(StoreError::NewerVersion {
            path: path.to_owned(),
            found: file.version,
        });
    }
    Ok(file)
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
        let backup = path.with_extension("toml.bak");
        std::fs::copy(path, &backup).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
