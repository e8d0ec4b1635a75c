//! The audit trail: what security events are, who caused them, and writing them down.
//!
//! When a write fails: an event that *grants* something (a sign-in, an admin change, a new
//! second factor) is written before or with the change and its failure fails the operation,
//! so nothing is granted that the trail does not show (as Keycloak writes events in the
//! request). An event that *refuses* something (a wrong password, a replayed refresh token) is
//! written after the refusal, and a failure to write it is logged at error level: the refusal
//! stands either way, and a database that cannot take the row cannot take the sign-in either.
use std::net::IpAddr;
use std::sync::Mutex;

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::store::audit::{self as repo, NewAuditRow};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignInSuccess,
    SignInFailure,
    /// An attempt refused unchecked: too many wrong passwords for the account.
    SignInThrottled,
    IdentityLinked,
    IdentityUnlinked,
    MfaEnrolled,
    MfaRemoved,
    RecoveryCodesReplaced,
    /// A rotated refresh token presented again: its family was revoked.
    RefreshTokenReuse,
    /// A change through the admin API or the CLI; the name is the operation (`user.disable`).
    Admin(&'static str),
}

impl EventKind {
    /// The stored name (`sign_in.success`, `admin.user.disable`, …).
    pub fn name(self) -> String {
        match self {
            EventKind::SignInSuccess => "sign_in.success".into(),
            EventKind::SignInFailure => "sign_in.failure".into(),
            EventKind::SignInThrottled => "sign_in.throttled".into(),
            EventKind::IdentityLinked => "identity.link".into(),
            EventKind::IdentityUnlinked => "identity.unlink".into(),
            EventKind::MfaEnrolled => "mfa.enrol".into(),
            EventKind::MfaRemoved => "mfa.remove".into(),
            EventKind::RecoveryCodesReplaced => "mfa.recovery_codes".into(),
            EventKind::RefreshTokenReuse => "refresh_token.reuse".into(),
            EventKind::Admin(op) => format!("admin.{op}"),
        }
    }
}

