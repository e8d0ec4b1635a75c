//! Upstream providers created, changed, disabled and deleted at run time (the admin API's
//! core), stored in the database next to the config file's providers, which stay read-only.
//! Every change raises the `providers` change version in the same transaction: each node's
//! [`LiveRegistry`] picks it up within seconds (`propagation`); [`refresh`] applies it here at
//! once. Every change writes its audit row (naming who made it, never the client secret) in the
//! same transaction.
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::LiveRegistry;
use crate::audit::{self, Actor, Event, EventKind};
use crate::config::ProviderConfig;
use crate::store::changes::{self, Topic};
use crate::store::providers::{self, ProviderRowError, StoredProvider};

/// Why a runtime provider change was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ProviderChangeError {
    /// The settings break a rule; `field` names the setting (`client_id`, `saml.idp_metadata_url`…).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The config file declares this id: it is changed there (and reloaded), not at run time.
    #[error("provider {0} is declared in the config file and read-only here")]
    DeclaredInFile(String),
    #[error("a provider with id {0} already exists")]
    Exists(String),
    #[error("no runtime provider with id {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] ProviderRowError),
}

impl From<sea_orm::DbErr> for ProviderChangeError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(ProviderRowError::Db(e))
    }
}

/// Which providers a listing shows, and whether each can be changed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Declared in the config file: read-only at run time.
    ConfigFile,
    /// Stored in the database: created, changed and deleted at run time.
    Runtime,
}

/// A provider as the admin API lists it.
#[derive(Debug, Clone)]
pub struct ListedProvider {
    pub config: ProviderConfig,
    pub origin: Origin,
}

/// The config file's providers, then the runtime ones (with disabled ones), in login-page order.
pub async fn list(db: &DatabaseConnection, live: &LiveRegistry) -> Result<Vec<ListedProvider>, ProviderChangeError> {
    let file = live.file_providers().into_iter().map(|config| ListedProvider {
        config,
        origin: Origin::ConfigFile,
    });
    let runtime = providers::list(db).await?.into_iter().map(|s| ListedProvider {
        config: s.config,
        origin: Origin::Runtime,
    });
    Ok(file.chain(runtime).collect())
}

/// Creates a runtime provider (enabled unless `config.enabled` is false) and puts it in force.
pub async fn create(
    db: &DatabaseConnection,
    live: &LiveRegistry,
    actor: &Actor,
    config: ProviderConfig,
) -> Result<StoredProvider, ProviderChangeError> {
    check(live, &config)?;
    let tx = db.begin().await?;
    if providers::find(&tx, &config.id).await?.is_some() {
        return Err(ProviderChangeError::Exists(config.id));
    }
    let stored = providers::insert(&tx, &config).await?;
    let detail = serde_json::json!({"kind": config.kind, "name": config.name, "enabled": config.enabled});
    audit::record(&tx, event("provider.create", actor, &config.id).detail(detail)).await?;
    changes::bump(&tx, Topic::Providers).await?;
    tx.commit().await?;
    refresh(db, live).await?;
    Ok(stored)
}

/// Replaces a runtime provider's settings (its id stays) and puts them in force.
pub async fn update(
    db: &DatabaseConnection,
    live: &LiveRegistry,
    actor: &Actor,
    config: ProviderConfig,
) -> Result<StoredProvider, ProviderChangeError> {
    check(live, &config)?;
    let tx = db.begin().await?;
    let before = providers::find(&tx, &config.id)
        .await?
        .ok_or_else(|| ProviderChangeError::NotFound(config.id.clone()))?;
    let stored = providers::update(&tx, &config)
        .await?
        .ok_or_else(|| ProviderChangeError::NotFound(config.id.clone()))?;
    let detail = serde_json::json!({"changed": changed_settings(&before.config, &config)});
    audit::record(&tx, event("provider.update", actor, &config.id).detail(detail)).await?;
    changes::bump(&tx, Topic::Providers).await?;
    tx.commit().await?;
    refresh(db, live).await?;
    Ok(stored)
}

/// Disables (or enables again) a runtime provider: its button goes, logins through it are
/// refused; its linked identities stay.
pub async fn set_enabled(
    db: &DatabaseConnection,
    live: &LiveRegistry,
    actor: &Actor,
    id: &str,
    enabled: bool,
) -> Result<StoredProvider, ProviderChangeError> {
    refuse_file_id(live, id)?;
    let tx = db.begin().await?;
    let mut config = providers::find(&tx, id)
        .await?
        .ok_or_else(|| ProviderChangeError::NotFound(id.into()))?
        .config;
    config.enabled = enabled;
    let stored = providers::update(&tx, &config)
        .await?
        .ok_or_else(|| ProviderChangeError::NotFound(id.into()))?;
    let op = if enabled { "provider.enable" } else { "provider.disable" };
    audit::record(&tx, event(op, actor, id)).await?;
    changes::bump(&tx, Topic::Providers).await?;
    tx.commit().await?;
    refresh(db, live).await?;
    Ok(stored)
}

