//! Rows of upstream providers created at run time; their rules are in `upstream::runtime`.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set};

use super::entities::runtime_provider;
use super::now;
use crate::config::ProviderConfig;

/// A stored runtime provider.
#[derive(Debug, Clone)]
pub struct StoredProvider {
    /// Its settings (`enabled` mirrors the row).
    pub config: ProviderConfig,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Why a row could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProviderRowError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("stored provider {id}: unreadable settings: {message}")]
    Unreadable { id: String, message: String },
}

fn to_stored(m: runtime_provider::Model) -> Result<StoredProvider, ProviderRowError> {
    let mut config: ProviderConfig = serde_json::from_str(&m.settings).map_err(|e| ProviderRowError::Unreadable {
        id: m.id.clone(),
        message: e.to_string(),
    })?;
    config.id = m.id;
    config.enabled = m.enabled;
    Ok(StoredProvider {
        config,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn settings_of(config: &ProviderConfig) -> Result<String, ProviderRowError> {
    serde_json::to_string(config).map_err(|e| ProviderRowError::Unreadable {
        id: config.id.clone(),
        message: e.to_string(),
    })
}

/// Every runtime provider, in login-page order.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<StoredProvider>, ProviderRowError> {
    runtime_provider::Entity::find()
        .order_by_asc(runtime_provider::Column::Position)
        .order_by_asc(runtime_provider::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_stored)
        .collect()
}

/// The runtime provider with this id.
pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<StoredProvider>, ProviderRowError> {
    runtime_provider::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(to_stored)
        .transpose()
}

/// Stores a new provider after the others.
pub async fn insert<C: ConnectionTrait>(db: &C, config: &ProviderConfig) -> Result<StoredProvider, ProviderRowError> {
    let last: Option<i64> = runtime_provider::Entity::find()
        .select_only()
        .column_as(runtime_provider::Column::Position.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let t = now();
    let row = runtime_provider::ActiveModel {
        id: Set(config.id.clone()),
        settings: Set(settings_of(config)?),
        enabled: Set(config.enabled),
        position: Set(last.map_or(0, |p| p + 1)),
        created_at: Set(t),
        updated_at: Set(t),
    };
    to_stored(row.insert(db).await?)
}

/// Replaces a stored provider's settings; `None` when there is none with that id.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    config: &ProviderConfig,
) -> Result<Option<StoredProvider>, ProviderRowError> {
    let Some(row) = runtime_provider::Entity::find_by_id(config.id.clone()).one(db).await? else {
        return Ok(None);
    };
    let mut row: runtime_provider::ActiveModel = row.into();
    row.settings = Set(settings_of(config)?);
    row.enabled = Set(config.enabled);
    row.updated_at = Set(now());
    Ok(Some(to_stored(row.update(db).await?)?))
}

/// Deletes a stored provider; whether there was one.
pub async fn delete<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool, ProviderRowError> {
    let res = runtime_provider::Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(res.rows_affected > 0)
}
