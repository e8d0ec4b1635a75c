//! The audit trail, read back: filtered by kind, user, client and time, newest first.
use serde::Serialize;

use super::{AdminError, Operator, Page, Paging};
use crate::store::audit::{self as repo, AuditQuery, AuditRow};

/// One recorded event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Time-ordered: a later event has a greater id.
    pub id: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// `sign_in.success`, `sign_in.failure`, `sign_in.throttled`, `identity.link`,
    /// `identity.unlink`, `mfa.enrol`, `mfa.remove`, `mfa.recovery_codes`,
    /// `refresh_token.reuse`, or `admin.<what>.<change>`.
    pub kind: String,
    /// `person`, `machine`, `operator`, `anonymous` or `system`.
    pub actor_kind: String,
    /// The person's user id, the machine client's id, or the operator's OS user name.
    pub actor_id: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub provider: Option<String>,
    pub method: Option<String>,
    /// The requesting client's address.
    pub address: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl From<AuditRow> for EventView {
    fn from(r: AuditRow) -> Self {
        Self {
            detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
            id: r.id,
            at_ms: r.at_ms,
            kind: r.kind,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            user_id: r.user_id,
            client_id: r.client_id,
            provider: r.provider,
            method: r.method,
            address: r.address,
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// An exact kind, or a family such as `admin.*`.
    pub kind: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// Unix milliseconds, inclusive.
    pub since_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until_ms: Option<i64>,
}

fn check_kind(kind: &str) -> Result<(), AdminError> {
    let ok = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .strip_suffix(".*")
            .unwrap_or(kind)
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "kind",
            "an event kind such as sign_in.failure, or a family such as admin.*",
        ))
    }
}

/// One page of the events `filter` selects, newest first.
pub async fn list(op: &Operator<'_>, filter: EventFilter, paging: Paging) -> Result<Page<EventView>, AdminError> {
    if let Some(k) = &filter.kind {
        check_kind(k)?;
    }
    if let (Some(a), Some(b)) = (filter.since_ms, filter.until_ms) {
        if a >= b {
            return Err(AdminError::invalid("until", "must be later than since"));
        }
    }
    let q = AuditQuery {
        kind: filter.kind,
        user_id: filter.user_id,
        client_id: filter.client_id,
        since_ms: filter.since_ms,
        until_ms: filter.until_ms,
        limit: paging.limit,
        offset: paging.offset,
    };
    let total = repo::count(op.db, &q).await?;
    let items: Vec<EventView> = repo::list(op.db, &q).await?.into_iter().map(EventView::from).collect();
    Ok(Page {
        total,
        items,
        limit: paging.limit,
        offset: paging.offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_families_are_accepted_and_anything_else_is_not() {
        assert!(check_kind("sign_in.failure").is_ok());
        assert!(check_kind("admin.*").is_ok());
        assert!(check_kind("admin.%").is_err());
        assert!(check_kind("").is_err());
    }
}
