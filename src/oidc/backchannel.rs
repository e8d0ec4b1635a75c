//! Ending a browser session everywhere: non-offline refresh tokens revoked, and an OIDC
//! Back-Channel Logout 1.0 logout token posted to every client the session touched.
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, Semaphore};
use tower_sessions::Session;

use crate::app::AppState;
use crate::login::session as login_session;
use crate::store::{now, random_token, refresh_tokens, session_clients};
use crate::web::error::PageError;

/// How many deliveries may wait; beyond that new ones are dropped and logged.
const QUEUE: usize = 1024;
/// Attempts per delivery, with doubling back-off from one second.
const ATTEMPTS: u32 = 3;

/// One logout token on its way to a client.
#[derive(Debug)]
struct Delivery {
    client_id: String,
    uri: String,
    logout_token: String,
}

/// The sender: a bounded queue drained by a background task.
#[derive(Clone)]
pub struct BackchannelNotifier {
    tx: mpsc::Sender<Delivery>,
}

impl BackchannelNotifier {
    /// Starts the delivery task (at most 8 deliveries in flight).
    pub fn spawn(http: reqwest::Client) -> Self {
        let (tx, mut rx) = mpsc::channel::<Delivery>(QUEUE);
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(8));
            while let Some(d) = rx.recv().await {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let http = http.clone();
                tokio::spawn(async move {
                    deliver(&http, &d).await;
                    drop(permit);
                });
            }
        });
        Self { tx }
    }

    fn enqueue(&self, d: Delivery) {
        if let Err(e) = self.tx.try_send(d) {
            tracing::warn!(error = %e, "back-channel logout queue full; delivery dropped");
        }
    }
}

async fn deliver(http: &reqwest::Client, d: &Delivery) {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let res = http
            .post(&d.uri)
            .form(&[("logout_token", d.logout_token.as_str())])
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                tracing::info!(client_id = %d.client_id, attempt, "back-channel logout delivered");
                return;
            }
            Ok(r) => {
                tracing::warn!(client_id = %d.client_id, attempt, status = %r.status(), "back-channel logout refused")
            }
            Err(e) => tracing::warn!(client_id = %d.client_id, attempt, error = %e, "back-channel logout failed"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
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

/// What ending a session leaves for the logout page to do.
#[derive(Debug, Default)]
pub struct Ended {
    /// Front-channel logout URLs (with `iss` and `sid`) to load in iframes.
    pub frontchannel: Vec<String>,
    /// For a brokered session: the provider and its session handle, to log out there too.
    pub upstream: Option<(String, Option<String>)>,
}

/// Ends the browser's session and tells every client that took part in it: back-channel
/// logout tokens are queued here; front-channel URLs are returned for the page.
pub async fn end_session(state: &AppState, session: &Session) -> Result<Ended, PageError> {
    let current = login_session::current(session).await?;
    login_session::end(session).await?;
    match current {
        Some(login) => terminate(state, &login).await,
        None => Ok(Ended::default()),
    }
}

/// Ends a sign-in session by its sid, wherever its browser is.
pub async fn terminate(state: &AppState, login: &login_session::LoginSession) -> Result<Ended, PageError> {
    let mut ended = Ended::default();
    crate::store::login_sessions::end(&state.db, &login.sid).await?;
    ended.upstream = login.idp.clone().map(|p| (p, login.upstream_session.clone()));
    refresh_tokens::revoke_session(&state.db, &login.sid).await?;
    let keys = state.keys.current().await?;
    for client_id in session_clients::take(&state.db, &login.sid).await? {
        let Some(client) = state.clients.get(&client_id).await? else {
            continue;
        };
        if let Some(front) = &client.frontchannel_logout_uri {
            let issuer = state.config.issuer_str();
            ended.frontchannel.push(crate::web::with_query(
                front,
                &[("iss", issuer.as_str()), ("sid", login.sid.as_str())],
            ));
        }
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let iat = now();
        let claims = LogoutToken {
            iss: state.config.issuer_str(),
            aud: &client.id,
            iat,
            exp: iat + 120,
            jti: random_token(),
            sub: &login.user_id,
            sid: &login.sid,
            events: json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
        };
        let logout_token = keys.sign_typed(client.id_token_alg, "logout+jwt", &claims)?;
        state.backchannel.enqueue(Delivery {
            client_id: client.id.clone(),
            uri,
            logout_token,
        });
    }
    Ok(ended)
}
