//! Connection errors in plain words.

use std::error::Error as StdError;
use std::io;

use serde::Serialize;

/// What kind of problem ended or prevented a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Nothing listens on the port (TCP connection refused).
    ConnectionRefused,
    /// The host name does not resolve.
    Dns,
    /// The broker did not answer in time.
    Timeout,
    /// The server certificate is not signed by a trusted CA.
    TlsUnknownCa,
    /// The server certificate is not valid for the host name.
    TlsNameMismatch,
    /// The server certificate has expired or is not yet valid.
    TlsExpired,
    /// The broker requires a client certificate and none was sent.
    TlsCertificateRequired,
    /// The broker rejected the client certificate.
    TlsClientCertificateRejected,
    /// Any other TLS failure.
    Tls,
    /// The broker rejected the user name or password.
    BadCredentials,
    /// The broker says this client is not authorised.
    NotAuthorized,
    /// The broker rejected the client id.
    ClientIdRejected,
    /// The broker is unavailable or busy.
    BrokerUnavailable,
    /// The broker does not speak the requested MQTT version.
    UnsupportedVersion,
    /// The broker refused the connection for another reason.
    Refused,
    /// The broker closed an established connection or the network failed.
    ConnectionLost,
    /// The broker sent bytes that break the MQTT protocol (a malformed packet, an unknown
    /// CONNACK code): the connection was closed.
    ProtocolViolation,
    /// The WebSocket handshake failed (wrong path, not an MQTT endpoint...).
    WebSocket,
    /// The profile's settings cannot be used (checked before connecting).
    Settings,
    /// Something else.
    Other,
}

impl ErrorKind {
    /// Whether retrying with the same settings cannot help, so reconnecting is pointless.
    pub fn is_permanent(self) -> bool {
        matches!(
            self,
            Self::TlsUnknownCa
                | Self::TlsNameMismatch
                | Self::TlsExpired
                | Self::TlsCertificateRequired
                | Self::TlsClientCertificateRejected
                | Self::BadCredentials
                | Self::NotAuthorized
                | Self::ClientIdRejected
                | Self::UnsupportedVersion
                | Self::Settings
        )
    }
}

/// A connection error: its kind and a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The kind, for code that reacts to it.
    pub kind: ErrorKind,
    /// One sentence in plain words, never containing a secret.
    pub message: String,
}

impl ConnectError {
    /// Builds an error from a kind and message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// An I/O error in words ("file not found", "permission denied"...).
pub fn io_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "file not found".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

fn tls_words(e: &rustls::Error) -> ConnectError {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let (kind, text) = match e {
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => (
            ErrorKind::TlsUnknownCa,
            "TLS: the broker's certificate is not signed by a trusted CA (unknown CA) — check the CA file"
                .to_owned(),
        ),
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => (
            ErrorKind::TlsNameMismatch,
            "TLS: the broker's certificate is not valid for this host name (name mismatch)".to_owned(),
        ),
        E::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => (
            ErrorKind::TlsExpired,
            "TLS: the broker's certificate has expired or is not valid yet".to_owned(),
        ),
        E::AlertReceived(A::CertificateRequired | A::HandshakeFailure) => (
            ErrorKind::TlsCertificateRequired,
            "TLS: the broker requires a client certificate (mutual TLS) — set a client certificate and key"
                .to_owned(),
        ),
        E::AlertReceived(A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError) => (
            ErrorKind::TlsClientCertificateRejected,
            "TLS: the broker rejected our client certificate".to_owned(),
        ),
        E::AlertReceived(A::CertificateExpired) => (
            ErrorKind::TlsClientCertificateRejected,
            "TLS: the broker says our client certificate has expired".to_owned(),
        ),
        E::InvalidCertificate(other) => (
            ErrorKind::Tls,
            format!("TLS: the broker's certificate is not acceptable ({other:?})"),
        ),
        other => (ErrorKind::Tls, format!("TLS: {other}")),
    };
    ConnectError::new(kind, text)
}

fn io_error_words(e: &io::Error) -> Option<ConnectError> {
    if let Some(inner) = e.get_ref()
        && let Some(found) = classify_chain(inner)
    {
        return Some(found);
    }
    let text = e.to_string();
    Some(match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::new(
            ErrorKind::ConnectionRefused,
            "connection refused: nothing is listening on that host and port",
        ),
        io::ErrorKind::TimedOut => ConnectError::new(ErrorKind::Timeout, "the broker did not answer in time"),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => {
            ConnectError::new(ErrorKind::ConnectionLost, "the broker closed the connection")
        }
        _ if text.contains("failed to lookup address")
            || text.contains("Name or service not known")
            || text.contains("nodename nor servname")
            || text.contains("No such host") =>
        {
            ConnectError::new(
                ErrorKind::Dns,
                "the host name could not be resolved (DNS failure)",
            )
        }
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => ConnectError::new(
            ErrorKind::ConnectionRefused,
            format!("the broker cannot be reached: {text}"),
        ),
        _ => return None,
    })
}

/// Walks an error's source chain looking for something we can name precisely.
pub fn classify_chain(e: &(dyn StdError + 'static)) -> Option<ConnectError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls_words(tls));
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(found) = io_error_words(io)
        {
            return Some(found);
        }
        if let Some(ws) = err.downcast_ref::<async_tungstenite::tungstenite::Error>() {
            use async_tungstenite::tungstenite::Error as W;
            match ws {
                W::Io(io) => {
                    if let Some(found) = io_error_words(io) {
                        return Some(found);
                    }
                }
                W::Tls(_) => {}
                W::Http(response) => {
                    return Some(ConnectError::new(
                        ErrorKind::WebSocket,
                        format!(
                            "WebSocket: the server answered HTTP {} — check the WebSocket path",
                            response.status()
                        ),
                    ));
                }
                other => {
                    return Some(ConnectError::new(
                        ErrorKind::WebSocket,
                        format!("WebSocket: {other}"),
                    ));
                }
            }
        }
        current = err.source();
    }
    None
}

/// Names any connection error: the precise cause when one is found, otherwise its text.
pub fn describe(e: &(dyn StdError + 'static)) -> ConnectError {
    classify_chain(e).unwrap_or_else(|| ConnectError::new(ErrorKind::Other, e.to_string()))
}
