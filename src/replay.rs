//! Recording and replaying in the window, off the UI thread: a [`Recorder`] writes what a
//! connection receives to a JSON Lines file on its own thread, and [`replay`] publishes a
//! recording through the engine at the recorded pace, faster, or as fast as possible.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use crate::engine::{Command, CommandSender, ConnectionId, Token};
use crate::model::message::Message;
use crate::model::recording::{Line, Speed, parse_line, to_outgoing};

/// Writes received messages to a file on a thread of its own.
pub struct Recorder {
    tx: mpsc::Sender<Vec<Message>>,
    written: Arc<AtomicU64>,
    /// The file being written.
    pub path: PathBuf,
}

impl Recorder {
    /// Starts recording to `path` (created or truncated on the thread). `done` is called on that
    /// thread once the recording ends: the messages written, or why it failed.
    pub fn start(path: PathBuf, done: impl FnOnce(Result<u64, String>) + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel::<Vec<Message>>();
        let written = Arc::new(AtomicU64::new(0));
        let count = written.clone();
        let file_path = path.clone();
        std::thread::spawn(move || {
            let result = (|| {
                let file =
                    std::fs::File::create(&file_path).map_err(|e| crate::engine::errors::io_words(&e))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
                for batch in rx {
                    for m in &batch {
                        out.write_all(Line::from_message(m).to_json().as_bytes())
                            .and_then(|()| out.write_all(b"\n"))
                            .map_err(|e| crate::engine::errors::io_words(&e))?;
                    }
                    count.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                out.flush().map_err(|e| crate::engine::errors::io_words(&e))?;
                Ok(count.load(Ordering::Relaxed))
            })();
            done(result);
        });
        Self { tx, written, path }
    }

    /// Queues a batch for writing (a copy: the tree keeps the originals).
    /// Messages no subscription asked for are not recorded (see `Message::subscribed`).
    pub fn record(&self, batch: &[Message]) {
        let asked: Vec<Message> = batch.iter().filter(|m| m.subscribed).cloned().collect();
        if !asked.is_empty() {
            // Fails only once the writer thread ended, which reports its own error.
            let _ = self.tx.send(asked);
        }
    }

    /// Messages written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

/// How a replay is going.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayProgress {
    /// Messages handed to the engine.
    pub sent: u64,
    /// Unreadable lines skipped.
    pub skipped: u64,
    /// Finished (or stopped).
    pub finished: bool,
    /// Why it stopped early.
    pub error: Option<String>,
}

/// The shared state of a running replay.
#[derive(Debug, Default)]
pub struct ReplayControl {
    /// Set to stop the replay.
    pub stop: AtomicBool,
    /// Publish outcomes received so far (the window counts them), which bounds the backlog.
    pub outcomes: AtomicU64,
}

/// Publishes at most this many messages ahead of their outcomes.
const WINDOW: u64 = 10_000;

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Pace.
    pub speed: Speed,
    /// Publish under this first level (`replay` turns `a/b` into `replay/a/b`).
    pub prefix: Option<String>,
    /// Publish with this QoS instead of the recorded one.
    pub qos: Option<crate::model::message::QoS>,
    /// Keep the recorded retain flags (else publish everything unretained).
    pub retain: bool,
}

impl ReplayOptions {
    /// As recorded, at `speed`.
    pub fn at(speed: Speed) -> Self {
        Self {
            speed,
            prefix: None,
            qos: None,
            retain: true,
        }
    }
}

/// Replays `path` to connection `id` on the calling thread, reporting progress about every
/// 100 ms and at the end. Each publish gets its token from `next_token` (the window registers
/// it as the replay's); publish outcomes must be counted into `control.outcomes` by whoever
/// receives the engine's events.
pub fn replay(
    path: &std::path::Path,
    options: &ReplayOptions,
    id: ConnectionId,
    engine: &CommandSender,
    control: &ReplayControl,
    mut next_token: impl FnMut() -> Token,
    mut progress: impl FnMut(&ReplayProgress),
) -> ReplayProgress {
    let mut state = ReplayProgress::default();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            state.error = Some(format!(
                "cannot open {}: {}",
                path.display(),
                crate::engine::errors::io_words(&e)
            ));
            state.finished = true;
            progress(&state);
            return state;
        }
    };
    let start = Instant::now();
    let mut first: Option<SystemTime> = None;
    let mut last_report = Instant::now();
    for line in std::io::BufReader::new(file).lines() {
        let message = match line.map_err(|e| e.to_string()).and_then(|l| parse_line(&l)) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(_) => {
                state.skipped += 1;
                continue;
            }
        };
        let due = start
            + options
                .speed
                .due(*first.get_or_insert(message.received), message.received);
        loop {
            if control.stop.load(Ordering::Relaxed) {
                state.error = Some("stopped".into());
                state.finished = true;
                progress(&state);
                return state;
            }
            let backlog = state
                .sent
                .saturating_sub(control.outcomes.load(Ordering::Relaxed));
            let wait = due.saturating_duration_since(Instant::now());
            if wait.is_zero() && backlog < WINDOW {
                break;
            }
            std::thread::sleep(wait.clamp(Duration::from_millis(1), Duration::from_millis(50)));
        }
        let mut out = to_outgoing(message);
        if let Some(prefix) = &options.prefix {
            out.topic = format!("{}/{}", prefix.trim_end_matches('/'), out.topic);
        }
        if let Some(qos) = options.qos {
            out.qos = qos;
        }
        out.retain &= options.retain;
        if !engine.send(Command::Publish {
            id,
            token: next_token(),
            message: Box::new(out),
        }) {
            state.error = Some("the engine stopped".into());
            break;
        }
        state.sent += 1;
        if last_report.elapsed() > Duration::from_millis(100) {
            last_report = Instant::now();
            progress(&state);
        }
    }
    state.finished = true;
    progress(&state);
    state
}
