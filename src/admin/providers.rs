//! Upstream providers through the admin API: the config file's (read-only) and the runtime ones
//! (created, changed, disabled and deleted), shown without their client secret. The rules and
//! the writing are `upstream::runtime`'s; this module shapes requests and answers for it.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminError, Operator, Page, Paging};
use crate::broker::{LinkingPolicy, SyncMode};
use crate::config::{ProviderConfig, ProviderKind, ResponseMode, UpstreamAuthMethod, UpstreamMfa};
use crate::upstream::mapping::ClaimMapping;
use crate::upstream::runtime::{self, ListedProvider, Origin, ProviderChangeError};
use crate::upstream::LiveRegistry;

/// Where a provider is declared, which decides whether it can be changed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderOrigin {
    /// The config file's `[[providers]]`: read-only through the API.
    ConfigFile,
    /// Stored in the database: changed through the API.
    Runtime,
}

/// A provider as the admin API shows it: never its client secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub origin: ProviderOrigin,
    /// Declared in the config file: update, enable, disable and delete are refused.
    pub read_only: bool,
    pub enabled: bool,
    /// Whether a client secret is set (it is write-only: never shown).
    pub has_client_secret: bool,
    /// Every setting as in a `[[providers]]` table, but the client secret.
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
}

fn view(p: ListedProvider) -> ProviderView {
    let c = p.config;
    let mut settings = match serde_json::to_value(&c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    settings.remove("client_secret");
    settings.retain(|_, v| !v.is_null());
    ProviderView {
        has_client_secret: c.client_secret.is_some()
            || c.client_secret_env.is_some()
            || c.signed_client_secret.is_some(),
        read_only: p.origin == Origin::ConfigFile,
        origin: match p.origin {
            Origin::ConfigFile => ProviderOrigin::ConfigFile,
            Origin::Runtime => ProviderOrigin::Runtime,
        },
        enabled: c.enabled,
        id: c.id,
        name: c.name,
        settings,
    }
}

/// The settings of a runtime provider, named as in a `[[providers]]` table. On create, `id`
/// (letters, digits, `-`, `_`), `name`, `client_id` and the kind's endpoints (`issuer` for
/// `oidc`) are required; on update, `id` is not given and a field left out stays as it is.
/// `client_secret` is write-only. File paths and environment variable names
/// (`client_secret_env`, `signed_client_secret`, SAML key files) are config-file only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The button label: "Sign in with <name>".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `oidc` (default), `oauth2` or `saml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<ProviderKind>,
    /// SVG markup shown on the button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// OIDC issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub issuer: Option<url::Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub authorization_endpoint: Option<url::Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub token_endpoint: Option<url::Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub userinfo_endpoint: Option<url::Url>,
    /// Further profile calls (kind `oauth2`): `[{url, claim, array, match}]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub profile_requests: Option<Vec<crate::config::ProfileRequest>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Write-only: never shown by any endpoint nor written to the audit trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(write_only)]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub auth_method: Option<UpstreamAuthMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
    /// `query` (default) or `form_post`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub response_mode: Option<ResponseMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_userinfo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_from_user_param: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_claim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_tenants: Option<Vec<String>>,
    /// SAML settings (kind `saml`): `idp_metadata_url` and the optional ones of `[providers.saml]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub saml: Option<crate::config::SamlSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_email: Option<bool>,
    /// `create` (default), `link_by_verified_email` or `link_only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub linking: Option<LinkingPolicy>,
    /// `import` (default) or `force`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub sync: Option<SyncMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_domains: Option<Vec<String>>,
    /// JSON pointers into the upstream claims: `{subject, email, email_verified, name, username, picture, groups}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub claims: Option<ClaimMapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_on_login: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_logout: Option<bool>,
    /// Whether it is offered and accepted (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `none` (default), `trust_upstream` or `always_local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub mfa: Option<UpstreamMfa>,
}

impl From<ProviderChangeError> for AdminError {
    fn from(e: ProviderChangeError) -> Self {
        match e {
            ProviderChangeError::Invalid { field, message } => AdminError::invalid(field, message),
            ProviderChangeError::DeclaredInFile(id) => AdminError::DeclaredProvider(id),
            ProviderChangeError::Exists(id) => AdminError::Conflict {
                field: "id".into(),
                problem: format!("a provider with id {id:?} exists already"),
            },
            ProviderChangeError::NotFound(id) => AdminError::NotFound { what: "provider", id },
            ProviderChangeError::Store(e) => AdminError::ProviderStore(e),
        }
    }
}

