//! `[server]`: how long clients may take, how many may be connected, how fast a missing
//! database is reported, and whether a plain-http public issuer is allowed.
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// Limits on connections and requests, and the database's fail-fast timeouts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    pub header_read_timeout: f64,
    /// The same, for connections accepted while more than three quarters of
    /// `max_connections` are in use: under a flood, slots turn over quickly.
    pub header_read_timeout_when_busy: f64,
    /// Seconds a client has to send a request's whole body once its headers arrived.
    pub body_read_timeout: f64,
    /// Seconds one request may take from its headers to its answer (bodies included).
    pub request_timeout: f64,
    /// Connections served at once; further ones wait in the listen backlog. Lowered at start
    /// to fit the open-file limit.
    pub max_connections: usize,
    /// Largest request body in bytes; a larger announced or sent body is answered 413.
    pub max_body_bytes: usize,
    /// Seconds to wait for a free database connection before a request fails.
    pub database_acquire_timeout: f64,
    /// Seconds `/healthz` waits for the database before answering 503.
    pub healthz_timeout: f64,
    /// Allow an `http://` issuer on a host that is not loopback (tokens and cookies then
    /// travel unencrypted: for a closed lab network only).
    pub allow_insecure_issuer: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: 10.0,
            header_read_timeout_when_busy: 1.0,
            body_read_timeout: 10.0,
            request_timeout: 30.0,
            max_connections: 4096,
            // Forms and SAML responses are small; nothing needs megabytes (stored fields have
            // their own, smaller bounds).
            max_body_bytes: 256 * 1024,
            database_acquire_timeout: 2.0,
            // Under a second, so that a probe with a 1 s timeout sees the 503.
            healthz_timeout: 0.8,
            allow_insecure_issuer: false,
        }
    }
}

impl ServerConfig {
    /// Checks that every timeout is a positive number of seconds and every limit non-zero.
    pub fn validate(&self) -> Result<(), String> {
        let timeouts = [
            ("header_read_timeout", self.header_read_timeout),
            ("header_read_timeout_when_busy", self.header_read_timeout_when_busy),
            ("body_read_timeout", self.body_read_timeout),
            ("request_timeout", self.request_timeout),
            ("database_acquire_timeout", self.database_acquire_timeout),
            ("healthz_timeout", self.healthz_timeout),
        ];
        for (name, secs) in timeouts {
            // An upper bound keeps Duration::from_secs_f64 from panicking on absurd values.
            if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
                return Err(format!("server.{name} must be between 0 and 86400 seconds, not {secs}"));
            }
        }
        if self.max_connections == 0 {
            return Err("server.max_connections must be at least 1".into());
        }
        if self.max_body_bytes == 0 {
            return Err("server.max_body_bytes must be at least 1".into());
        }
        Ok(())
    }

    /// [`Self::header_read_timeout`] as a duration.
    pub fn header_read(&self) -> Duration {
        Duration::from_secs_f64(self.header_read_timeout)
    }

    /// [`Self::header_read_timeout_when_busy`] as a duration, never longer than the usual one.
    pub fn header_read_when_busy(&self) -> Duration {
        Duration::from_secs_f64(self.header_read_timeout_when_busy.min(self.header_read_timeout))
    }

    /// [`Self::body_read_timeout`] as a duration.
    pub fn body_read(&self) -> Duration {
        Duration::from_secs_f64(self.body_read_timeout)
    }

    /// [`Self::request_timeout`] as a duration.
    pub fn request(&self) -> Duration {
        Duration::from_secs_f64(self.request_timeout)
    }

    /// [`Self::database_acquire_timeout`] as a duration.
    pub fn database_acquire(&self) -> Duration {
        Duration::from_secs_f64(self.database_acquire_timeout)
    }

    /// [`Self::healthz_timeout`] as a duration.
    pub fn healthz(&self) -> Duration {
        Duration::from_secs_f64(self.healthz_timeout)
    }
}

/// Whether a URL host is this machine (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback_host(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Refuses an `http://` issuer on a host other than loopback unless `allowed`.
pub fn check_issuer_scheme(issuer: &Url, allowed: bool) -> Result<(), String> {
    if issuer.scheme() == "http" && !is_loopback_host(issuer.host()) && !allowed {
        return Err(format!(
            "issuer {issuer} is plain http on a host that is not loopback: tokens, codes and session \
             cookies would travel unencrypted. Use https, or set [server] allow_insecure_issuer = true"
        ));
    }
    Ok(())
}

