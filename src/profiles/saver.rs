//! The profile saver: a thread that owns every write of the profiles file. It saves
//! atomically, keeps passwords in the credential store, notices when another Canopy window
//! changed the file and merges instead of overwriting.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::merge::merge;
use super::profile::PasswordStorage;
use super::secrets;
use super::store::{self, FORMAT_VERSION, ProfilesFile, for_disk};

/// How often the file is checked for changes made by another window.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(1500);

/// What the saver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SaverEvent {
    /// The file could not be written: why (the profiles stay in memory).
    Failed(String),
    /// Another window changed the file; the merged list is now on disk and should be shown.
    Merged {
        /// The list to show.
        file: ProfilesFile,
        /// What happened, in words.
        note: String,
    },
    /// Passwords could not be put in the credential store: why.
    SecretsUnavailable(String),
}

enum Message {
    Save(ProfilesFile),
    /// Write what is queued, then end the thread.
    Stop,
}

/// Handle to the saver thread.
pub struct Saver {
    tx: Sender<Message>,
    /// The thread, until [`Saver::close`] joined it.
    thread: Option<JoinHandle<()>>,
    /// Says the thread has finished (dropped when it returns), so closing can wait with a
    /// time limit: `JoinHandle::join` alone could wait forever on a hung credential store.
    finished: Receiver<()>,
}

impl Saver {
    /// Starts the saver for `path`. `base` is the list as read from disk (so changes made by
    /// others later are recognised). `use_keyring` stores passwords in the credential store.
    pub fn start(
        path: PathBuf,
        base: ProfilesFile,
        use_keyring: bool,
        on_event: impl Fn(SaverEvent) + Send + 'static,
    ) -> Saver {
        let (tx, rx) = channel();
        let (finished_tx, finished) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("canopy-profiles".into())
            .spawn(move || {
                // Dropped when `run` returns, however it returns: that is the acknowledgement.
                let _finished = finished_tx;
                run(path, for_disk(&base), use_keyring, rx, on_event);
            });
        if let Err(e) = &thread {
            log::error!("the profile saver thread could not start: {e}; profiles will not be saved");
        }
        Saver {
            tx,
            thread: thread.ok(),
            finished,
        }
    }

    /// Writes what is queued and ends the thread, waiting at most `timeout` for it (on exit,
    /// so the last edit is on disk before the process ends). Returns whether the thread
    /// finished in time.
    pub fn close(&mut self, timeout: Duration) -> bool {
        let Some(thread) = self.thread.take() else {
            return true;
        };
        self.tx.send(Message::Stop).ok();
        match self.finished.recv_timeout(timeout) {
            // Disconnected: the thread has returned.
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                if thread.join().is_err() {
                    log::error!("the profile saver thread panicked");
                }
                true
            }
            Err(RecvTimeoutError::Timeout) => {
                log::warn!("the profile saver did not finish within {timeout:?}; the last edit may be lost");
                false
            }
        }
    }

    /// Queues a save of the whole list (only the newest queued list is written).
    pub fn save(&self, file: ProfilesFile) {
        let _ = self.tx.send(Message::Save(file));
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
    }
}

