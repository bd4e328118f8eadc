//! Connections through real proxies started by the test: an HTTP CONNECT proxy and a SOCKS5
//! proxy (with and without a password), each counting the tunnels it opened, so a test can
//! tell the traffic really went through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use canopy::engine::{Command, ConnectionId, ConnectionState, ErrorKind, Event, Token};
use canopy::model::message::QoS;
use canopy::profiles::profile::{MqttVersion, Subscription, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{Broker, Client};

/// Which protocol the test proxy speaks.
#[derive(Clone, Copy)]
enum Kind {
    Http,
    Socks5,
}

/// A proxy on a free loopback port, on its own thread; counts the tunnels it opened.
struct TestProxy {
    port: u16,
    tunnels: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl TestProxy {
    fn start(kind: Kind, credentials: Option<(&'static str, &'static str)>) -> TestProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let target = match kind {
                        Kind::Http => http_handshake(client, credentials).await,
                        Kind::Socks5 => socks5_handshake(client, credentials).await,
                    };
                    if let Some((mut client, mut upstream)) = target {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        TestProxy {
            port,
            tunnels,
            _runtime: runtime,
        }
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

async fn http_handshake(
    mut client: TcpStream,
    credentials: Option<(&str, &str)>,
) -> Option<(TcpStream, TcpStream)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        client.read_exact(&mut byte).await.ok()?;
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let target = text.strip_prefix("CONNECT ")?.split(' ').next()?.to_owned();
    if let Some((user, pass)) = credentials {
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        if !text.contains(&format!("Basic {expected}")) {
            client
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                .await
                .ok()?;
            return None;
        }
    }
    let upstream = TcpStream::connect(target).await.ok()?;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .ok()?;
    Some((client, upstream))
}

async fn socks5_handshake(
    mut client: TcpStream,
    credentials: Option<(&str, &str)>,
) -> Option<(TcpStream, TcpStream)> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting).await.ok()?;
    let mut methods = vec![0u8; greeting[1] as usize];
    client.read_exact(&mut methods).await.ok()?;
    let wanted = if credentials.is_some() { 0x02 } else { 0x00 };
    if !methods.contains(&wanted) {
        client.write_all(&[0x05, 0xFF]).await.ok()?;
        return None;
    }
    client.write_all(&[0x05, wanted]).await.ok()?;
    if let Some((user, pass)) = credentials {
        let mut version_and_len = [0u8; 2];
        client.read_exact(&mut version_and_len).await.ok()?;
        let mut name = vec![0u8; version_and_len[1] as usize];
        client.read_exact(&mut name).await.ok()?;
        let mut len = [0u8; 1];
        client.read_exact(&mut len).await.ok()?;
        let mut password = vec![0u8; len[0] as usize];
        client.read_exact(&mut password).await.ok()?;
        let ok = name == user.as_bytes() && password == pass.as_bytes();
        client.write_all(&[0x01, if ok { 0 } else { 1 }]).await.ok()?;
        if !ok {
            return None;
        }
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await.ok()?;
    let host = match request[3] {
        0x01 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await.ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        0x03 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await.ok()?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await.ok()?;
            String::from_utf8(name).ok()?
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await.ok()?;
    let upstream = TcpStream::connect((host.as_str(), u16::from_be_bytes(port)))
        .await
        .ok()?;
    client
        .write_all(&[0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
        .await
        .ok()?;
    Some((client, upstream))
}

/// Connects through `proxy_url`, subscribes, publishes and expects the message back.
fn round_trip_through(broker: &Broker, transport: TransportKind, proxy_url: String) {
    let mut p = broker.profile(transport);
    p.proxy = proxy_url;
    p.version = MqttVersion::Auto;
    p.subscriptions = vec![Subscription::new("proxied/#", QoS::AtLeastOnce)];
    let mut c = Client::new();
    c.connect(1, p);
    c.wait_connected(1);
    c.wait_subscribed(1, 1);
    c.send(Command::Publish {
        id: ConnectionId(1),
        token: Token(1),
        message: Box::new(canopy::model::message::OutgoingMessage {
            topic: "proxied/x".into(),
            payload: "through the proxy".into(),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Default::default(),
        }),
    });
    c.wait_messages(1, "proxied/x", 1);
    c.send(Command::Disconnect { id: ConnectionId(1) });
    c.wait_final(1);
}

#[test]
fn http_connect_proxy_carries_tcp_and_websocket_connections() {
    let broker = Broker::start();
    let proxy = TestProxy::start(Kind::Http, Some(("pxuser", "pxpass")));
    round_trip_through(
        &broker,
        TransportKind::Tcp,
        format!("http://pxuser:pxpass@127.0.0.1:{}", proxy.port),
    );
    assert_eq!(proxy.tunnels(), 1, "the connection did not go through the proxy");
    round_trip_through(
        &broker,
        TransportKind::Ws,
        format!("http://pxuser:pxpass@127.0.0.1:{}", proxy.port),
    );
    assert_eq!(proxy.tunnels(), 2);
}

#[test]
fn socks5_proxy_carries_tcp_and_tls_connections() {
    let broker = Broker::start();
    let open = TestProxy::start(Kind::Socks5, None);
    round_trip_through(
        &broker,
        TransportKind::Tcp,
        format!("socks5://127.0.0.1:{}", open.port),
    );
    assert_eq!(open.tunnels(), 1, "the connection did not go through the proxy");
    let guarded = TestProxy::start(Kind::Socks5, Some(("me", "s3cret")));
    round_trip_through(
        &broker,
        TransportKind::Tls,
        format!("socks5://me:s3cret@127.0.0.1:{}", guarded.port),
    );
    assert_eq!(guarded.tunnels(), 1);
}

#[test]
fn a_proxy_refusing_the_password_is_an_error_in_words_without_the_secret() {
    let broker = Broker::start();
    let guarded = TestProxy::start(Kind::Socks5, Some(("me", "right")));
    let mut p = broker.tcp_profile();
    p.proxy = format!("socks5://me:wrong-secret@127.0.0.1:{}", guarded.port);
    p.reconnect.enabled = false;
    let mut c = Client::new();
    c.connect(1, p);
    match c.wait_final(1) {
        ConnectionState::Failed { reason } => {
            assert!(reason.message.contains("proxy"), "{}", reason.message);
            assert!(!reason.message.contains("wrong-secret"), "{}", reason.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(guarded.tunnels(), 0);
}

#[test]
fn a_bad_proxy_url_is_a_settings_error() {
    let mut p = canopy::profiles::profile::Profile {
        proxy: "ftp://user:hunter2@somewhere".into(),
        ..Default::default()
    };
    p.reconnect.enabled = false;
    let mut c = Client::new();
    c.connect(1, p);
    match c.wait_final(1) {
        ConnectionState::Failed { reason } => {
            assert_eq!(reason.kind, ErrorKind::Settings);
            assert!(!reason.message.contains("hunter2"), "{}", reason.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // Nothing else happened on that connection.
    assert!(!c.events.iter().any(|e| matches!(e, Event::Messages { .. })));
}
