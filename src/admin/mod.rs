//! Operating Gatehouse: the operations behind the admin API and the CLI's verbs (list, search,
//! disable, delete…), HTTP-free. Every change runs in one transaction together with its audit
//! row naming who made it, so a change is either complete and recorded or not made at all.
pub mod clients;
pub mod events;
pub mod keys;
pub mod providers;
pub mod sessions;
pub mod users;

use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::audit::Actor;
use crate::config::Config;

/// The scope that lets a machine client read through the admin API.
pub const READ_SCOPE: &str = "admin:read";
/// The scope that lets a machine client change things through the admin API.
pub const WRITE_SCOPE: &str = "admin:write";
/// Where the admin API lives, below the issuer.
pub const API_PATH: &str = "/admin/api/v1";

/// The audience of access tokens for the admin API: its URL.
pub fn audience(issuer: &str) -> String {
    format!("{issuer}{API_PATH}")
}

/// For a granted scope string: `None` when it has no admin scope, `Some(false)` when it has
/// only admin scopes, `Some(true)` when it mixes them with others (two audiences).
pub fn splits_audiences(scope: &str) -> Option<bool> {
    let (admin, other): (Vec<&str>, Vec<&str>) = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .partition(|s| *s == READ_SCOPE || *s == WRITE_SCOPE);
    (!admin.is_empty()).then_some(!other.is_empty())
}

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Nothing of that kind has that id.
    #[error("no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    /// A field of the request is malformed or inconsistent.
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    /// A field names something another record already holds.
    #[error("{field}: {problem}")]
    Conflict { field: String, problem: String },
    /// The client is declared in the configuration file, which stays its source of truth.
    #[error("client {0:?} is declared in the configuration file and is read-only here")]
    Declared(String),
    /// The upstream provider is declared in the configuration file, which stays its source of truth.
    #[error("provider {0:?} is declared in the configuration file and is read-only here")]
    DeclaredProvider(String),
    /// A stored runtime provider could not be read or written.
    #[error("runtime provider: {0}")]
    ProviderStore(#[from] crate::store::providers::ProviderRowError),
    /// What the operation needs is not set up on this server (mail without `[smtp]`).
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error("signing keys: {0}")]
    Keys(#[from] crate::keys::KeyError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl AdminError {
    /// A malformed `field`.
    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Who is operating, on what: every operation takes one.
pub struct Operator<'a> {
    pub db: &'a DatabaseConnection,
    pub config: &'a Config,
    /// Named in the audit row of every change.
    pub actor: Actor,
}

/// How much of a list to return.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: u64,
    pub offset: u64,
}

/// The most items one page holds.
pub const MAX_PAGE: u64 = 200;
/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: u64 = 50;

impl Paging {
    /// Checks a requested page: `limit` 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]).
    pub fn new(limit: Option<u64>, offset: Option<u64>) -> Result<Self, AdminError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(AdminError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        Ok(Self {
            limit,
            offset: offset.unwrap_or(0),
        })
    }

    /// This page of `select` (already filtered and ordered), with the total it pages through.
    pub async fn fetch<E, T>(
        self,
        select: sea_orm::Select<E>,
        db: &impl sea_orm::ConnectionTrait,
    ) -> Result<Page<T>, sea_orm::DbErr>
    where
        E: sea_orm::EntityTrait,
        E::Model: Into<T> + Sync,
    {
        use sea_orm::{PaginatorTrait, QuerySelect};
        let total = select.clone().count(db).await?;
        let items = select
            .limit(self.limit)
            .offset(self.offset)
            .all(db)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Page {
            items,
            total,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// `%` and `_` in a search typed by somebody match themselves (escaped with `\`).
fn like_pattern(search: &str) -> String {
    let mut p = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_between_one_and_the_maximum() {
        assert_eq!(Paging::new(None, None).unwrap().limit, DEFAULT_PAGE);
        assert!(matches!(Paging::new(Some(0), None), Err(AdminError::Invalid { field, .. }) if field == "limit"));
        assert!(Paging::new(Some(MAX_PAGE + 1), None).is_err());
        assert_eq!(Paging::new(Some(3), Some(9)).unwrap().offset, 9);
    }

    #[test]
    fn admin_scopes_travel_alone() {
        assert_eq!(splits_audiences("api:read"), None);
        assert_eq!(splits_audiences("admin:read admin:write"), Some(false));
        assert_eq!(splits_audiences("admin:read api:read"), Some(true));
    }

    #[test]
    fn search_wildcards_typed_by_a_person_match_literally() {
        assert_eq!(like_pattern(" Al_i%ce "), "%al\\_i\\%ce%");
    }
}
