//! The MQTT engine: a tokio runtime on its own thread running one task per open connection.
//!
//! The caller (GUI or CLI) talks to it only through [`Command`]s and receives [`Event`]s; this
//! file is the whole protocol between the threads.

pub mod backoff;
mod budget;
mod connection;
pub mod errors;
pub mod options;
pub mod proxy;
mod session;
pub mod tls;
pub mod trace;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

pub use errors::{ConnectError, ErrorKind};

pub use self::options::ConnectOptions;
use self::options::{MqttVersion, Subscription};
pub use self::trace::TraceLevel;
use crate::model::message::{Message, OutgoingMessage, QoS};
use crate::model::timeline::PacketEntry;

/// Names one connection for as long as the engine runs. Chosen by the caller (the window
/// counts up; the CLI has one); never reused while the connection exists, so a command or
/// event that outlives its tab can never reach another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ConnectionId(pub u64);

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Names one publish (or clear) so that its outcome finds whoever asked for it: the engine
/// echoes it in [`Event::Published`] and never reads it. Callers allocate them; the window
/// keeps a map from token to origin (panel, clear job, replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

/// A request from the UI or CLI to the engine.
#[derive(Debug, Clone)]
pub enum Command {
    /// Open a connection with these options (replacing any connection with the same id).
    Connect {
        /// The caller's id for this connection.
        id: ConnectionId,
        /// The settings to use (cloned; later edits do not affect the open connection).
        options: Box<ConnectOptions>,
    },
    /// Close a connection gracefully: in-flight QoS 1/2 publishes are acknowledged first
    /// (bounded wait), anything that cannot be delivered is reported as failed.
    Disconnect {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
    },
    /// Add subscriptions (they are also made again after every reconnect).
    Subscribe {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
        /// Sent in one SUBSCRIBE; a filter the broker refuses is reported in
        /// [`Event::Subscribed`] without affecting the others.
        subscriptions: Vec<Subscription>,
        /// MQTT 5 subscription identifier for these subscriptions.
        subscription_id: Option<usize>,
    },
    /// Remove subscriptions.
    Unsubscribe {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
        /// The filters to remove, exactly as subscribed.
        filters: Vec<String>,
    },
    /// Publish a message. Its outcome is reported with [`Event::Published`] carrying `token`.
    Publish {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
        /// The caller's token, echoed in the outcome event.
        token: Token,
        /// Boxed to keep `Command` small on the channel (payloads can be large).
        message: Box<OutgoingMessage>,
    },
    /// Cut a reconnect wait short: try again now (the "Retry now" button). Ignored unless
    /// the connection is waiting to reconnect.
    RetryNow {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
    },
    /// Report more or fewer packets as [`Event::Trace`] from now on (the window asks for
    /// every packet while its timeline is open, and only the control packets otherwise).
    Trace {
        /// The connection; ignored when none is open.
        id: ConnectionId,
        /// What to report from now on.
        level: TraceLevel,
    },
    /// Delete the retained message of a topic (publishes an empty retained payload).
    ClearRetained {
        /// The connection; for an id with none open, a publish fails at once and the
        /// rest is ignored.
        id: ConnectionId,
        /// The caller's token, echoed in the outcome event.
        token: Token,
        /// The topic whose retained message goes.
        topic: String,
    },
}

/// The state of one connection, reported whenever it changes.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    /// Opening the network connection and waiting for CONNACK.
    Connecting,
    /// Connected and subscribed.
    Connected {
        /// Whether the broker resumed a stored session.
        session_present: bool,
        /// The protocol version in use (never `Auto`: what negotiation settled on).
        version: MqttVersion,
        /// How the version was reached when it was not the first choice, in words ("the
        /// broker refused MQTT 5.0"); also other adjustments made to connect (a shortened
        /// client id for MQTT 3.1).
        negotiation: Option<String>,
        /// What an MQTT 5 broker announced in its CONNACK (limits and optional features);
        /// `None` on MQTT 3.1.1 and 3.1, whose CONNACK has no properties.
        capabilities: Option<Box<BrokerCapabilities>>,
    },
    /// The connection was lost or could not be made; waiting before the next attempt.
    Reconnecting {
        /// The attempt about to be made (1-based).
        attempt: u32,
        /// Attempts allowed by the policy (0 = forever).
        max_attempts: u32,
        /// Time until the attempt.
        next_in: Duration,
        /// Why the previous attempt or the connection failed.
        last_error: ConnectError,
    },
    /// Closed at the user's request.
    Disconnected,
    /// Gave up: the reason, in words.
    Failed {
        /// Why the engine stopped trying.
        reason: ConnectError,
    },
}