/// `settings` laid over `base` (the given fields replace those of `base`), as a provider.
fn merged(base: Map<String, Value>, settings: &ProviderSettings) -> Result<ProviderConfig, AdminError> {
    let mut object = base;
    if let Ok(Value::Object(given)) = serde_json::to_value(settings) {
        object.extend(given);
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| {
        let message = e.to_string();
        let field = message.split('`').nth(1).unwrap_or("body").to_owned();
        AdminError::invalid(&field, message)
    })
}

/// Every provider: the config file's, then the runtime ones, in login-page order.
pub async fn list(op: &Operator<'_>, live: &LiveRegistry, paging: Paging) -> Result<Page<ProviderView>, AdminError> {
    let all = runtime::list(op.db, live).await?;
    let total = all.len() as u64;
    let items = all
        .into_iter()
        .skip(paging.offset as usize)
        .take(paging.limit as usize)
        .map(view)
        .collect();
    Ok(Page {
        items,
        total,
        limit: paging.limit,
        offset: paging.offset,
    })
}

async fn load(op: &Operator<'_>, live: &LiveRegistry, id: &str) -> Result<ListedProvider, AdminError> {
    runtime::list(op.db, live)
        .await?
        .into_iter()
        .find(|p| p.config.id == id)
        .ok_or_else(|| AdminError::NotFound {
            what: "provider",
            id: id.into(),
        })
}

/// One provider.
pub async fn get(op: &Operator<'_>, live: &LiveRegistry, id: &str) -> Result<ProviderView, AdminError> {
    Ok(view(load(op, live, id).await?))
}

/// Creates a runtime provider; in force on this node at once, on the others within seconds.
pub async fn create(
    op: &Operator<'_>,
    live: &LiveRegistry,
    settings: ProviderSettings,
) -> Result<ProviderView, AdminError> {
    for (field, given) in [("id", &settings.id), ("name", &settings.name)] {
        if given.as_deref().is_none_or(|v| v.trim().is_empty()) {
            return Err(AdminError::invalid(field, "required"));
        }
    }
    let config = merged(Map::new(), &settings)?;
    let stored = runtime::create(op.db, live, &op.actor, config).await?;
    Ok(view(ListedProvider {
        config: stored.config,
        origin: Origin::Runtime,
    }))
}

/// Changes the given settings of a runtime provider (the client secret stays unless given).
pub async fn update(
    op: &Operator<'_>,
    live: &LiveRegistry,
    id: &str,
    settings: ProviderSettings,
) -> Result<ProviderView, AdminError> {
    if settings.id.as_deref().is_some_and(|given| given != id) {
        return Err(AdminError::invalid("id", "a provider's id cannot change"));
    }
    let current = load(op, live, id).await?;
    if current.origin == Origin::ConfigFile {
        return Err(AdminError::DeclaredProvider(id.into()));
    }
    let base = match serde_json::to_value(&current.config) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let config = merged(base, &settings)?;
    let stored = runtime::update(op.db, live, &op.actor, config).await?;
    Ok(view(ListedProvider {
        config: stored.config,
        origin: Origin::Runtime,
    }))
}

/// Enables or disables a runtime provider (its button and its logins; linked identities stay).
pub async fn set_enabled(
    op: &Operator<'_>,
    live: &LiveRegistry,
    id: &str,
    enabled: bool,
) -> Result<ProviderView, AdminError> {
    let stored = runtime::set_enabled(op.db, live, &op.actor, id, enabled).await?;
    Ok(view(ListedProvider {
        config: stored.config,
        origin: Origin::Runtime,
    }))
}

/// Deletes a runtime provider.
pub async fn delete(op: &Operator<'_>, live: &LiveRegistry, id: &str) -> Result<(), AdminError> {
    Ok(runtime::delete(op.db, live, &op.actor, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_shown_without_its_client_secret() {
        let shown = view(ListedProvider {
            config: ProviderConfig {
                id: "corp".into(),
                name: "Corp".into(),
                client_id: "gatehouse".into(),
                client_secret: Some("s3cret-value".into()),
                ..Default::default()
            },
            origin: Origin::Runtime,
        });
        let json = serde_json::to_string(&shown).unwrap();
        assert!(!json.contains("s3cret-value"), "{json}");
        assert!(shown.has_client_secret && !shown.read_only);
        assert_eq!(shown.settings["client_id"], "gatehouse");
    }

    #[test]
    fn given_settings_replace_only_their_fields() {
        let base = serde_json::to_value(ProviderConfig {
            id: "corp".into(),
            name: "Corp".into(),
            client_id: "a".into(),
            client_secret: Some("kept".into()),
            ..Default::default()
        })
        .unwrap();
        let Value::Object(base) = base else { panic!() };
        let changed = merged(
            base,
            &ProviderSettings {
                name: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.client_secret.as_deref()),
            ("Renamed", Some("kept"))
        );
    }
}
