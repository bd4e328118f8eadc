//! The log: everything logged through the `log` facade (Canopy's notices and diagnostics,
//! rumqttc's own) goes to a file in the platform's cache directory, and for the window also
//! to stderr. `RUST_LOG` chooses what is kept (`RUST_LOG=debug`, `RUST_LOG=rumqttc=trace`).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// A log file past this size at start is moved to `canopy.log.1` (replacing the one before).
pub const ROTATE_AT: u64 = 5 * 1024 * 1024;

/// Who is logging: decides the default filter and whether stderr gets the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The explorer window: stderr and the file, Canopy's info and everyone's warnings.
    Window,
    /// A CLI command: the file only, warnings only, so the command's own stderr output is
    /// exactly what it always was.
    Cli,
}

/// `$XDG_CACHE_HOME/canopy/canopy.log` on Linux (the platform's cache directory elsewhere).
pub fn log_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "canopy").map(|d| d.cache_dir().join("canopy.log"))
}

/// Installs the subscriber; call once, first thing in `main`. Never fails the program: without
/// a writable cache directory there is no file, and that is said on stderr in window mode.
pub fn init(mode: Mode) {
    let default = match mode {
        Mode::Window => "warn,canopy=info",
        Mode::Cli => "warn",
    };
    // One filter per layer: `EnvFilter` is not `Clone`.
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let (file, file_problem) = match open_log_file() {
        Ok(file) => (Some(file), None),
        Err(why) => (None, Some(why)),
    };
    let file_layer = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(Mutex::new(f))
            .with_filter(filter())
    });
    let stderr_layer = (mode == Mode::Window).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    // Err: a subscriber is already set (a test harness); keep it.
    let installed = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .is_ok();
    if !installed {
        return;
    }
    log::info!("canopy {} started ({mode:?})", env!("CARGO_PKG_VERSION"));
    if let Some(why) = file_problem {
        log::warn!("no log file: {why}");
    }
}

/// Opens the log file for appending, rotating it first when it is past [`ROTATE_AT`].
fn open_log_file() -> Result<File, String> {
    let path = log_path().ok_or("no home directory")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let old = path.with_extension("log.1");
        // A failed rotation only means the file keeps growing; still log.
        std::fs::rename(&path, &old).ok();
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
}
