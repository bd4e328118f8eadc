//! Builds the rustls client configuration of a profile, with errors a user can act on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::options::TlsSettings;

/// A TLS setting that cannot be used, found before connecting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    /// A file named in the profile does not exist or cannot be read.
    #[error("{what} file {path} cannot be read: {reason}")]
    Unreadable {
        /// "CA", "client certificate" or "client key".
        what: &'static str,
        /// The path as given.
        path: String,
        /// The OS error in words.
        reason: String,
    },
    /// The file exists but holds no usable PEM item of the right kind.
    #[error("{what} file {path} is not a PEM {expected}")]
    NotPem {
        /// "CA", "client certificate" or "client key".
        what: &'static str,
        /// The path as given.
        path: String,
        /// What was expected, e.g. "certificate" or "private key".
        expected: &'static str,
    },
    /// Only one of client certificate and key was given.
    #[error("mutual TLS needs both a client certificate and a client key")]
    HalfClientAuth,
    /// rustls refused the combination (e.g. key does not match certificate).
    #[error("the TLS settings are not usable: {0}")]
    Rejected(String),
    /// The OS trust store could not be loaded and no CA file was given.
    #[error("the system's trusted certificates could not be loaded ({0}); choose a CA file")]
    NoSystemRoots(String),
    /// The server-name override is not a valid DNS name or IP address.
    #[error("server name `{0}` is not a valid host name or IP address")]
    BadServerName(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads a certificate or key file, capped (a path to `/dev/zero` or a FIFO must not hang
/// the connection attempt).
fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsSetupError> {
    use crate::fsutil::{PEM_LIMIT, ReadError, bytes_in_words, read_capped};
    read_capped(path, PEM_LIMIT, "a certificate or key").map_err(|e| {
        let reason = match e {
            ReadError::Io { reason, .. } => reason,
            ReadError::NotRegular { kind, .. } => format!("it is {kind}, not a regular file"),
            ReadError::TooLarge { limit, .. } => {
                format!("it is larger than the limit of {}", bytes_in_words(limit))
            }
        };
        TlsSetupError::Unreadable {
            what,
            path: path.display().to_string(),
            reason,
        }
    })
}

/// Reads the certificates of a PEM file (`what` names it in errors).
pub fn load_certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = read_file(what, path)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsSetupError::NotPem {
            what,
            path: path.display().to_string(),
            expected: "certificate",
        });
    }
    Ok(certs)
}

/// Reads the first private key of a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let bytes = read_file("client key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsSetupError::NotPem {
        what: "client key",
        path: path.display().to_string(),
        expected: "private key (PKCS#8, SEC1 or PKCS#1)",
    })
}

/// Checks every file of the TLS settings without connecting: what the profile editor shows
/// beside the fields.
pub fn check_files(tls: &TlsSettings) -> Vec<TlsSetupError> {
    let mut problems = Vec::new();
    if let Some(ca) = &tls.ca_file
        && let Err(e) = load_certificates("CA", ca)
    {
        problems.push(e);
    }
    if let Some(cert) = &tls.client_cert_file
        && let Err(e) = load_certificates("client certificate", cert)
    {
        problems.push(e);
    }
    if let Some(key) = &tls.client_key_file
        && let Err(e) = load_private_key(key)
    {
        problems.push(e);
    }
    problems
}

/// Builds the rustls configuration for a profile's TLS settings.
pub fn client_config(tls: &TlsSettings) -> Result<ClientConfig, TlsSetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rejected(e.to_string()))?;

    let builder = if tls.skip_verification {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(
                provider.signature_verification_algorithms,
            )))
    } else {
        let mut roots = RootCertStore::empty();
        match &tls.ca_file {
            Some(ca) => {
                let (added, _ignored) = roots.add_parsable_certificates(load_certificates("CA", ca)?);
                if added == 0 {
                    return Err(TlsSetupError::NotPem {
                        what: "CA",
                        path: ca.display().to_string(),
                        expected: "CA certificate",
                    });
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
                if roots.is_empty() {
                    let why = native
                        .errors
                        .first()
                        .map_or_else(|| "none found".to_owned(), ToString::to_string);
                    return Err(TlsSetupError::NoSystemRoots(why));
                }
            }
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsSetupError::Rejected(e.to_string()))?;
        match tls
            .server_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(name) => {
                let name = ServerName::try_from(name.to_owned())
                    .map_err(|_| TlsSetupError::BadServerName(name.to_owned()))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(NameOverride { inner: webpki, name }))
            }
            None => builder.with_webpki_verifier(webpki),
        }
    };

    let mut config = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert), Some(key)) => {
            let chain = load_certificates("client certificate", cert)?;
            let key = load_private_key(key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsSetupError::Rejected(e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsSetupError::HalfClientAuth),
    };
    config.alpn_protocols = tls
        .alpn
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| p.as_bytes().to_vec())
        .collect();
    if let Some(path) = key_log_file(tls) {
        log::warn!(
            "TLS session keys are written to {} (SSLKEYLOGFILE)",
            path.display()
        );
        config.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    Ok(config)
}

/// The file TLS session keys go to: `SSLKEYLOGFILE`, only when the user opted in with
/// `key_log` (the variable alone never turns it on: a stray variable must not leak keys).
pub fn key_log_file(tls: &TlsSettings) -> Option<PathBuf> {
    if !tls.key_log {
        return None;
    }
    std::env::var_os("SSLKEYLOGFILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Verifies the server certificate against a fixed name instead of the host connected to.
#[derive(Debug)]
struct NameOverride {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NameOverride {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The explicit, opt-in "skip certificate verification": accepts any certificate but still
/// checks that the handshake is signed by it.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
