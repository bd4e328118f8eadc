//! The local sandbox: an MQTT broker embedded in Canopy (rumqttd) on free loopback ports, so
//! the explorer can be shown with no network at all. Started on first use, it lives until the
//! process exits.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the embedded broker listens.
///
/// Only MQTT 3.1.1 is offered: rumqttd 0.20's MQTT 5 support is incomplete (it forwards no
/// MQTT 5 publishes to subscribers and a 3.1.1 listener crashes on MQTT 5 properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxPorts {
    /// MQTT 3.1.1 listener.
    pub v4: u16,
}

static SANDBOX: OnceLock<Result<SandboxPorts, String>> = OnceLock::new();

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

fn config(ports: SandboxPorts) -> Result<rumqttd::Config, String> {
    let text = format!(
        r#"
id = 0
[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 1000
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "sandbox-v4"
listen = "127.0.0.1:{v4}"
next_connection_delay_ms = 1
[v4.1.connections]
connection_timeout_ms = 60000
max_payload_size = 16777216
max_inflight_count = 500
dynamic_filters = true
"#,
        v4 = ports.v4,
    );
    toml::from_str(&text).map_err(|e| format!("sandbox configuration: {e}"))
}

/// Starts the sandbox broker if it is not running and returns its ports once it accepts
/// connections (blocking for at most a few seconds: call it off the UI thread).
pub fn ensure_started() -> Result<SandboxPorts, String> {
    SANDBOX
        .get_or_init(|| {
            let ports = SandboxPorts { v4: free_port()? };
            let config = config(ports)?;
            std::thread::Builder::new()
                .name("canopy-sandbox".into())
                .spawn(move || {
                    let mut broker = rumqttd::Broker::new(config);
                    // Runs until the process exits.
                    let _ = broker.start();
                })
                .map_err(|e| format!("cannot start the sandbox thread: {e}"))?;
            let deadline = Instant::now() + Duration::from_secs(5);
            for port in [ports.v4] {
                while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                    if Instant::now() > deadline {
                        return Err(format!("the sandbox broker did not open port {port}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Ok(ports)
        })
        .clone()
}

/// The sandbox's ports if it has started (without starting it), for showing where it runs.
pub fn running() -> Option<SandboxPorts> {
    SANDBOX.get().and_then(|started| started.as_ref().ok().copied())
}

/// For a sandbox profile: starts the sandbox and points the profile at it (plain TCP on
/// loopback, the listener of the profile's MQTT version). Other profiles are returned as is.
pub fn resolve(mut profile: crate::profiles::Profile) -> Result<crate::profiles::Profile, String> {
    if profile.sandbox.is_none() {
        return Ok(profile);
    }
    let ports = ensure_started()?;
    // The embedded broker (rumqttd) has no `$SYS` tree and drops clients that subscribe to one.
    profile.subscriptions.retain(|s| !s.filter.starts_with('$'));
    profile.host = "127.0.0.1".into();
    profile.transport = crate::profiles::profile::TransportKind::Tcp;
    profile.version = crate::profiles::profile::MqttVersion::V311;
    profile.port = ports.v4;
    Ok(profile)
}
