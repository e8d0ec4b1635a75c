//! Outgoing mail: a message is rendered from templates when a page asks for it and stored in
//! the database's outbox (`store::mail_outbox`); a task on every node sends what is due over
//! SMTP (lettre), retrying with doubling back-off. The page never waits on SMTP, and a restart
//! or an outage of the mail server loses nothing.
pub mod messages;
pub mod templates;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use lettre::AsyncTransport;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::mpsc;

pub use templates::{Mail, MailTemplates};

use crate::config::smtp::SmtpConfig;
use crate::store::backchannel_outbox::now_ms;
use crate::store::mail_outbox::{self as outbox, NewMail, QueuedMail};
use crate::store::{now, random_token};

/// The first retry waits this long; each further one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 1_000;
const MAX_BACKOFF_MS: i64 = 5 * 60_000;
/// How long a node holds a message for one attempt: beyond the SMTP timeout, so a live node
/// keeps its claim and a crashed node's claim lapses by itself.
const LEASE_EXTRA_MS: i64 = 30_000;
/// How often a node looks for messages that other nodes stored or that became due again.
const POLL: Duration = Duration::from_millis(500);
/// Messages taken per look.
const BATCH: u64 = 16;

/// Why a message could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no [smtp] server is configured")]
    NotConfigured,
    #[error("mail template {template}: {reason}")]
    Render { template: &'static str, reason: String },
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Why the mail task could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("smtp: {0}")]
    Transport(String),
    #[error("smtp.password_env: the variable {0} is not set")]
    MissingPassword(String),
    #[error(transparent)]
    Templates(#[from] templates::MailTemplateError),
}

/// Queues mail and wakes this node's sending task; cheap to clone. Without `[smtp]` it queues
/// nothing ([`Mailer::enabled`] is false).
#[derive(Clone)]
pub struct Mailer {
    on: Option<Arc<On>>,
}

struct On {
    templates: MailTemplates,
    wake: mpsc::Sender<()>,
}

impl Mailer {
    /// Starts this node's sending task for `[smtp]` (nothing without it). `domain` names this
    /// server in the SMTP greeting and in Message-IDs.
    pub fn spawn(
        db: &DatabaseConnection,
        config: Option<&SmtpConfig>,
        domain: &str,
        templates_dir: Option<&std::path::Path>,
    ) -> Result<Self, MailSetupError> {
        let Some(config) = config else {
            return Ok(Self { on: None });
        };
        let templates = MailTemplates::load(templates_dir)?;
        let sender = Sender {
            db: db.clone(),
            transport: transport::build(config, domain)?,
            from: config
                .from
                .parse()
                .map_err(|e| MailSetupError::Transport(format!("from: {e}")))?,
            domain: domain.into(),
            node: random_token()[..16].into(),
            lease_ms: config.timeout_secs as i64 * 1000 + LEASE_EXTRA_MS,
        };
        let (wake, rx) = mpsc::channel(1);
        tokio::spawn(sender.run(rx));
        Ok(Self {
            on: Some(Arc::new(On { templates, wake })),
        })
    }

    /// A mailer that only queues, for a command-line process: the sending task of `serve` (on
    /// any node of the database) sends what it stores in the outbox. Nothing without `[smtp]`.
    pub fn queue_only(
        config: Option<&SmtpConfig>,
        templates_dir: Option<&std::path::Path>,
    ) -> Result<Self, MailSetupError> {
        if config.is_none() {
            return Ok(Self { on: None });
        }
        let templates = MailTemplates::load(templates_dir)?;
        // No receiver: the wake-up in `queue` is dropped; the senders poll the outbox anyway.
        let (wake, _) = mpsc::channel(1);
        Ok(Self {
            on: Some(Arc::new(On { templates, wake })),
        })
    }

    /// Whether mail can be sent at all (`[smtp]` is configured).
    pub fn enabled(&self) -> bool {
        self.on.is_some()
    }

