//! `canopy probe`: a short, non-destructive report card of a broker — which protocol versions
//! and features it supports and how fast it is — for the CLI now and the window later.
//!
//! [`run`] blocks and returns plain data ([`Report`]); it prints nothing (progress goes to the
//! caller's closure, rendering is in [`render`]). Every test message lives under a scratch
//! prefix `canopy-probe/<random>/`, and the retained ones are deleted at the end, also when a
//! step failed. Each step waits a bounded time and the whole probe has a time limit; a step
//! the limit cuts short is reported as unknown, not guessed.
//!
//! - `driver.rs`: a blocking driver over the engine, waiting for events per connection.
//! - `features.rs`: versions, QoS, retained, wildcards, `$SYS`, shared subscriptions, MQTT 5.
//! - `perf.rs`: the largest payload, latency and throughput.
//! - `report.rs`: the result; `render.rs`: text, Markdown and JSON.

mod driver;
mod features;
mod perf;
pub mod render;
pub mod report;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::Rng as _;

use crate::engine::{BrokerCapabilities, ConnectError, ConnectionId};
use crate::model::message::QoS;
use crate::profiles::profile::{MqttVersion, Profile};
use driver::Driver;
pub use report::{Check, Report, Support};

/// How thorough the probe is. [`ProbeOptions::default`] takes about 20 s on a local broker,
/// [`ProbeOptions::quick`] a few seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOptions {
    /// Messages per QoS for the latency figures.
    pub messages: u32,
    /// Length of each throughput burst.
    pub burst: Duration,
    /// Largest payload tried, in bytes (lowered to what the broker announces, if less).
    pub max_payload: usize,
    /// Payload sizes tried at most while searching for the largest (a bisection).
    pub payload_steps: u32,
    /// How long to wait for something that should come back (a retained message, a SUBACK)
    /// before calling it missing.
    pub wait: Duration,
    /// The whole probe's time limit, cleanup excepted (cleanup has its own few seconds).
    pub time_limit: Duration,
    /// Set from another thread to stop the probe between steps (the window's Cancel); the
    /// test messages are still deleted and [`run`] returns [`ProbeError::Cancelled`].
    pub cancel: CancelFlag,
}

/// A stop request shared with the thread running the probe. Clones share the flag; two
/// options are equal when they share it.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Asks the probe to stop after the step under way.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for CancelFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            messages: 200,
            burst: Duration::from_secs(3),
            max_payload: 16 * 1024 * 1024,
            payload_steps: 10,
            wait: Duration::from_secs(2),
            time_limit: Duration::from_secs(40),
            cancel: CancelFlag::default(),
        }
    }
}

impl ProbeOptions {
    /// A few seconds: fewer messages, shorter bursts, payloads up to 1 MiB.
    pub fn quick() -> Self {
        Self {
            messages: 50,
            burst: Duration::from_secs(1),
            max_payload: 1024 * 1024,
            payload_steps: 4,
            wait: Duration::from_secs(1),
            time_limit: Duration::from_secs(15),
            cancel: CancelFlag::default(),
        }
    }
}

/// What the probe is doing, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    /// Connecting with one protocol version pinned.
    Version(MqttVersion),
    /// QoS, retained messages, wildcards, shared subscriptions.
    Features,
    /// Subscribing to `$SYS/#`.
    Sys,
    /// Trying MQTT 5 features.
    Mqtt5,
    /// Searching for the largest payload.
    Payload,
    /// Measuring round trips at one QoS.
    Latency(QoS),
    /// A throughput burst at one QoS.
    Throughput(QoS),
    /// Deleting the retained test messages.
    Cleanup,
}

impl std::fmt::Display for ProbeStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeStep::Version(v) => write!(f, "probing {}…", v.label()),
            ProbeStep::Features => f.write_str("probing QoS, retained messages and wildcards…"),
            ProbeStep::Sys => f.write_str("probing $SYS…"),
            ProbeStep::Mqtt5 => f.write_str("probing MQTT 5 features…"),
            ProbeStep::Payload => f.write_str("probing the largest payload…"),
            ProbeStep::Latency(q) => write!(f, "probing latency QoS {q}…"),
            ProbeStep::Throughput(q) => write!(f, "probing throughput QoS {q}…"),
            ProbeStep::Cleanup => f.write_str("deleting the test messages…"),
        }
    }
}