/// The properties of an MQTT 5 CONNACK that describe the broker (MQTT 5.0 §3.2.2.3). A field
/// is `None` when the broker left the property out, which means the spec's default: maximum
/// QoS 2, retain / wildcard / subscription identifiers / shared subscriptions available, no
/// topic aliases, receive maximum 65,535, no packet size limit beyond the protocol's, and the
/// client's own keep-alive and session expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BrokerCapabilities {
    /// Session expiry in seconds the broker imposes instead of the one the client asked for.
    pub session_expiry_secs: Option<u32>,
    /// QoS 1 and 2 publishes the broker accepts in flight from this client at once.
    pub receive_maximum: Option<u16>,
    /// Highest QoS the broker accepts in a PUBLISH (0 or 1; absent means 2).
    pub maximum_qos: Option<u8>,
    /// Whether the broker keeps retained messages.
    pub retain_available: Option<bool>,
    /// Largest packet in bytes the broker accepts (the whole packet, not only the payload).
    pub maximum_packet_size: Option<u32>,
    /// The client id the broker chose, when the client sent none.
    pub assigned_client_id: Option<String>,
    /// Topic aliases the client may use towards the broker (absent: none).
    pub topic_alias_maximum: Option<u16>,
    /// Whether filters with `+` and `#` are accepted.
    pub wildcard_subscriptions: Option<bool>,
    /// Whether SUBSCRIBE may carry a subscription identifier.
    pub subscription_identifiers: Option<bool>,
    /// Whether `$share/<group>/<filter>` subscriptions are accepted.
    pub shared_subscriptions: Option<bool>,
    /// Keep-alive in seconds the broker imposes instead of the client's.
    pub server_keep_alive_secs: Option<u16>,
}

impl ConnectionState {
    /// Whether the connection task has ended (disconnected or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Disconnected | Self::Failed { .. })
    }
}

/// What happened to a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// QoS 0: written to the network.
    Sent,
    /// QoS 1/2: acknowledged by the broker (PUBACK / PUBCOMP).
    Acknowledged,
    /// Not delivered: why.
    Failed(String),
}

/// The broker's answer to one filter of a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeResult {
    /// The filter as requested.
    pub filter: String,
    /// Granted QoS, or the refusal in words.
    pub granted: Result<QoS, String>,
}

/// A report from the engine.
#[derive(Debug, Clone)]
pub enum Event {
    /// A connection changed state.
    State {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// Its new state.
        state: ConnectionState,
    },
    /// Messages received, oldest first (batched: one event per burst, not per message).
    Messages {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// At most a few thousand (the engine batches per read burst); each counts against
        /// the queue budget until taken with [`Engine::try_recv`] / [`Engine::recv_timeout`].
        messages: Vec<Message>,
    },
    /// The outcome of a [`Command::Publish`] or [`Command::ClearRetained`].
    Published {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// The token given with the command.
        token: Token,
        /// Exactly one per publish: a connection that closes fails what it still holds.
        outcome: PublishOutcome,
    },
    /// The broker answered a SUBSCRIBE (one result per filter).
    Subscribed {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// Per-filter results.
        results: Vec<SubscribeResult>,
    },
    /// The broker acknowledged an UNSUBSCRIBE.
    Unsubscribed {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// The filters the UNSUBSCRIBE named (the broker does not say which existed).
        filters: Vec<String>,
    },
    /// Packets the connection sent and received, oldest first, as far as its
    /// [`TraceLevel`] asks (batched like messages; none at all with `TraceLevel::Off`).
    Trace {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// At most a few thousand per event.
        entries: Vec<PacketEntry>,
    },
    /// A problem that does not change the connection state (a bad filter, a full queue...).
    Error {
        /// The connection, as named in its [`Command::Connect`].
        id: ConnectionId,
        /// What went wrong, in words.
        message: String,
    },
}

/// Called by the engine after it queued events, e.g. to wake an idle UI.
pub type Notifier = Arc<dyn Fn() + Send + Sync>;

/// Where connection tasks send their events.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: std_mpsc::Sender<Event>,
    notify: Notifier,
    /// Bytes of received messages queued for the consumer: connection tasks stop reading
    /// their sockets while it is spent (backpressure), the receiving side gives it back.
    pub(crate) budget: Arc<budget::Budget>,
}

impl EventSink {
    pub(crate) fn send(&self, event: Event) {
        // The receiver is gone only when the caller dropped the engine: nothing to tell.
        if self.tx.send(event).is_ok() {
            (self.notify)();
        }
    }
}

