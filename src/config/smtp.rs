//! `[smtp]`: the server Gatehouse hands its mail to (verification links, password resets).
use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all: only for a server on the loopback interface (tests, a local relay).
    None,
}

/// `[smtp]`: where outgoing mail goes. Without this section Gatehouse sends no mail, and
/// "Forgot password?" is not offered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name (checked against its TLS certificate).
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `implicit`, 25 for `none`.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    /// The sender, e.g. `Gatehouse <sso@example.com>`.
    pub from: String,
    /// User name for SMTP AUTH (with `password_env`); unset = no authentication.
    pub username: Option<String>,
    /// Name of the environment variable holding the SMTP password.
    pub password_env: Option<String>,
    /// Seconds one delivery attempt may take (connect, TLS, SMTP dialogue).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Seconds a password-reset link stays valid.
    #[serde(default = "default_reset_link")]
    pub reset_link_secs: i64,
    /// Seconds an address-verification link stays valid.
    #[serde(default = "default_verify_link")]
    pub verify_link_secs: i64,
}

fn default_timeout() -> u64 {
    30
}

fn default_reset_link() -> i64 {
    15 * 60
}

fn default_verify_link() -> i64 {
    24 * 3600
}

impl SmtpConfig {
    /// A server at `host:port` with every other setting at its default.
    pub fn new(host: &str, port: u16, tls: SmtpTls, from: &str) -> Self {
        Self {
            host: host.into(),
            port: Some(port),
            tls,
            from: from.into(),
            username: None,
            password_env: None,
            timeout_secs: default_timeout(),
            reset_link_secs: default_reset_link(),
            verify_link_secs: default_verify_link(),
        }
    }

    /// The port, or the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        })
    }

    /// Checks rules serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("smtp.host is empty".into());
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("smtp.from: {:?} is not a mail address", self.from));
        }
        if self.tls == SmtpTls::None && !is_loopback(&self.host) {
            return Err(format!(
                "smtp.tls = \"none\" sends mail and passwords in the clear; it is allowed only for a server on loopback, not {:?}",
                self.host
            ));
        }
        if self.username.is_some() != self.password_env.is_some() {
            return Err("smtp.username and smtp.password_env go together".into());
        }
        if self.reset_link_secs < 60 || self.verify_link_secs < 60 {
            return Err("smtp.reset_link_secs and smtp.verify_link_secs must be at least 60".into());
        }
        Ok(())
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_is_refused_beyond_loopback() {
        let ok = SmtpConfig::new("127.0.0.1", 2525, SmtpTls::None, "Gatehouse <sso@example.com>");
        assert_eq!(ok.validate(), Ok(()));
        let far = SmtpConfig::new("mail.example.com", 25, SmtpTls::None, "sso@example.com");
        assert!(far.validate().unwrap_err().contains("loopback"));
        let tls = SmtpConfig::new("mail.example.com", 465, SmtpTls::Implicit, "sso@example.com");
        assert_eq!(tls.validate(), Ok(()));
        let bad_from = SmtpConfig::new("mail.example.com", 587, SmtpTls::Starttls, "not an address");
        assert!(bad_from.validate().is_err());
    }

    #[test]
    fn ports_default_to_the_tls_modes_usual_one() {
        let mut c = SmtpConfig::new("mail.example.com", 1, SmtpTls::Starttls, "a@b.example");
        c.port = None;
        assert_eq!(c.port(), 587);
        c.tls = SmtpTls::Implicit;
        assert_eq!(c.port(), 465);
    }
}