/// Why there is no report at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No version could connect (or the broker is unreachable, refuses the credentials...).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The broker, without credentials.
        url: String,
        /// The reason of the first failure that settles it.
        reason: ConnectError,
    },
    /// The engine thread could not start.
    #[error("cannot start the engine: {0}")]
    Engine(#[from] std::io::Error),
    /// [`ProbeOptions::cancel`] was set; the test messages were deleted all the same.
    #[error("the probe was cancelled")]
    Cancelled,
}

/// The probe's connections on its one engine.
/// One id per pinned version: a new Connect on an id first waits for the old one to close.
const VERSION_IDS: [ConnectionId; 3] = [ConnectionId(11), ConnectionId(12), ConnectionId(13)];
const MAIN_ID: ConnectionId = ConnectionId(2);
const SYS_ID: ConnectionId = ConnectionId(3);
const SESSION_ID: ConnectionId = ConnectionId(4);
const PAYLOAD_ID: ConnectionId = ConnectionId(5);
const CLEANUP_ID: ConnectionId = ConnectionId(6);
const PERF_ID: ConnectionId = ConnectionId(7);

/// Time given to deleting the retained test messages, on top of the time limit.
const CLEANUP_TIME: Duration = Duration::from_secs(5);

/// What every step shares: the driver, the scratch prefix, the deadline.
pub(crate) struct Ctx<'a> {
    driver: Driver,
    /// The user's profile with the probe's own client ids, no subscriptions, no will and no
    /// reconnecting (a probe connection that fails is an answer, not something to retry).
    base: Profile,
    options: &'a ProbeOptions,
    /// `canopy-probe/<random>` (no trailing slash).
    prefix: String,
    /// A short random tag for client ids (MQTT 3.1 allows 23 characters).
    tag: String,
    deadline: Instant,
    /// The version the main connection speaks.
    version: MqttVersion,
    /// The version latency and throughput are measured with (see `features::versions`).
    perf_version: MqttVersion,
    capabilities: Option<Box<BrokerCapabilities>>,
    /// Topics that were published retained, deleted at the end.
    retained_topics: Vec<String>,
    /// Connections opened for the payload search so far (each gets its own client id).
    payload_connects: u32,
    /// A kept session to end at cleanup (its client id).
    session_client: Option<String>,
}

impl Ctx<'_> {
    /// A profile for one probe connection.
    fn profile(&self, version: MqttVersion, role: &str) -> Profile {
        let mut p = self.base.clone();
        p.version = version;
        p.client_id = format!("cp-{}-{role}", self.tag);
        p
    }

    /// A topic under the scratch prefix.
    fn topic(&self, rest: &str) -> String {
        format!("{}/{rest}", self.prefix)
    }

    /// `now + wait`, but never past the probe's deadline.
    fn until(&self, wait: Duration) -> Instant {
        (Instant::now() + wait).min(self.deadline)
    }

    /// Whether the time limit has passed or the probe was cancelled: either way the steps
    /// still to come are skipped.
    fn out_of_time(&self) -> bool {
        Instant::now() >= self.deadline || self.options.cancel.is_cancelled()
    }
}

/// Why a check was not made because of the time limit.
pub(crate) fn skipped() -> Check {
    Check::unknown("not tried: the probe's time limit was reached")
}

