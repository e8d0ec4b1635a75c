//! The SMTP connection settings of `[smtp]`, as a lettre transport.
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use super::MailSetupError;
use crate::config::smtp::{SmtpConfig, SmtpTls};

/// A transport to the configured server; `domain` is what this server calls itself in EHLO.
pub fn build(config: &SmtpConfig, domain: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailSetupError> {
    let tls = match config.tls {
        SmtpTls::None => Tls::None,
        mode => {
            // Certificates are checked against the web PKI roots and the configured host name.
            let params =
                TlsParameters::new(config.host.clone()).map_err(|e| MailSetupError::Transport(e.to_string()))?;
            if mode == SmtpTls::Implicit {
                Tls::Wrapper(params)
            } else {
                // STARTTLS is required: a server that does not offer it gets no mail.
                Tls::Required(params)
            }
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
        .port(config.port())
        .tls(tls)
        .timeout(Some(Duration::from_secs(config.timeout_secs)))
        .hello_name(ClientId::Domain(domain.into()));
    if let (Some(user), Some(var)) = (&config.username, &config.password_env) {
        let password = std::env::var(var).map_err(|_| MailSetupError::MissingPassword(var.clone()))?;
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}
