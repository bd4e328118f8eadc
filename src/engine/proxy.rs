//! Proxies between Canopy and the broker: HTTP CONNECT and SOCKS5, from a profile's URL or from
//! the environment (`ALL_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, as curl reads them).

use rumqttc::{Proxy, ProxyAuth, ProxyType};

use super::errors::{ConnectError, ErrorKind};

/// The value of a profile's proxy setting that means "use the environment".
pub const SYSTEM: &str = "system";

/// A proxy setting read from a URL, checked before any network activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// HTTP CONNECT or SOCKS5.
    pub socks5: bool,
    /// Proxy host name or address.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// User name and password for the proxy, if any.
    pub credentials: Option<(String, String)>,
}

impl ProxyUrl {
    /// Reads `http://[user:pass@]host[:port]` or `socks5://...` (also `socks5h://`, which
    /// means the same here: the proxy always resolves the broker's name). Errors never repeat
    /// the URL, which may hold a password.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        // `HTTPS_PROXY=proxy:3128` (no scheme) is common in the wild: HTTP is meant.
        let text = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&text).map_err(|e| format!("the proxy URL is not valid ({e})"))?;
        let (socks5, default_port) = match url.scheme() {
            "http" => (false, 8080),
            "socks5" | "socks5h" => (true, 1080),
            "https" => return Err("HTTPS proxies are not supported; use http:// or socks5://".into()),
            other => {
                return Err(format!(
                    "the proxy URL must start with http:// or socks5:// (not {other}://)"
                ));
            }
        };
        // IPv6 stays in brackets: rumqttc joins host and port as `host:port`.
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the proxy URL has no host")?
            .to_owned();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let credentials = (!url.username().is_empty())
            .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(Self {
            socks5,
            host,
            // `Url::port` hides a port equal to the scheme's default (`http://p:80`).
            port: url
                .port()
                .or_else(|| url.port_or_known_default().filter(|_| explicit_port(&text)))
                .unwrap_or(default_port),
            credentials,
        })
    }

    /// The rumqttc proxy for this URL.
    pub fn to_rumqttc(&self) -> Proxy {
        Proxy {
            ty: if self.socks5 {
                ProxyType::Socks5
            } else {
                ProxyType::Http
            },
            auth: match &self.credentials {
                Some((username, password)) => ProxyAuth::Basic {
                    username: username.clone(),
                    password: password.clone(),
                },
                None => ProxyAuth::None,
            },
            addr: self.host.clone(),
            port: self.port,
        }
    }
}

/// Whether the URL text names a port after its host (`http://p:80`).
fn explicit_port(text: &str) -> bool {
    let after_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port
        .rsplit_once(':')
        .is_some_and(|(h, p)| (!h.contains(':') || h.ends_with(']')) && p.parse::<u16>().is_ok())
}

/// Whether `host` is excluded by a `NO_PROXY` list (comma-separated names, `.suffix` or
/// `suffix` matching subdomains, `*` for all; ports are ignored).
pub fn excluded(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            // A port is cut off only where it cannot be part of an IPv6 address.
            let name = match entry.rsplit_once(':') {
                Some((n, p)) if p.parse::<u16>().is_ok() && (!n.contains(':') || n.ends_with(']')) => n,
                _ => entry.as_str(),
            };
            let name = name
                .trim_start_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']');
            host == name || host.ends_with(&format!(".{name}"))
        })
}

/// The proxy to use for a profile's setting and broker host, or `None` for a direct
/// connection. `env` looks up environment variables (a parameter so tests need not change
/// the process environment).
pub fn resolve(
    setting: &str,
    broker_host: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ProxyUrl>, ConnectError> {
    let setting = setting.trim();
    let bad = |why: String| ConnectError::new(ErrorKind::Settings, format!("proxy: {why}"));
    if setting.is_empty() {
        return Ok(None);
    }
    if !setting.eq_ignore_ascii_case(SYSTEM) {
        return ProxyUrl::parse(setting).map(Some).map_err(bad);
    }
    let var = |name: &str| {
        env(name)
            .or_else(|| env(&name.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    if var("NO_PROXY").is_some_and(|list| excluded(&list, broker_host)) {
        return Ok(None);
    }
    match var("ALL_PROXY").or_else(|| var("HTTPS_PROXY")) {
        Some(url) => ProxyUrl::parse(&url).map(Some).map_err(|why| {
            bad(format!(
                "{why} (from the ALL_PROXY / HTTPS_PROXY environment variable)"
            ))
        }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = ProxyUrl::parse("socks5://me:p%40ss@proxy.local:1085").unwrap();
        assert!(p.socks5);
        assert_eq!((p.host.as_str(), p.port), ("proxy.local", 1085));
        assert_eq!(p.credentials, Some(("me".into(), "p@ss".into())));
        let p = ProxyUrl::parse("http://127.0.0.1").unwrap();
        assert!(!p.socks5);
        assert_eq!(p.port, 8080);
        assert_eq!(p.credentials, None);
        assert_eq!(ProxyUrl::parse("http://p:80").unwrap().port, 80);
        assert_eq!(ProxyUrl::parse("proxy:3128").unwrap().port, 3128);
        assert_eq!(ProxyUrl::parse("socks5://[::1]:1085").unwrap().host, "[::1]");
        let err = ProxyUrl::parse("ftp://me:secret@x").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn system_proxy_honours_no_proxy() {
        let env = |name: &str| match name {
            "ALL_PROXY" => Some("socks5://127.0.0.1:9".to_owned()),
            "no_proxy" => Some("localhost, .internal.example,10.0.0.1:1883".to_owned()),
            _ => None,
        };
        assert!(resolve("system", "broker.example.com", env).unwrap().is_some());
        assert!(resolve("system", "localhost", env).unwrap().is_none());
        assert!(resolve("system", "mqtt.internal.example", env).unwrap().is_none());
        assert!(resolve("system", "10.0.0.1", env).unwrap().is_none());
        assert!(excluded("::1,[fe80::1]:1883", "::1"));
        assert!(excluded("::1,[fe80::1]:1883", "fe80::1"));
        assert!(resolve("", "broker.example.com", env).unwrap().is_none());
        assert!(resolve("system", "x", |_| None).unwrap().is_none());
        assert_eq!(
            resolve("ftp://x", "x", |_| None).unwrap_err().kind,
            ErrorKind::Settings
        );
    }
}