/// Every kind an event can have but the admin operations, as stored.
pub const KINDS: [&str; 9] = [
    "sign_in.success",
    "sign_in.failure",
    "sign_in.throttled",
    "identity.link",
    "identity.unlink",
    "mfa.enrol",
    "mfa.remove",
    "mfa.recovery_codes",
    "refresh_token.reuse",
];

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The person the event is about (signing in, changing their own factors).
    Person(String),
    /// A machine client, with its own access token (the admin API).
    Machine(String),
    /// Someone at the server's command line (`gatehouse user disable …`), as that OS user.
    Operator(String),
    /// Somebody not (yet) known: a refused sign-in attempt.
    Anonymous,
    /// Gatehouse itself (refusing a replayed token, say).
    System,
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<String>) {
        match self {
            Actor::Person(id) => ("person", Some(id.clone())),
            Actor::Machine(id) => ("machine", Some(id.clone())),
            Actor::Operator(name) => ("operator", Some(name.clone())),
            Actor::Anonymous => ("anonymous", None),
            Actor::System => ("system", None),
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub actor: Actor,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub provider: Option<String>,
    pub method: Option<String>,
    pub detail: Option<Value>,
}

impl Event {
    /// An event of `kind` caused by `actor`, about nothing yet.
    pub fn new(kind: EventKind, actor: Actor) -> Self {
        Self {
            kind,
            actor,
            user_id: None,
            client_id: None,
            provider: None,
            method: None,
            detail: None,
        }
    }

    /// About this account.
    pub fn user(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// About (or through) this client.
    pub fn client(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Through this upstream provider.
    pub fn provider(mut self, id: impl Into<String>) -> Self {
        self.provider = Some(id.into());
        self
    }

    /// By this method.
    pub fn method(mut self, m: impl Into<String>) -> Self {
        self.method = Some(m.into());
        self
    }

    /// With these details (a JSON object).
    pub fn detail(mut self, d: Value) -> Self {
        self.detail = Some(d);
        self
    }
}

/// What the request being served tells about any event it causes: the client's address and
/// the client application whose sign-in it is. Set by the edge around each request.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub address: Option<IpAddr>,
    client_id: Mutex<Option<String>>,
}

impl RequestContext {
    /// The context of a request from `address`.
    pub fn new(address: Option<IpAddr>) -> Self {
        Self {
            address,
            client_id: Mutex::new(None),
        }
    }
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// Runs `fut` with `ctx` as the request context of the events it records.
pub async fn in_context<F: std::future::Future>(ctx: RequestContext, fut: F) -> F::Output {
    CONTEXT.scope(ctx, fut).await
}

/// Notes the client application the current request acts for (a pending sign-in's client).
pub fn note_client(client_id: &str) {
    let _ = CONTEXT.try_with(|c| {
        if let Ok(mut slot) = c.client_id.lock() {
            *slot = Some(client_id.to_owned());
        }
    });
}

/// The client noted for the current request, if any.
pub fn noted_client() -> Option<String> {
    CONTEXT
        .try_with(|c| c.client_id.lock().ok().and_then(|s| s.clone()))
        .ok()
        .flatten()
}

fn context_address() -> Option<String> {
    CONTEXT.try_with(|c| c.address.map(|a| a.to_string())).ok().flatten()
}

/// Appends `event`, with the request's address and (unless the event names one) its client.
pub async fn record<C: ConnectionTrait>(db: &C, event: Event) -> Result<(), DbErr> {
    let (actor_kind, actor_id) = event.actor.parts();
    let row = NewAuditRow {
        at_ms: now_ms(),
        kind: event.kind.name(),
        actor_kind: actor_kind.into(),
        actor_id,
        user_id: event.user_id,
        client_id: event.client_id.or_else(noted_client),
        provider: event.provider,
        method: event.method,
        address: context_address(),
        detail: event.detail,
    };
    repo::append(db, row).await?;
    Ok(())
}

/// Appends an event about a refusal: a failure is logged, never passed on (the refusal stands).
pub async fn record_refusal<C: ConnectionTrait>(db: &C, event: Event) {
    let kind = event.kind.name();
    if let Err(e) = record(db, event).await {
        tracing::error!(error = %e, kind, "could not write an audit event");
    }
}

/// Purges the events older than the retention (`[audit] retention_days`), recording how many
/// went (as `admin.audit.purge`, by `actor`) in the same transaction. The database refuses any
/// other removal.
pub async fn purge_expired(
    db: &sea_orm::DatabaseConnection,
    retention: &crate::config::audit::AuditConfig,
    actor: Actor,
) -> Result<u64, DbErr> {
    use sea_orm::TransactionTrait;
    let cutoff_ms = retention.cutoff_ms(now_ms());
    let txn = db.begin().await?;
    let removed = repo::purge_before(&txn, cutoff_ms).await?;
    if removed > 0 {
        let detail = serde_json::json!({"removed": removed, "cutoff_ms": cutoff_ms});
        record(&txn, Event::new(EventKind::Admin("audit.purge"), actor).detail(detail)).await?;
    }
    txn.commit().await?;
    Ok(removed)
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_named_by_family_then_what() {
        assert_eq!(EventKind::SignInSuccess.name(), "sign_in.success");
        assert_eq!(EventKind::Admin("user.disable").name(), "admin.user.disable");
        let all = [
            EventKind::SignInSuccess,
            EventKind::SignInFailure,
            EventKind::SignInThrottled,
            EventKind::IdentityLinked,
            EventKind::IdentityUnlinked,
            EventKind::MfaEnrolled,
            EventKind::MfaRemoved,
            EventKind::RecoveryCodesReplaced,
            EventKind::RefreshTokenReuse,
        ];
        assert_eq!(all.map(|k| k.name()), KINDS.map(String::from));
    }

    #[tokio::test]
    async fn a_client_noted_in_a_request_is_seen_only_inside_it() {
        assert_eq!(noted_client(), None);
        let inside = in_context(RequestContext::new(None), async {
            note_client("rp");
            noted_client()
        })
        .await;
        assert_eq!(inside.as_deref(), Some("rp"));
        assert_eq!(noted_client(), None);
    }
}