enum Control {
    Command(Command),
    Shutdown,
}

/// Sends commands to the engine from any thread (a replay, say).
#[derive(Clone)]
pub struct CommandSender(mpsc::UnboundedSender<Control>);

impl CommandSender {
    /// Sends a command; false once the engine has shut down.
    pub fn send(&self, command: Command) -> bool {
        self.0.send(Control::Command(command)).is_ok()
    }
}

/// Handle to the engine thread. Dropping it closes every connection gracefully.
pub struct Engine {
    control: mpsc::UnboundedSender<Control>,
    events: std_mpsc::Receiver<Event>,
    budget: Arc<budget::Budget>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine thread. `notify` is called whenever events are queued.
    pub fn start(notify: Notifier) -> std::io::Result<Self> {
        Self::with_queue_limit(notify, budget::DEFAULT_QUEUE_BYTES)
    }

    /// Starts the engine with at most `queue_bytes` of received messages waiting for the
    /// consumer (payload and topic bytes plus a fixed overhead per message). When the
    /// consumer falls that far behind, the engine stops reading from the brokers, so TCP
    /// pushes back and memory does not grow with the lag.
    pub fn with_queue_limit(notify: Notifier, queue_bytes: usize) -> std::io::Result<Self> {
        let (control, mut control_rx) = mpsc::unbounded_channel::<Control>();
        let (tx, events) = std_mpsc::channel();
        let budget = Arc::new(budget::Budget::new(queue_bytes));
        let sink = EventSink {
            tx,
            notify,
            budget: budget.clone(),
        };
        // One thread for every connection: the work is I/O and parsing, and keeping it on one
        // thread saves the wake-ups between workers a multi-threaded runtime pays per packet
        // (measured: ~10% of a core at 130,000 msg/s).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .thread_name("canopy-engine")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("canopy-engine".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut connections: HashMap<ConnectionId, connection::Handle> = HashMap::new();
                    while let Some(control) = control_rx.recv().await {
                        match control {
                            Control::Command(command) => {
                                route(&mut connections, &sink, command);
                            }
                            Control::Shutdown => break,
                        }
                    }
                    // All connections close at once, not one after another (each may take
                    // seconds to have its in-flight publishes acknowledged).
                    let mut closing = tokio::task::JoinSet::new();
                    for (_, handle) in connections.drain() {
                        closing.spawn(handle.close_and_wait(Duration::from_secs(6)));
                    }
                    while closing.join_next().await.is_some() {}
                });
                runtime.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(Self {
            control,
            events,
            budget,
            thread: Some(thread),
        })
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        // Fails only after shutdown, when there is nobody left to act on it.
        let _ = self.control.send(Control::Command(command));
    }

    /// A sender for other threads.
    pub fn sender(&self) -> CommandSender {
        CommandSender(self.control.clone())
    }

    /// The next event if one is queued; never blocks.
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok().inspect(|e| self.taken(e))
    }

    /// Waits up to `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok().inspect(|e| self.taken(e))
    }

    /// Gives the queue budget of a batch of messages back once the consumer has it.
    fn taken(&self, event: &Event) {
        if let Event::Messages { messages, .. } = event {
            self.budget.release(messages);
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn route(connections: &mut HashMap<ConnectionId, connection::Handle>, sink: &EventSink, command: Command) {
    connections.retain(|_, h| !h.is_finished());
    let id = match &command {
        Command::Connect { id, .. }
        | Command::Disconnect { id }
        | Command::Subscribe { id, .. }
        | Command::Unsubscribe { id, .. }
        | Command::Publish { id, .. }
        | Command::RetryNow { id }
        | Command::Trace { id, .. }
        | Command::ClearRetained { id, .. } => *id,
    };
    match command {
        Command::Connect { id, options } => {
            let previous = connections.remove(&id);
            let handle = connection::spawn(id, *options, sink.clone(), previous);
            connections.insert(id, handle);
        }
        other => match connections.get(&id) {
            Some(handle) => handle.send(other),
            None => {
                if let Command::Publish { token, .. } | Command::ClearRetained { token, .. } = other {
                    sink.send(Event::Published {
                        id,
                        token,
                        outcome: PublishOutcome::Failed("not connected".into()),
                    });
                } else if !matches!(
                    other,
                    Command::Disconnect { .. } | Command::RetryNow { .. } | Command::Trace { .. }
                ) {
                    sink.send(Event::Error {
                        id,
                        message: "not connected".into(),
                    });
                }
            }
        },
    }
}
