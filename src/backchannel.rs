//! OIDC Back-Channel Logout 1.0 deliveries: a logout token posted to every client a session
//! touched, from an outbox in the database that every node delivers from (see
//! `flow::signout` for what queues them).
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, Semaphore};

use crate::keys::{KeyStore, SigningAlg};
use crate::store::backchannel_outbox::{self as outbox, OutboxRow};
use crate::store::{now, random_token};

/// Attempts per notification, with doubling back-off from one second.
const ATTEMPTS: i32 = 3;
const FIRST_BACKOFF_MS: i64 = 1_000;
/// How long a node holds a notification for one attempt: well beyond the HTTP client's 10 s
/// timeout, so a live node never loses its claim, and a crashed node's claim lapses by itself.
const LEASE_MS: i64 = 60_000;
/// How often a node looks for notifications that other nodes stored or that became due again;
/// its own are delivered at once.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries in flight per node.
const IN_FLIGHT: usize = 8;

/// Wakes this node's delivery task; the task ends when the last notifier is dropped.
#[derive(Clone)]
pub struct BackchannelNotifier {
    wake: mpsc::Sender<()>,
}

/// What the delivery task needs: it signs each logout token when it sends it, so a notification
/// delivered after a restart or a retry still carries a fresh `iat`/`exp`.
#[derive(Clone)]
struct Deliverer {
    db: DatabaseConnection,
    http: reqwest::Client,
    keys: KeyStore,
    issuer: String,
    /// This node's name in claims.
    node: Arc<str>,
}

impl BackchannelNotifier {
    /// Starts this node's delivery task over the database's outbox.
    pub fn spawn(db: &DatabaseConnection, http: &reqwest::Client, keys: &KeyStore, issuer: String) -> Self {
        let (wake, rx) = mpsc::channel(1);
        let deliverer = Deliverer {
            db: db.clone(),
            http: http.clone(),
            keys: keys.clone(),
            issuer,
            node: random_token()[..16].into(),
        };
        tokio::spawn(deliverer.run(rx));
        Self { wake }
    }

    /// Tells the delivery task that notifications were stored.
    pub fn wake(&self) {
        // A full channel already holds a wake-up.
        let _ = self.wake.try_send(());
    }
}

impl Deliverer {
    async fn run(self, mut wake: mpsc::Receiver<()>) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            self.claim_due(&slots).await;
            tokio::select! {
                woken = wake.recv() => if woken.is_none() { break },
                _ = tokio::time::sleep(POLL) => {}
            }
        }
        tracing::debug!(node = %self.node, "back-channel logout delivery stopped");
    }

    /// Claims what is due, as far as there are free slots, and starts an attempt for each.
    async fn claim_due(&self, slots: &Arc<Semaphore>) {
        let free = slots.available_permits();
        if free == 0 {
            return;
        }
        let at = outbox::now_ms();
        let rows = match outbox::due(&self.db, at, free as u64).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "reading the back-channel logout outbox failed");
                return;
            }
        };
        for row in rows {
            match outbox::claim(&self.db, &row.id, &self.node, at, LEASE_MS).await {
                Ok(true) => {
                    let Ok(permit) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.attempt(row).await;
                        drop(permit);
                    });
                }
                // Another node is making this attempt.
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a back-channel logout failed"),
            }
        }
    }

    async fn attempt(&self, row: OutboxRow) {
        let attempt = row.attempts + 1;
        let recorded = match self.send(&row).await {
            Ok(()) => {
                tracing::info!(client_id = %row.client_id, attempt, "back-channel logout delivered");
                outbox::delivered(&self.db, &row.id, &self.node).await.map(drop)
            }
            Err(reason) => {
                let retry_at = (attempt < ATTEMPTS).then(|| outbox::now_ms() + (FIRST_BACKOFF_MS << (attempt - 1)));
                if retry_at.is_some() {
                    tracing::warn!(client_id = %row.client_id, attempt, %reason, "back-channel logout failed; will retry");
                } else {
                    tracing::warn!(client_id = %row.client_id, attempt, %reason, "back-channel logout failed; given up");
                }
                outbox::attempt_failed(&self.db, &row.id, &self.node, retry_at).await
            }
        };
        if let Err(e) = recorded {
            // The claim lapses and another attempt follows: at most a duplicate, never a loss.
            tracing::warn!(client_id = %row.client_id, error = %e, "recording a back-channel logout attempt failed");
        }
    }

    /// Signs the logout token and posts it; the reason when the client did not take it.
    async fn send(&self, row: &OutboxRow) -> Result<(), String> {
        let alg = SigningAlg::parse(&row.alg).unwrap_or(SigningAlg::RS256);
        let iat = now();
        let claims = LogoutToken {
            iss: self.issuer.clone(),
            aud: &row.client_id,
            iat,
            exp: iat + 120,
            jti: random_token(),
            sub: &row.sub,
            sid: &row.sid,
            events: json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
        };
        let logout_token = self
            .keys
            .current()
            .await
            .and_then(|keys| keys.sign_typed(alg, "logout+jwt", &claims))
            .map_err(|e| e.to_string())?;
        let res = self
            .http
            .post(&row.uri)
            .form(&[("logout_token", logout_token.as_str())])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("status {}", res.status()))
        }
    }
}

/// The logout token's claims (Back-Channel Logout 1.0 §2.4): no nonce, an events claim.
#[derive(Serialize)]
struct LogoutToken<'a> {
    iss: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sub: &'a str,
    sid: &'a str,
    events: serde_json::Value,
}