/// Ways `listen` and a loopback `issuer` disagree so that a browser on this machine (the demo)
/// cannot reach the server at the issuer's address. A public issuer is left alone: a proxy
/// may stand between it and `listen`.
pub fn listen_issuer_mismatches(issuer: &Url, listen: SocketAddr) -> Vec<String> {
    if !is_loopback_host(issuer.host()) {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    if issuer.scheme() == "https" {
        warnings.push(format!(
            "issuer {issuer} is https on loopback, but Gatehouse serves plain HTTP on {listen}: \
             browsers will fail the TLS handshake unless a TLS proxy listens at the issuer's port"
        ));
    }
    let issuer_port = issuer.port_or_known_default();
    if issuer_port != Some(listen.port()) {
        warnings.push(format!(
            "issuer {issuer} names port {}, but Gatehouse listens on port {}: the demo and every \
             link in pages point where nothing answers unless a proxy forwards that port",
            issuer_port.map_or_else(|| "?".to_string(), |p| p.to_string()),
            listen.port()
        ));
    }
    let ip = listen.ip();
    if !(ip.is_loopback() || ip.is_unspecified() || issuer_names_ip(issuer, ip)) {
        warnings.push(format!(
            "issuer {issuer} is on loopback, but Gatehouse listens only on {ip}: browsers on this \
             machine cannot reach it at the issuer's address"
        ));
    }
    warnings
}

fn issuer_names_ip(issuer: &Url, ip: IpAddr) -> bool {
    match issuer.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4) == ip,
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6) == ip,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        s.parse().unwrap()
    }

    #[test]
    fn a_plain_http_issuer_is_refused_off_loopback_unless_allowed() {
        assert!(check_issuer_scheme(&url("http://127.0.0.1:8080"), false).is_ok());
        assert!(check_issuer_scheme(&url("http://localhost:8080"), false).is_ok());
        assert!(check_issuer_scheme(&url("http://[::1]:8080"), false).is_ok());
        assert!(check_issuer_scheme(&url("https://sso.example.com"), false).is_ok());
        let err = check_issuer_scheme(&url("http://sso.example.com"), false).unwrap_err();
        assert!(err.contains("allow_insecure_issuer"), "{err}");
        assert!(check_issuer_scheme(&url("http://10.0.0.5:8080"), false).is_err());
        assert!(check_issuer_scheme(&url("http://sso.example.com"), true).is_ok());
    }

    #[test]
    fn listen_and_issuer_disagreements_that_break_the_demo_are_named() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(listen_issuer_mismatches(&url("http://127.0.0.1:8080"), listen).is_empty());
        assert!(listen_issuer_mismatches(&url("http://localhost:8080/sso"), listen).is_empty());
        assert!(listen_issuer_mismatches(&url("http://127.0.0.1:8080"), "0.0.0.0:8080".parse().unwrap()).is_empty());
        // A public issuer may sit behind a proxy: nothing to say.
        assert!(listen_issuer_mismatches(&url("https://sso.example.com"), listen).is_empty());

        let port = listen_issuer_mismatches(&url("http://127.0.0.1:9090"), listen);
        assert_eq!(port.len(), 1, "{port:?}");
        assert!(port[0].contains("port 9090"), "{port:?}");
        let tls = listen_issuer_mismatches(&url("https://127.0.0.1:8080"), listen);
        assert_eq!(tls.len(), 1, "{tls:?}");
        assert!(tls[0].contains("TLS"), "{tls:?}");
        let lan = listen_issuer_mismatches(&url("http://localhost:8080"), "192.168.1.5:8080".parse().unwrap());
        assert_eq!(lan.len(), 1, "{lan:?}");
        assert!(lan[0].contains("192.168.1.5"), "{lan:?}");
    }

    #[test]
    fn limits_must_be_positive() {
        assert!(ServerConfig::default().validate().is_ok());
        let zero = ServerConfig {
            header_read_timeout: 0.0,
            ..ServerConfig::default()
        };
        assert!(zero.validate().unwrap_err().contains("header_read_timeout"));
        let nan = ServerConfig {
            healthz_timeout: f64::NAN,
            ..ServerConfig::default()
        };
        assert!(nan.validate().is_err());
        let none = ServerConfig {
            max_connections: 0,
            ..ServerConfig::default()
        };
        assert!(none.validate().unwrap_err().contains("max_connections"));
    }
}
