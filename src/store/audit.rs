//! The audit trail's table: rows are appended and read, never changed; the only removal is the
//! retention purge of events older than a cutoff (the database refuses any other UPDATE or
//! DELETE with a trigger, and a cutoff closer than a day to now).
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::audit_event;

pub use audit_event::Model as AuditRow;

/// An event to append.
#[derive(Debug, Clone, Default)]
pub struct NewAuditRow {
    pub at_ms: i64,
    pub kind: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub provider: Option<String>,
    pub method: Option<String>,
    pub address: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// An exact kind, or a family when it ends in `.*` (`admin.*`).
    pub kind: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// From this Unix millisecond on (inclusive).
    pub since_ms: Option<i64>,
    /// Before this Unix millisecond (exclusive).
    pub until_ms: Option<i64>,
    pub limit: u64,
    pub offset: u64,
}

/// A time-ordered id: 13 digits of milliseconds, then 64 random bits in hex.
fn new_id(at_ms: i64) -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{:013}-{:016x}", at_ms.max(0), u64::from_be_bytes(bytes))
}

/// Appends one event.
pub async fn append<C: ConnectionTrait>(db: &C, new: NewAuditRow) -> Result<AuditRow, DbErr> {
    audit_event::ActiveModel {
        id: Set(new_id(new.at_ms)),
        at_ms: Set(new.at_ms),
        kind: Set(new.kind),
        actor_kind: Set(new.actor_kind),
        actor_id: Set(new.actor_id),
        user_id: Set(new.user_id),
        client_id: Set(new.client_id),
        provider: Set(new.provider),
        method: Set(new.method),
        address: Set(new.address),
        detail: Set(new.detail.map(|d| d.to_string())),
    }
    .insert(db)
    .await
}

/// The events `q` selects, newest first, one page.
pub async fn list<C: ConnectionTrait>(db: &C, q: &AuditQuery) -> Result<Vec<AuditRow>, DbErr> {
    selected(q)
        .order_by_desc(audit_event::Column::Id)
        .limit(q.limit)
        .offset(q.offset)
        .all(db)
        .await
}

/// How many events `q` selects, on every page.
pub async fn count<C: ConnectionTrait>(db: &C, q: &AuditQuery) -> Result<u64, DbErr> {
    selected(q).count(db).await
}

fn selected(q: &AuditQuery) -> sea_orm::Select<audit_event::Entity> {
    let mut find = audit_event::Entity::find();
    if let Some(kind) = &q.kind {
        find = match kind.strip_suffix(".*") {
            Some(family) => find.filter(audit_event::Column::Kind.starts_with(format!("{family}."))),
            None => find.filter(audit_event::Column::Kind.eq(kind.as_str())),
        };
    }
    if let Some(u) = &q.user_id {
        find = find.filter(audit_event::Column::UserId.eq(u.as_str()));
    }
    if let Some(c) = &q.client_id {
        find = find.filter(audit_event::Column::ClientId.eq(c.as_str()));
    }
    if let Some(t) = q.since_ms {
        find = find.filter(audit_event::Column::AtMs.gte(t));
    }
    if let Some(t) = q.until_ms {
        find = find.filter(audit_event::Column::AtMs.lt(t));
    }
    find
}

/// Removes the events older than `cutoff_ms` (Unix milliseconds): raises the cutoff the delete
/// trigger checks, then deletes exactly the rows before it (call it in a transaction). Returns
/// how many went. The database refuses a cutoff less than a day old.
pub async fn purge_before<C: ConnectionTrait>(txn: &C, cutoff_ms: i64) -> Result<u64, DbErr> {
    use sea_orm::sea_query::{Alias, Expr, Query};
    let raise = Query::update()
        .table(Alias::new("audit_retention"))
        .value(Alias::new("cutoff_ms"), cutoff_ms)
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .and_where(Expr::col(Alias::new("cutoff_ms")).lt(cutoff_ms))
        .to_owned();
    txn.execute(txn.get_database_backend().build(&raise)).await?;
    let removed = audit_event::Entity::delete_many()
        .filter(audit_event::Column::AtMs.lt(cutoff_ms))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_the_order_events_happened() {
        let (a, b) = (new_id(999), new_id(1_700_000_000_000));
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), b.len());
        assert_ne!(new_id(5), new_id(5), "random part");
    }
}