    /// Renders `mail` for `to` and stores it in the outbox, to be sent within `ttl_secs` or not
    /// at all; wakes the sending task.
    pub async fn queue<C: ConnectionTrait, M: Mail>(
        &self,
        db: &C,
        to: &str,
        mail: &M,
        ttl_secs: i64,
    ) -> Result<(), MailError> {
        let on = self.on.as_ref().ok_or(MailError::NotConfigured)?;
        let rendered = on.templates.render(mail)?;
        let id = outbox::enqueue(
            db,
            NewMail {
                recipient: to.into(),
                subject: rendered.subject,
                text_body: rendered.text,
                html_body: rendered.html,
                ttl_secs,
            },
        )
        .await?;
        tracing::info!(mail_id = %id, template = M::TEMPLATE, "mail queued");
        // A full channel already holds a wake-up.
        let _ = on.wake.try_send(());
        Ok(())
    }
}

/// The sending task of one node.
struct Sender {
    db: DatabaseConnection,
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    domain: String,
    node: Arc<str>,
    lease_ms: i64,
}

/// What one attempt came to.
enum Outcome {
    Sent,
    /// Worth another try later (connection refused, timeout, 4xx).
    Transient(String),
    /// Never going to work (5xx, a malformed address).
    Permanent(String),
}

/// The wait before attempt `attempt + 1`, after `attempt` failed ones (1, 2, 4 … seconds, capped).
fn backoff_ms(attempt: i32) -> i64 {
    let doublings = (attempt.max(1) - 1).min(20) as u32;
    FIRST_BACKOFF_MS.saturating_mul(1 << doublings).min(MAX_BACKOFF_MS)
}

impl Sender {
    async fn run(self, mut wake: mpsc::Receiver<()>) {
        loop {
            self.send_due().await;
            tokio::select! {
                woken = wake.recv() => if woken.is_none() { break },
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        tracing::debug!(node = %self.node, "mail sending stopped");
    }

    /// Sends what is due, one message at a time (mail volume is low; SMTP servers throttle
    /// parallel connections anyway).
    async fn send_due(&self) {
        let at = now_ms();
        let rows = match outbox::due(&self.db, at, BATCH).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "reading the mail outbox failed");
                return;
            }
        };
        for row in rows {
            match outbox::claim(&self.db, &row.id, &self.node, now_ms(), self.lease_ms).await {
                Ok(true) => self.attempt(row).await,
                // Another node is making this attempt.
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a queued mail failed"),
            }
        }
    }

    async fn attempt(&self, row: QueuedMail) {
        let attempt = row.attempts + 1;
        let outcome = if row.expires_at <= now() {
            Outcome::Permanent("expired before it could be sent".into())
        } else {
            self.send(&row).await
        };
        let recorded = match outcome {
            Outcome::Sent => {
                tracing::info!(mail_id = %row.id, attempt, "mail sent");
                outbox::remove(&self.db, &row.id, &self.node).await.map(drop)
            }
            Outcome::Permanent(reason) => {
                tracing::error!(mail_id = %row.id, attempt, %reason, "mail not sent; given up");
                outbox::remove(&self.db, &row.id, &self.node).await.map(drop)
            }
            Outcome::Transient(reason) => {
                let retry_at = now_ms() + backoff_ms(attempt);
                tracing::warn!(mail_id = %row.id, attempt, %reason, "mail not sent; will retry");
                outbox::retry_later(&self.db, &row.id, &self.node, retry_at, &reason).await
            }
        };
        if let Err(e) = recorded {
            // The claim lapses and another attempt follows: at most a duplicate, never a loss.
            tracing::warn!(mail_id = %row.id, error = %e, "recording a mail attempt failed");
        }
    }

    async fn send(&self, row: &QueuedMail) -> Outcome {
        let to: lettre::message::Mailbox = match row.recipient.parse() {
            Ok(to) => to,
            Err(e) => return Outcome::Permanent(format!("recipient: {e}")),
        };
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}@{}>", random_token(), self.domain)))
            .multipart(lettre::message::MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ));
        let message = match message {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(format!("building the message: {e}")),
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Permanent(e.to_string()),
            Err(e) => Outcome::Transient(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let waits: Vec<i64> = (1..=4).map(backoff_ms).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(i32::MAX), MAX_BACKOFF_MS, "no overflow");
    }
}