/// Probes the broker of `profile`. Blocks for up to `options.time_limit` plus a few seconds
/// of cleanup; `progress` hears each step as it starts.
pub fn run(
    profile: &Profile,
    options: &ProbeOptions,
    mut progress: impl FnMut(ProbeStep),
) -> Result<Report, ProbeError> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut rng = rand::rng();
    let tag = format!("{:08x}", rng.random::<u32>());
    let mut base = profile.clone();
    base.subscriptions.clear();
    base.last_will = None;
    base.clean_session = true;
    base.session_expiry_secs = 0;
    base.reconnect.enabled = false;
    let mut ctx = Ctx {
        driver: Driver::start()?,
        base,
        options,
        prefix: format!("canopy-probe/{tag}"),
        tag,
        deadline: started + options.time_limit,
        version: MqttVersion::V311,
        perf_version: MqttVersion::V311,
        capabilities: None,
        retained_topics: Vec::new(),
        session_client: None,
        payload_connects: 0,
    };
    let url = profile.url();
    let versions = features::versions(&mut ctx, &mut progress).map_err(|reason| {
        if options.cancel.is_cancelled() {
            ProbeError::Cancelled
        } else {
            ProbeError::Connect {
                url: url.clone(),
                reason,
            }
        }
    })?;
    let mut report = Report {
        broker: url,
        broker_software: None,
        started: started_at,
        duration_secs: 0.0,
        scratch_prefix: format!("{}/", ctx.prefix),
        tested_with: ctx.version.label().to_owned(),
        speed_tested_with: ctx.perf_version.label().to_owned(),
        versions,
        max_qos: skipped(),
        retained: skipped(),
        wildcard_plus: skipped(),
        wildcard_hash: skipped(),
        sys_topics: skipped(),
        shared_subscriptions: skipped(),
        mqtt5: None,
        max_payload: skipped(),
        latency: Vec::new(),
        throughput: Vec::new(),
        cleanup: Check::yes("nothing to delete"),
    };
    let main = ctx.profile(ctx.version, "main");
    match ctx.driver.connect(MAIN_ID, main, ctx.until(options.wait * 2)) {
        Ok(connected) => {
            ctx.capabilities = connected.capabilities;
            progress(ProbeStep::Features);
            features::basics(&mut ctx, &mut report);
            progress(ProbeStep::Sys);
            (report.sys_topics, report.broker_software) = features::sys(&mut ctx);
            if ctx.version == MqttVersion::V5 {
                progress(ProbeStep::Mqtt5);
                report.mqtt5 = Some(features::mqtt5(&mut ctx));
            }
            progress(ProbeStep::Payload);
            report.max_payload = perf::max_payload(&mut ctx);
            perf::latency_and_throughput(&mut ctx, &mut report, &mut progress);
        }
        Err(e) => {
            // The version check connected a moment ago: say why this time it did not.
            let why = format!("the main connection failed: {e}");
            for check in [
                &mut report.max_qos,
                &mut report.retained,
                &mut report.wildcard_plus,
                &mut report.wildcard_hash,
                &mut report.sys_topics,
                &mut report.shared_subscriptions,
                &mut report.max_payload,
            ] {
                *check = Check::unknown(why.clone());
            }
        }
    }
    if !ctx.retained_topics.is_empty() || ctx.session_client.is_some() {
        progress(ProbeStep::Cleanup);
    }
    report.cleanup = cleanup(&mut ctx);
    ctx.driver.disconnect(MAIN_ID);
    report.duration_secs = started.elapsed().as_secs_f64();
    // Cancelled: what was measured is cut short at an arbitrary step, not a report card.
    if options.cancel.is_cancelled() {
        return Err(ProbeError::Cancelled);
    }
    Ok(report)
}

/// Deletes every retained test message (on the main connection if it is still open, else on
/// a new one) and ends a kept session. Runs past the time limit, for a few seconds at most.
fn cleanup(ctx: &mut Ctx) -> Check {
    let until = Instant::now() + CLEANUP_TIME;
    if let Some(client_id) = ctx.session_client.take() {
        // A clean session with the same id ends the kept one at once.
        let mut p = ctx.profile(MqttVersion::V5, "x");
        p.client_id = client_id;
        if ctx.driver.connect(SESSION_ID, p, until).is_ok() {
            ctx.driver.disconnect(SESSION_ID);
        }
    }
    let topics = std::mem::take(&mut ctx.retained_topics);
    if topics.is_empty() {
        return Check::yes("nothing to delete");
    }
    let id = if ctx.driver.is_connected(MAIN_ID) {
        MAIN_ID
    } else {
        let p = ctx.profile(ctx.version, "clean");
        if let Err(e) = ctx.driver.connect(CLEANUP_ID, p, until) {
            return Check::no(format!(
                "could not reconnect to delete {} retained test message(s) under {}/: {e}",
                topics.len(),
                ctx.prefix
            ));
        }
        CLEANUP_ID
    };
    let tokens: Vec<crate::engine::Token> = topics.iter().map(|t| ctx.driver.clear_retained(id, t)).collect();
    let mut failed = Vec::new();
    for (topic, token) in topics.iter().zip(tokens) {
        match ctx.driver.outcome(id, token, until) {
            Ok(crate::engine::PublishOutcome::Failed(why)) => failed.push(format!("{topic}: {why}")),
            Ok(_) => {}
            Err(missed) => failed.push(format!("{topic}: {missed}")),
        }
    }
    if id == CLEANUP_ID {
        ctx.driver.disconnect(CLEANUP_ID);
    }
    if failed.is_empty() {
        Check::yes(format!("{} retained test message(s) deleted", topics.len()))
            .with_value(topics.len() as u64)
    } else {
        Check::no(format!("not deleted: {}", failed.join("; ")))
    }
}
