//! Flows that prove something by a link sent by mail: address verification (after
//! registration or an email change, whose old address hears of it) and password reset. HTTP-free: the pages in `login/`
//! parse, call these, and render.
pub mod email_change;
pub mod reset;
pub mod verification;

use sea_orm::{DatabaseConnection, DbErr};

use crate::config::smtp::SmtpConfig;
use crate::mail::{MailError, Mailer};

/// What sending a link needs: the database, the mailer, and where links point.
#[derive(Clone)]
pub struct Links {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    /// The issuer URL (no trailing slash): every link starts with it.
    pub issuer: String,
    /// This server's host name, as mails name it.
    pub site: String,
    pub smtp: SmtpConfig,
}

impl Links {
    /// The links of a server configured by `config`, when it can send mail (`[smtp]`).
    pub fn of(config: &crate::config::Config, db: &DatabaseConnection, mailer: &Mailer) -> Option<Self> {
        let smtp = config.smtp.clone()?;
        mailer.enabled().then(|| Links {
            db: db.clone(),
            mailer: mailer.clone(),
            issuer: config.issuer_str(),
            site: config.issuer.host_str().unwrap_or("Gatehouse").to_owned(),
            smtp,
        })
    }

    /// The absolute URL of `path?token=…`.
    pub fn link(&self, path: &str, token: &str) -> String {
        crate::urls::with_query(&format!("{}{path}", self.issuer), &[("token", token)])
    }
}

/// Why a link could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}
