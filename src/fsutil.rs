//! Reading a file the user named, with a size cap: the one reader for profiles files,
//! certificates, keys and payload files.
//!
//! Why: `std::fs::read` on `/dev/zero` or an endless pipe never returns, a FIFO blocks in
//! `open` until a writer appears, and a 50 MB one-line profiles file froze the window. So the
//! file type and size are checked before reading, special files are refused (before `open`,
//! so a FIFO cannot block), and the read itself stops one byte past the limit, which also
//! catches a file that grows while it is read.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Largest profiles file read (far beyond any real list of profiles).
pub const PROFILES_LIMIT: u64 = 16 * 1024 * 1024;
/// Largest certificate or key file read (a long CA bundle is a few hundred KiB).
pub const PEM_LIMIT: u64 = 1024 * 1024;
/// Largest payload file read: the MQTT maximum packet size (268,435,455 bytes); the payload
/// itself must leave room for the packet header, which the caller checks.
pub const PAYLOAD_LIMIT: u64 = 268_435_455;

/// Why a capped read failed. The display names the file and, where it applies, the limit.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS refused (not found, permission denied, ...).
    #[error("{} cannot be read: {reason}", path.display())]
    Io {
        /// The file as given.
        path: PathBuf,
        /// The OS error in words.
        reason: String,
        /// Its kind, for callers that treat a missing file differently.
        kind: std::io::ErrorKind,
    },
    /// A device, FIFO, socket or directory: reading it could block or never end.
    #[error("{} is {kind}, not a regular file; give a regular file", path.display())]
    NotRegular {
        /// The file as given.
        path: PathBuf,
        /// What it is instead ("a FIFO (named pipe)", "a character device", ...).
        kind: &'static str,
    },
    /// Larger than the limit (or grew past it while being read).
    #[error("{} is larger than the limit of {} for {what}", path.display(), bytes_in_words(*limit))]
    TooLarge {
        /// The file as given.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
        /// What the file is for ("a profiles file", "a certificate or key", "a payload").
        what: &'static str,
    },
}

impl ReadError {
    /// Whether the file does not exist (a missing profiles file is an empty list).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { kind, .. } if *kind == std::io::ErrorKind::NotFound)
    }
}

/// `1 MiB`, `16 MiB`, or the exact byte count when it is not a whole number of MiB.
pub fn bytes_in_words(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn file_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// Reads a regular file of at most `limit` bytes; `what` says what it is for in the error.
pub fn read_capped(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let io = |e: std::io::Error| ReadError::Io {
        path: path.to_owned(),
        reason: crate::engine::errors::io_words(&e),
        kind: e.kind(),
    };
    let too_large = || ReadError::TooLarge {
        path: path.to_owned(),
        limit,
        what,
    };
    let check = |meta: &std::fs::Metadata| match file_kind(meta) {
        Some(kind) => Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind,
        }),
        None if meta.len() > limit => Err(too_large()),
        None => Ok(()),
    };
    // Before opening: opening a FIFO blocks until someone writes to it.
    check(&std::fs::metadata(path).map_err(io)?)?;
    let file = File::open(path).map_err(io)?;
    // Again on what was opened, in case the path was replaced in between.
    let meta = file.metadata().map_err(io)?;
    check(&meta)?;
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text (invalid sequences replaced, as a text editor would show
/// them).
pub fn read_capped_text(path: &Path, limit: u64, what: &'static str) -> Result<String, ReadError> {
    read_capped(path, limit, what).map(|b| match String::from_utf8(b) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5, "a test").unwrap(), b"12345");
        let err = read_capped(&path, 4, "a test").unwrap_err().to_string();
        assert!(
            err.contains("larger than the limit of 4 bytes for a test"),
            "{err}"
        );
        assert!(
            read_capped(&dir.path().join("missing"), 5, "x")
                .unwrap_err()
                .is_not_found()
        );
        let err = read_capped(dir.path(), 5, "x").unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_at_once() {
        let err = read_capped(Path::new("/dev/zero"), PEM_LIMIT, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/dev/zero is a character device"), "{err}");
    }

    #[test]
    fn limits_in_words() {
        assert_eq!(bytes_in_words(PROFILES_LIMIT), "16 MiB");
        assert_eq!(bytes_in_words(PAYLOAD_LIMIT), "268435455 bytes");
    }
}