/// The file's text and its parsed list.
fn read_disk(path: &std::path::Path) -> Option<Result<(String, ProfilesFile), String>> {
    match super::store::read(path) {
        Ok(text) => Some(super::store::parse(&text).map(|f| (text, f))),
        Err(e) if e.is_not_found() => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

fn run(
    path: PathBuf,
    mut base: ProfilesFile,
    use_keyring: bool,
    rx: Receiver<Message>,
    on_event: impl Fn(SaverEvent),
) {
    // The newest list the window sent, in full (with passwords).
    let mut ours: Option<ProfilesFile> = None;
    let mut stored_secrets: HashMap<super::profile::ProfileId, Option<String>> = HashMap::new();
    let mut secrets_warned = false;
    // The file's text as last read or written: an unchanged text is never "someone else's
    // change", even when parsing it fills fields the file leaves out with fresh random values
    // (a hand-written file without client ids).
    let mut seen = super::store::read(&path).ok();
    loop {
        let message = match rx.recv_timeout(WATCH_INTERVAL) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut wants_write = false;
        // Set by a Stop queued behind a Save: the save is written first, then the loop ends.
        let mut stop_after = false;
        match message {
            Some(Message::Stop) => return,
            Some(Message::Save(mut file)) => {
                while let Ok(next) = rx.try_recv() {
                    match next {
                        Message::Save(newer) => file = newer,
                        Message::Stop => {
                            stop_after = true;
                            break;
                        }
                    }
                }
                ours = Some(file);
                wants_write = true;
            }
            None => {}
        }
        // Did someone else change the file since we last read or wrote it?
        let theirs = match read_disk(&path) {
            Some(Ok((text, _))) if seen.as_deref() == Some(text.as_str()) => None,
            Some(Ok((text, disk))) => {
                seen = Some(text);
                (for_disk(&disk) != base).then_some(disk)
            }
            Some(Err(e)) if wants_write => {
                on_event(SaverEvent::Failed(format!(
                    "the profiles file changed on disk and cannot be read ({e}); not overwritten"
                )));
                if stop_after {
                    return;
                }
                continue;
            }
            _ => None,
        };
        if let Some(theirs) = theirs {
            if theirs.version > FORMAT_VERSION {
                on_event(SaverEvent::Failed(
                    "another window saved the profiles with a newer Canopy; not overwritten".into(),
                ));
                if stop_after {
                    return;
                }
                continue;
            }
            let ours_list = ours.clone().unwrap_or_else(|| base.clone());
            let merged = merge(&base.profiles, &for_disk(&ours_list).profiles, &theirs.profiles);
            // Keep the passwords we hold for profiles that survived the merge.
            let mut file = ProfilesFile {
                version: FORMAT_VERSION,
                profiles: merged.profiles,
            };
            for p in &mut file.profiles {
                if p.password.is_none()
                    && let Some(o) = ours_list.profiles.iter().find(|o| o.id == p.id)
                {
                    p.password.clone_from(&o.password);
                }
            }
            let mut note = String::from("The profiles were changed in another Canopy window");
            if merged.taken > 0 {
                note.push_str(&format!(
                    "; {} change(s) from there were taken over",
                    merged.taken
                ));
            }
            if !merged.conflicts.is_empty() {
                note.push_str(&format!(
                    "; both windows changed {}: both versions are kept",
                    merged.conflicts.join(", ")
                ));
            }
            note.push('.');
            ours = Some(file.clone());
            wants_write = true;
            on_event(SaverEvent::Merged { file, note });
        }
        if !wants_write {
            continue;
        }
        let Some(full) = &ours else { continue };
        if use_keyring {
            for p in &full.profiles {
                if p.password_storage != PasswordStorage::Keyring {
                    continue;
                }
                if stored_secrets.get(&p.id) == Some(&p.password) {
                    continue;
                }
                // Nothing to store and nothing stored by us: no need to touch the store (and
                // no false alarm on machines without one).
                if p.password.is_none() && !stored_secrets.contains_key(&p.id) {
                    continue;
                }
                let result = match &p.password {
                    Some(pw) => secrets::store(&p.id, pw),
                    None => secrets::delete(&p.id),
                };
                match result {
                    Ok(()) => {
                        stored_secrets.insert(p.id.clone(), p.password.clone());
                    }
                    Err(e) => {
                        if !secrets_warned {
                            secrets_warned = true;
                            on_event(SaverEvent::SecretsUnavailable(e));
                        }
                        break;
                    }
                }
            }
        }
        let disk = for_disk(full);
        match store::save(&path, &disk) {
            Ok(()) => {
                base = disk;
                seen = super::store::read(&path).ok();
            }
            Err(e) => on_event(SaverEvent::Failed(e.to_string())),
        }
        if stop_after {
            return;
        }
    }
}