/// Deletes a runtime provider.
pub async fn delete(
    db: &DatabaseConnection,
    live: &LiveRegistry,
    actor: &Actor,
    id: &str,
) -> Result<(), ProviderChangeError> {
    refuse_file_id(live, id)?;
    let tx = db.begin().await?;
    if !providers::delete(&tx, id).await? {
        return Err(ProviderChangeError::NotFound(id.into()));
    }
    audit::record(&tx, event("provider.delete", actor, id)).await?;
    changes::bump(&tx, Topic::Providers).await?;
    tx.commit().await?;
    refresh(db, live).await
}

/// Reads the runtime providers and puts the enabled ones in force on this node.
pub async fn refresh(db: &DatabaseConnection, live: &LiveRegistry) -> Result<(), ProviderChangeError> {
    let stored = providers::list(db).await?;
    live.set_runtime(stored.into_iter().map(|s| s.config).collect());
    Ok(())
}

/// The audit event of a change to provider `id`.
fn event(op: &'static str, actor: &Actor, id: &str) -> Event {
    Event::new(EventKind::Admin(op), actor.clone()).provider(id)
}

/// The names of the settings that differ (names only: the client secret's value never reaches
/// the audit trail).
fn changed_settings(before: &ProviderConfig, after: &ProviderConfig) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

fn refuse_file_id(live: &LiveRegistry, id: &str) -> Result<(), ProviderChangeError> {
    if live.file_providers().iter().any(|p| p.id == id) {
        return Err(ProviderChangeError::DeclaredInFile(id.into()));
    }
    Ok(())
}

/// The config file's rules, plus those of settings that come over the network: no file paths
/// and no environment variable names (an admin API caller must not make Gatehouse read the
/// server's files or environment and send them to a provider of the caller's choosing).
fn check(live: &LiveRegistry, config: &ProviderConfig) -> Result<(), ProviderChangeError> {
    refuse_file_id(live, &config.id)?;
    let invalid = |field, message: &str| {
        Err(ProviderChangeError::Invalid {
            field,
            message: message.into(),
        })
    };
    if config.client_secret_env.is_some() {
        return invalid("client_secret_env", "not for runtime providers: give client_secret");
    }
    if config.signed_client_secret.is_some() {
        return invalid(
            "signed_client_secret",
            "not for runtime providers (it names a key file): declare the provider in the config file",
        );
    }
    if let Some(saml) = &config.saml {
        if saml.idp_metadata_file.is_some() {
            return invalid(
                "saml.idp_metadata_file",
                "not for runtime providers: give saml.idp_metadata_url",
            );
        }
        if saml.sp_key_file.is_some() || saml.sp_cert_file.is_some() {
            return invalid(
                "saml.sp_key_file",
                "not for runtime providers: their SP key pair is generated and kept in the database",
            );
        }
    }
    config.validate().map_err(|message| ProviderChangeError::Invalid {
        field: field_of(&message),
        message,
    })?;
    // Built once to be sure it can be: a secret or a setting the connector refuses.
    super::Registry::from_providers(
        std::slice::from_ref(config),
        "http://validation.invalid",
        &sea_orm::DatabaseConnection::Disconnected,
        &reqwest::Client::new(),
    )
    .map_err(|message| ProviderChangeError::Invalid {
        field: "client_secret",
        message,
    })?;
    Ok(())
}

/// The setting a `ProviderConfig::validate` message is about (its first backquoted name, or
/// the one it starts with), for the admin API's problem details.
fn field_of(message: &str) -> &'static str {
    const FIELDS: &[&str] = &[
        "id",
        "name",
        "client_id",
        "client_secret",
        "issuer",
        "scopes",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "allowed_tenants",
        "tenant_claim",
        "profile_requests",
        "claims",
        "saml",
    ];
    if message.starts_with("provider id ") {
        return "id";
    }
    FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "id")
        .find(|f| {
            message.contains(&format!("`{f}`"))
                || message.contains(&format!(" {f}."))
                || message.contains(&format!(" {f}["))
        })
        .or_else(|| FIELDS.iter().copied().find(|f| *f != "id" && message.contains(f)))
        .unwrap_or("provider")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_setting_it_is_about() {
        assert_eq!(field_of("provider corp: `client_id` is not set"), "client_id");
        assert_eq!(field_of(r#"provider id "a b": use letters, digits, - and _"#), "id");
        assert_eq!(field_of("provider corp: kind oidc needs `issuer`"), "issuer");
        assert_eq!(
            field_of("provider corp: profile_requests[1].claim must be a plain claim name"),
            "profile_requests"
        );
        assert_eq!(
            field_of("provider corp: set exactly one of saml.idp_metadata_url and saml.idp_metadata_file"),
            "saml"
        );
    }
}
