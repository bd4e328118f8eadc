use crate::eventloop::socket_connect;
use crate::framed::AsyncReadWrite;
use crate::NetworkOptions;

use std::io;

#[cfg(any(feature = "use-rustls-no-provider", feature = "use-native-tls"))]
use crate::{tls, TlsConfiguration};

#[derive(Clone, Debug)]
pub struct Proxy {
    pub ty: ProxyType,
    pub auth: ProxyAuth,
    pub addr: String,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub enum ProxyType {
    Http,
    /// SOCKS5 (RFC 1928), with user name / password authentication (RFC 1929) when `auth` is
    /// `Basic`. The broker's host name is resolved by the proxy. Canopy patch.
    Socks5,
    #[cfg(any(feature = "use-rustls-no-provider", feature = "use-native-tls"))]
    Https(TlsConfiguration),
}

#[derive(Clone, Debug)]
pub enum ProxyAuth {
    None,
    Basic { username: String, password: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("Socket connect: {0}.")]
    Io(#[from] io::Error),
    #[error("Proxy connect: {0}.")]
    Proxy(#[from] async_http_proxy::HttpError),
    /// The SOCKS5 proxy refused or did not speak SOCKS5. Canopy patch.
    #[error("SOCKS5 proxy: {0}.")]
    Socks5(String),

    #[cfg(any(feature = "use-rustls-no-provider", feature = "use-native-tls"))]
    #[error("Tls connect: {0}.")]
    Tls(#[from] tls::Error),
}

impl Proxy {
    pub(crate) async fn connect(
        self,
        broker_addr: &str,
        broker_port: u16,
        network_options: NetworkOptions,
    ) -> Result<Box<dyn AsyncReadWrite>, ProxyError> {
        let proxy_addr = format!("{}:{}", self.addr, self.port);

        let tcp: Box<dyn AsyncReadWrite> =
            Box::new(socket_connect(proxy_addr, network_options).await?);
        let mut tcp = match self.ty {
            ProxyType::Socks5 => {
                let mut tcp = tcp;
                socks5_connect(&mut tcp, broker_addr, broker_port, &self.auth).await?;
                return Ok(tcp);
            }
            ProxyType::Http => tcp,
            #[cfg(any(feature = "use-rustls-no-provider", feature = "use-native-tls"))]
            ProxyType::Https(tls_config) => {
                tls::tls_connect(&self.addr, self.port, &tls_config, tcp).await?
            }
        };
        self.auth.auth(broker_addr, broker_port, &mut tcp).await?;
        Ok(tcp)
    }
}

impl ProxyAuth {
    async fn auth(
        self,
        host: &str,
        port: u16,
        tcp_stream: &mut Box<dyn AsyncReadWrite>,
    ) -> Result<(), ProxyError> {
        match self {
            Self::None => async_http_proxy::http_connect_tokio(tcp_stream, host, port).await?,
            Self::Basic { username, password } => {
                async_http_proxy::http_connect_tokio_with_basic_auth(
                    tcp_stream, host, port, &username, &password,
                )
                .await?
            }
        }
        Ok(())
    }
}

/// The SOCKS5 handshake (RFC 1928, RFC 1929): no authentication or user name / password, then
/// CONNECT to the broker by name (or address). Canopy patch.
async fn socks5_connect(
    tcp: &mut Box<dyn AsyncReadWrite>,
    host: &str,
    port: u16,
    auth: &ProxyAuth,
) -> Result<(), ProxyError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fail = |m: &str| ProxyError::Socks5(m.to_owned());
    let credentials = match auth {
        ProxyAuth::None => None,
        ProxyAuth::Basic { username, password } => Some((username, password)),
    };
    let method = if credentials.is_some() { 0x02 } else { 0x00 };
    tcp.write_all(&[0x05, 0x01, method]).await?;
    let mut reply = [0u8; 2];
    tcp.read_exact(&mut reply).await?;
    if reply[0] != 0x05 {
        return Err(fail("the proxy does not speak SOCKS5"));
    }
    match (reply[1], credentials) {
        (0x00, _) => {}
        (0x02, Some((user, pass))) => {
            if user.is_empty() || pass.is_empty() || user.len() > 255 || pass.len() > 255 {
                return Err(fail("the user name and password must be 1 to 255 bytes"));
            }
            let mut packet = vec![0x01, user.len() as u8];
            packet.extend_from_slice(user.as_bytes());
            packet.push(pass.len() as u8);
            packet.extend_from_slice(pass.as_bytes());
            tcp.write_all(&packet).await?;
            let mut status = [0u8; 2];
            tcp.read_exact(&mut status).await?;
            if status[0] != 0x01 || status[1] != 0x00 {
                return Err(fail("the proxy rejected the user name or password"));
            }
        }
        _ => return Err(fail("the proxy accepts none of the offered authentication methods")),
    }
    let mut request = vec![0x05, 0x01, 0x00];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            request.push(0x01);
            request.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            request.push(0x04);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            if host.len() > 255 {
                return Err(fail("host name longer than 255 bytes"));
            }
            request.push(0x03);
            request.push(host.len() as u8);
            request.extend_from_slice(host.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    tcp.write_all(&request).await?;
    let mut head = [0u8; 4];
    tcp.read_exact(&mut head).await?;
    if head[0] != 0x05 {
        return Err(fail("malformed reply"));
    }
    if head[1] != 0x00 {
        let why = match head[1] {
            0x01 => "general failure",
            0x02 => "connection not allowed by its rules",
            0x03 => "network unreachable",
            0x04 => "host unreachable",
            0x05 => "connection refused by the broker",
            0x06 => "TTL expired",
            0x07 => "command not supported",
            0x08 => "address type not supported",
            _ => "unknown error",
        };
        return Err(ProxyError::Socks5(format!("the proxy could not connect: {why}")));
    }
    let skip = match head[3] {
        0x01 => 4,
        0x04 => 16,
        0x03 => {
            let mut len = [0u8; 1];
            tcp.read_exact(&mut len).await?;
            len[0] as usize
        }
        _ => return Err(fail("malformed reply")),
    };
    let mut rest = vec![0u8; skip + 2];
    tcp.read_exact(&mut rest).await?;
    Ok(())
}
