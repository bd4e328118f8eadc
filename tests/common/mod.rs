//! Test harness: a real mosquitto on free loopback ports with every transport, certificates
//! generated at test time, and helpers to drive the engine and wait with clear failures.

#![allow(dead_code)]

pub mod quirky;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy::engine::{self, ConnectionId, ConnectionState, Engine, Event, Token};
use canopy::model::message::Message;
use canopy::profiles::profile::{Profile, TransportKind};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// User and password accepted by the password listener.
pub const USER: &str = "alice";
/// Password of [`USER`].
pub const PASSWORD: &str = "wonderland";

/// Files of the generated PKI.
pub struct Pki {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub wrong_name_cert: PathBuf,
    pub wrong_name_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub untrusted_client_cert: PathBuf,
    pub untrusted_client_key: PathBuf,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

fn leaf(
    dir: &Path,
    name: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> (PathBuf, PathBuf) {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("sans");
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![usage];
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().expect("key");
    let cert = p.signed_by(&key, issuer).expect("sign");
    let cert_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (cert_path, key_path)
}

impl Pki {
    /// Generates a CA, a server certificate for 127.0.0.1/localhost, one for another name,
    /// a client certificate, and a second CA with a client certificate of its own.
    pub fn generate(dir: &Path) -> Pki {
        let ca_key = KeyPair::generate().expect("ca key");
        let ca_cert = ca_params("Canopy Test CA").self_signed(&ca_key).expect("ca");
        let ca = dir.join("ca.crt");
        std::fs::write(&ca, ca_cert.pem()).expect("write ca");
        let issuer = Issuer::new(ca_params("Canopy Test CA"), ca_key);

        let other_key = KeyPair::generate().expect("other key");
        let other_cert = ca_params("Other CA").self_signed(&other_key).expect("other ca");
        let other_ca = dir.join("other-ca.crt");
        std::fs::write(&other_ca, other_cert.pem()).expect("write other ca");
        let other_issuer = Issuer::new(ca_params("Other CA"), other_key);

        let (server_cert, server_key) = leaf(
            dir,
            "server",
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        );
        let (wrong_name_cert, wrong_name_key) = leaf(
            dir,
            "wrong-name",
            &["broker.invalid"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        );
        let (client_cert, client_key) = leaf(
            dir,
            "client",
            &["client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        );
        let (untrusted_client_cert, untrusted_client_key) = leaf(
            dir,
            "untrusted-client",
            &["client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &other_issuer,
        );
        Pki {
            ca,
            other_ca,
            server_cert,
            server_key,
            wrong_name_cert,
            wrong_name_key,
            client_cert,
            client_key,
            untrusted_client_cert,
            untrusted_client_key,
        }
    }
}

/// Loopback ports of every listener.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub tcp: u16,
    pub ws: u16,
    pub tls: u16,
    pub mtls: u16,
    pub wss: u16,
    pub auth: u16,
    pub wrong_name: u16,
}

/// `n` distinct free loopback ports, never handed out twice in this process (brokers of
/// tests running in parallel must not collide, and the kernel may offer a port just released).
pub fn free_ports(n: usize) -> Vec<u16> {
    static USED: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut used = USED.lock().unwrap_or_else(|e| e.into_inner());
    let mut held = Vec::new();
    let mut ports = Vec::new();
    while ports.len() < n {
        let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
        let port = listener.local_addr().expect("address").port();
        if !used.contains(&port) {
            used.push(port);
            ports.push(port);
        }
        held.push(listener);
    }
    ports
}

/// A running mosquitto, killed on drop.
pub struct Broker {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    pub ports: Ports,
    config: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// Starts mosquitto with TCP, WS, TLS, mutual TLS, WSS, password and wrong-name listeners.
    pub fn start() -> Broker {
        Self::start_with("persistence false\n")
    }

    /// Like `start`, with sessions and queued messages saved to disk after every change, so
    /// they survive `kill -9` (for the chaos tests).
    pub fn persistent() -> Broker {
        Self::start_with(
            "persistence true\nautosave_on_changes true\nautosave_interval 1\npersistence_location PERSIST_DIR/\n",
        )
    }

    fn start_with(persistence: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::generate(dir.path());
        let p = free_ports(7);
        let ports = Ports {
            tcp: p[0],
            ws: p[1],
            tls: p[2],
            mtls: p[3],
            wss: p[4],
            auth: p[5],
            wrong_name: p[6],
        };
        let passwd = dir.path().join("passwd");
        let status = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args([USER, PASSWORD])
            .status()
            .expect("mosquitto_passwd must be installed (apt-get install mosquitto)");
        assert!(status.success(), "mosquitto_passwd failed");
        let d = |p: &Path| p.display().to_string();
        let tls = |cert: &Path, key: &Path| {
            format!(
                "cafile {}\ncertfile {}\nkeyfile {}\n",
                d(&pki.ca),
                d(cert),
                d(key)
            )
        };
        let config = format!(
            "per_listener_settings true\nuser root\n{persistence}sys_interval 1\nmax_queued_messages 0\nlog_dest file {log}\nlog_type all\n\
             listener {tcp} 127.0.0.1\nallow_anonymous true\n\
             listener {ws} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n\
             listener {tlsp} 127.0.0.1\nallow_anonymous true\n{server_tls}\
             listener {mtls} 127.0.0.1\nallow_anonymous true\n{server_tls}require_certificate true\n\
             listener {wss} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n{server_tls}\
             listener {auth} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n\
             listener {wrong} 127.0.0.1\nallow_anonymous true\n{wrong_tls}",
            persistence = persistence.replace("PERSIST_DIR", &d(dir.path())),
            log = d(&dir.path().join("mosquitto.log")),
            tcp = ports.tcp,
            ws = ports.ws,
            tlsp = ports.tls,
            mtls = ports.mtls,
            wss = ports.wss,
            auth = ports.auth,
            wrong = ports.wrong_name,
            server_tls = tls(&pki.server_cert, &pki.server_key),
            wrong_tls = tls(&pki.wrong_name_cert, &pki.wrong_name_key),
            passwd = d(&passwd),
        );
        let config_path = dir.path().join("mosquitto.conf");
        std::fs::write(&config_path, config).expect("write config");
        let mut broker = Broker {
            dir,
            pki,
            ports,
            config: config_path,
            child: None,
        };
        broker.spawn();
        broker
    }

    fn spawn(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (apt-get install mosquitto)");
        self.child = Some(child);
        let p = self.ports;
        for port in [p.tcp, p.ws, p.tls, p.mtls, p.wss, p.auth, p.wrong_name] {
            wait_for_port(port, &self.log());
        }
    }

    /// Kills the broker (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same ports.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The broker's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// A profile for the plain TCP listener.
    pub fn tcp_profile(&self) -> Profile {
        quick(Profile::tcp("127.0.0.1", self.ports.tcp))
    }

    /// A profile for a listener of the given transport, trusting the test CA.
    pub fn profile(&self, transport: TransportKind) -> Profile {
        let mut p = self.tcp_profile();
        p.transport = transport;
        p.port = match transport {
            TransportKind::Tcp => self.ports.tcp,
            TransportKind::Tls => self.ports.tls,
            TransportKind::Ws => self.ports.ws,
            TransportKind::Wss => self.ports.wss,
        };
        if transport.is_tls() {
            p.tls.ca_file = Some(self.pki.ca.clone());
        }
        p
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, log: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("mosquitto did not open port {port} within 10 s; log:\n{log}");
}

/// A profile with no default subscriptions and a fast reconnect policy, for tests.
pub fn quick(mut p: Profile) -> Profile {
    p.subscriptions.clear();
    p.reconnect.first_delay_ms = 100;
    p.reconnect.max_delay_ms = 500;
    p.reconnect.max_attempts = 0;
    p
}

/// An engine plus everything it reported, with waiting helpers.
pub struct Client {
    pub engine: Engine,
    pub events: Vec<Event>,
}

impl Client {
    pub fn new() -> Client {
        Client {
            engine: Engine::start(Arc::new(|| {})).expect("engine"),
            events: Vec::new(),
        }
    }

    pub fn send(&self, command: engine::Command) {
        self.engine.send(command);
    }

    /// Opens connection `id` with `profile`.
    pub fn connect(&mut self, id: u64, profile: Profile) {
        self.send(engine::Command::Connect {
            id: ConnectionId(id),
            options: Box::new(profile.connect_options()),
        });
    }

    /// Waits until `what` holds over the events seen so far; panics naming `description`.
    pub fn wait_until(&mut self, description: &str, timeout: Duration, what: impl Fn(&[Event]) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if what(&self.events) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timed out after {timeout:?} waiting for {description}; states seen: {:#?}",
                    self.states(None)
                );
            }
            if let Some(e) = self.engine.recv_timeout(left.min(Duration::from_millis(50))) {
                self.events.push(e);
            }
        }
    }

    /// The states reported for connection `id` (all connections with `None`).
    pub fn states(&self, id: Option<u64>) -> Vec<ConnectionState> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::State { id: i, state } if id.is_none_or(|x| ConnectionId(x) == *i) => {
                    Some(state.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Messages received on connection `id`.
    pub fn messages(&self, id: u64) -> Vec<&Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Messages { id: i, messages } if *i == ConnectionId(id) => Some(messages.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Waits for `id` to be connected (a new Connected state after `after` states).
    pub fn wait_connected(&mut self, id: u64) {
        self.wait_until(&format!("connection {id} to be connected"), Duration::from_secs(15), |ev| {
            ev.iter().any(|e| matches!(e, Event::State { id: i, state: ConnectionState::Connected { .. } } if *i == ConnectionId(id)))
        });
    }

    /// The version connection 1 settled on, and why when it was not the first tried.
    pub fn connected_version(&self) -> (canopy::profiles::profile::MqttVersion, Option<String>) {
        self.states(Some(1))
            .into_iter()
            .find_map(|s| match s {
                ConnectionState::Connected {
                    version, negotiation, ..
                } => Some((version, negotiation)),
                _ => None,
            })
            .expect("a Connected state")
    }

    /// Waits for the final state of `id` and returns it.
    pub fn wait_final(&mut self, id: u64) -> ConnectionState {
        self.wait_until(
            &format!("connection {id} to end"),
            Duration::from_secs(20),
            |ev| {
                ev.iter()
                    .any(|e| matches!(e, Event::State { id: i, state } if *i == ConnectionId(id) && state.is_final()))
            },
        );
        self.states(Some(id))
            .into_iter()
            .rev()
            .find(ConnectionState::is_final)
            .expect("final state")
    }

    /// Waits for the subscription answers of `id` (`n` SUBACK events).
    pub fn wait_subscribed(&mut self, id: u64, n: usize) {
        self.wait_until(
            &format!("{n} SUBACKs on connection {id}"),
            Duration::from_secs(10),
            |ev| {
                ev.iter()
                    .filter(|e| matches!(e, Event::Subscribed { id: i, .. } if *i == ConnectionId(id)))
                    .count()
                    >= n
            },
        );
    }

    /// Waits until `id` has received `n` messages on `topic`.
    pub fn wait_messages(&mut self, id: u64, topic: &str, n: usize) {
        let topic = topic.to_owned();
        self.wait_until(
            &format!("{n} messages on `{topic}`"),
            Duration::from_secs(20),
            move |ev| {
                ev.iter()
                    .filter_map(|e| match e {
                        Event::Messages { id: i, messages } if *i == ConnectionId(id) => {
                            Some(messages.iter())
                        }
                        _ => None,
                    })
                    .flatten()
                    .filter(|m| m.topic == topic)
                    .count()
                    >= n
            },
        );
    }

    /// The outcome reported for a publish token.
    pub fn outcome(&self, id: u64, token: u64) -> Option<engine::PublishOutcome> {
        self.events.iter().find_map(|e| match e {
            Event::Published {
                id: i,
                token: t,
                outcome,
            } if *i == ConnectionId(id) && *t == Token(token) => Some(outcome.clone()),
            _ => None,
        })
    }

    /// Waits for the outcome of `token` and returns it.
    pub fn wait_outcome(&mut self, id: u64, token: u64) -> engine::PublishOutcome {
        self.wait_until(
            &format!("outcome of publish {token}"),
            Duration::from_secs(15),
            |ev| {
                ev.iter()
                    .any(|e| matches!(e, Event::Published { id: i, token: t, .. } if *i == ConnectionId(id) && *t == Token(token)))
            },
        );
        self.outcome(id, token).expect("outcome")
    }
}
