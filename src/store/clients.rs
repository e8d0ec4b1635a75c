//! Registered clients, with a moka cache in front (invalidated on change, short TTL across nodes).
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryOrder, Set};
use subtle::ConstantTimeEq;

use super::entities::client;
use super::{hash_secret, now};
use crate::keys::SigningAlg;

/// When a client gets refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshPolicy {
    Never,
    /// Only when the `offline_access` scope was asked for and granted (the token then outlives
    /// the browser session).
    #[default]
    OfflineAccess,
    /// With every code exchange (the token ends with the browser session unless offline).
    Always,
}

/// How access tokens look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// A random string only Gatehouse can interpret (userinfo, introspection).
    #[default]
    Opaque,
    /// A signed JWT per RFC 9068 (`typ: at+jwt`), still revocable through introspection.
    Jwt,
}

/// A client's token settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    pub refresh_tokens: RefreshPolicy,
    /// Seconds a refresh token stays valid unused (each rotation slides it).
    pub refresh_token_sliding_lifetime: i64,
    /// Seconds after the first grant when the whole refresh family ends.
    pub refresh_token_absolute_lifetime: i64,
    pub access_token_format: AccessTokenFormat,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            refresh_tokens: RefreshPolicy::OfflineAccess,
            refresh_token_sliding_lifetime: 14 * 86_400,
            refresh_token_absolute_lifetime: 30 * 86_400,
            access_token_format: AccessTokenFormat::Opaque,
        }
    }
}

fn policy_str(p: RefreshPolicy) -> &'static str {
    match p {
        RefreshPolicy::Never => "never",
        RefreshPolicy::OfflineAccess => "offline_access",
        RefreshPolicy::Always => "always",
    }
}

/// A relying party as the protocol code sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// Public clients (SPAs, native apps) hold no secret and must use PKCE.
    pub public: bool,
    secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub require_consent: bool,
    pub require_pkce: bool,
    pub id_token_alg: SigningAlg,
    /// Providers this client's users may sign in with; `None` = all.
    pub allowed_providers: Option<Vec<String>>,
    pub tokens: TokenSettings,
    /// OIDC Back-Channel Logout 1.0 receiver.
    pub backchannel_logout_uri: Option<String>,
    /// Keys for `private_key_jwt`.
    pub assertion_keys: AssertionKeys,
    /// Authorization requests must be pushed first (RFC 9126).
    pub require_par: bool,
    /// May introspect other clients' tokens (RFC 7662 §4).
    pub introspect_any: bool,
    /// OIDC Front-Channel Logout 1.0 page.
    pub frontchannel_logout_uri: Option<String>,
    /// Every sign-in for this client needs a second factor (local, or trusted from upstream).
    pub require_mfa: bool,
    /// Scopes the client may be granted for itself with `client_credentials`; empty = that
    /// grant is refused.
    pub machine_scopes: Vec<String>,
    /// Refused everywhere until enabled again (the registry does not return it).
    pub disabled: bool,
    /// When it was registered (Unix seconds).
    pub created_at: i64,
    /// Declared in the configuration file, its source of truth: read-only elsewhere.
    pub declared: bool,
}

/// Where a client's public keys for `private_key_jwt` come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssertionKeys {
    /// An inline JWK Set (JSON).
    pub jwks: Option<String>,
    /// A URL serving the JWK Set.
    pub jwks_uri: Option<String>,
    /// The shared secret for `client_secret_jwt` (HMAC), when the client opted in.
    pub hmac_secret: Option<String>,
}

impl AssertionKeys {
    /// Whether the client can authenticate with signed assertions.
    pub fn any(&self) -> bool {
        self.jwks.is_some() || self.jwks_uri.is_some() || self.hmac_secret.is_some()
    }
}

impl Client {
    /// Whether users of this client may sign in through `provider`.
    pub fn allows_provider(&self, provider: &str) -> bool {
        self.allowed_providers
            .as_ref()
            .is_none_or(|p| p.iter().any(|x| x == provider))
    }

    /// Exact string match, as OAuth 2.0 Security BCP requires.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|u| u == uri)
    }

    /// Exact match against the registered post-logout redirect URIs.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|u| u == uri)
    }

    /// Constant-time check of a presented client secret.
    pub fn secret_matches(&self, presented: &str) -> bool {
        match &self.secret_hash {
            Some(h) => h.as_bytes().ct_eq(hash_secret(presented).as_bytes()).into(),
            None => false,
        }
    }

    /// Whether a client secret is registered (its hash; the secret itself is never kept).
    pub fn has_secret(&self) -> bool {
        self.secret_hash.is_some()
    }

    /// Whether PKCE must accompany every authorize request.
    pub fn pkce_required(&self) -> bool {
        self.public || self.require_pkce
    }
}

/// What a client is registered with.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: String,
    pub name: String,
    pub secret: Option<String>,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub require_consent: bool,
    pub require_pkce: bool,
    pub id_token_alg: SigningAlg,
    pub allowed_providers: Option<Vec<String>>,
    pub tokens: TokenSettings,
    pub backchannel_logout_uri: Option<String>,
    pub assertion_keys: AssertionKeys,
    pub require_par: bool,
    pub frontchannel_logout_uri: Option<String>,
    pub introspect_any: bool,
    pub require_mfa: bool,
    /// Scopes for `client_credentials` (confidential clients only); empty = none.
    pub machine_scopes: Vec<String>,
}

/// Why a client could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid redirect URI {0:?}: {1}")]
    InvalidUri(String, &'static str),
    #[error("a confidential client needs a secret or keys (jwks / jwks_uri)")]
    MissingSecret,
    #[error("jwks is not a valid JWK Set: {0}")]
    InvalidJwks(String),
    #[error("a public client cannot have a secret")]
    PublicWithSecret,
    #[error("a public client cannot use the client_credentials grant (machine_scopes)")]
    PublicMachine,
    #[error("machine scope {0:?} is not allowed: {1}")]
    InvalidMachineScope(String, &'static str),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Refuses a redirect (or logout, or JWKS) URI that is not absolute, has a fragment or an
/// unsafe scheme.
pub fn check_uri(uri: &str) -> Result<(), ClientError> {
    let parsed = url::Url::parse(uri).map_err(|_| ClientError::InvalidUri(uri.into(), "not an absolute URL"))?;
    if parsed.fragment().is_some() {
        return Err(ClientError::InvalidUri(uri.into(), "must not contain a fragment"));
    }
    if matches!(parsed.scheme(), "javascript" | "data" | "file") {
        return Err(ClientError::InvalidUri(uri.into(), "scheme not allowed"));
    }
    Ok(())
}

fn to_client(m: client::Model) -> Client {
    Client {
        id: m.id,
        name: m.name,
        public: m.public,
        secret_hash: m.secret_hash,
        redirect_uris: serde_json::from_str(&m.redirect_uris).unwrap_or_default(),
        post_logout_redirect_uris: serde_json::from_str(&m.post_logout_redirect_uris).unwrap_or_default(),
        require_consent: m.require_consent,
        require_pkce: m.require_pkce,
        id_token_alg: SigningAlg::parse(&m.id_token_signed_response_alg).unwrap_or(SigningAlg::RS256),
        allowed_providers: m.allowed_providers.and_then(|p| serde_json::from_str(&p).ok()),
        tokens: TokenSettings {
            refresh_tokens: match m.refresh_tokens.as_str() {
                "never" => RefreshPolicy::Never,
                "always" => RefreshPolicy::Always,
                _ => RefreshPolicy::OfflineAccess,
            },
            refresh_token_sliding_lifetime: m.refresh_sliding_secs,
            refresh_token_absolute_lifetime: m.refresh_absolute_secs,
            access_token_format: if m.access_token_format == "jwt" {
                AccessTokenFormat::Jwt
            } else {
                AccessTokenFormat::Opaque
            },
        },
        backchannel_logout_uri: m.backchannel_logout_uri,
        assertion_keys: AssertionKeys {
            jwks: m.jwks,
            jwks_uri: m.jwks_uri,
            hmac_secret: m.secret_for_jwt,
        },
        require_par: m.require_par,
        introspect_any: m.introspect_any,
        frontchannel_logout_uri: m.frontchannel_logout_uri,
        require_mfa: m.require_mfa,
        machine_scopes: m
            .machine_scopes
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        disabled: m.disabled,
        created_at: m.created_at,
        declared: m.declared,
    }
}

/// The scopes about a user (`flow::request::SUPPORTED_SCOPES`, whose test keeps the two equal).
pub const USER_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// Checks a scope a client may be granted for itself: a scope token (RFC 6749 §3.3), and none
/// of those that only make sense for a user (no ID token, no refresh token is issued).
pub fn check_machine_scope(scope: &str) -> Result<(), ClientError> {
    let bad = |why| Err(ClientError::InvalidMachineScope(scope.into(), why));
    if scope.is_empty()
        || !scope
            .chars()
            .all(|c| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c))
    {
        return bad("not a scope token");
    }
    if USER_SCOPES.contains(&scope) {
        return bad("a user scope (client_credentials tokens have no user)");
    }
    Ok(())
}

/// Refuses a registration that is inconsistent or has a malformed URI, scope or key set.
fn check_registration(new: &NewClient) -> Result<(), ClientError> {
    check_settings(new, false)
}

/// [`check_registration`] for a client that may keep the secret it has (`keeps_secret`).
fn check_settings(new: &NewClient, keeps_secret: bool) -> Result<(), ClientError> {
    for u in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
        .chain(&new.backchannel_logout_uri)
        .chain(&new.frontchannel_logout_uri)
    {
        check_uri(u)?;
    }
    match (new.public, &new.secret) {
        (true, Some(_)) => return Err(ClientError::PublicWithSecret),
        (true, None) if keeps_secret => return Err(ClientError::PublicWithSecret),
        (false, None) if !keeps_secret && !new.assertion_keys.any() => return Err(ClientError::MissingSecret),
        // client_secret_jwt's key is the client secret itself.
        _ if !keeps_secret
            && new.assertion_keys.hmac_secret.is_some()
            && new.assertion_keys.hmac_secret != new.secret =>
        {
            return Err(ClientError::MissingSecret)
        }
        _ => {}
    }
    if new.public && !new.machine_scopes.is_empty() {
        return Err(ClientError::PublicMachine);
    }
    for scope in &new.machine_scopes {
        check_machine_scope(scope)?;
    }
    if let Some(j) = &new.assertion_keys.jwks {
        serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(j).map_err(|e| ClientError::InvalidJwks(e.to_string()))?;
    }
    if let Some(u) = &new.assertion_keys.jwks_uri {
        check_uri(u)?;
    }
    Ok(())
}

/// Creates the client, or replaces its settings when the id exists.
pub async fn upsert<C: ConnectionTrait>(db: &C, new: NewClient) -> Result<Client, ClientError> {
    check_registration(&new)?;
    save(db, new, false).await
}

/// Replaces an existing client's settings but keeps its secret (hash) and its client_secret_jwt
/// key as they are; `new.secret` must be `None`.
pub async fn update_keeping_secret<C: ConnectionTrait>(db: &C, new: NewClient) -> Result<Client, ClientError> {
    check_settings(&new, true)?;
    save(db, new, true).await
}

async fn save<C: ConnectionTrait>(db: &C, new: NewClient, keep_secret: bool) -> Result<Client, ClientError> {
    let existing = client::Entity::find_by_id(new.id.clone()).one(db).await?;
    let kept = existing.as_ref().filter(|_| keep_secret);
    let model = client::ActiveModel {
        id: Set(new.id),
        name: Set(new.name),
        secret_hash: Set(match kept {
            Some(e) => e.secret_hash.clone(),
            None => new.secret.as_deref().map(hash_secret),
        }),
        disabled: Set(existing.as_ref().is_some_and(|e| e.disabled)),
        declared: Set(existing.as_ref().is_some_and(|e| e.declared)),
        public: Set(new.public),
        redirect_uris: Set(serde_json::to_string(&new.redirect_uris).unwrap_or_default()),
        post_logout_redirect_uris: Set(serde_json::to_string(&new.post_logout_redirect_uris).unwrap_or_default()),
        require_consent: Set(new.require_consent),
        require_pkce: Set(new.require_pkce),
        id_token_signed_response_alg: Set(new.id_token_alg.as_str().into()),
        created_at: Set(existing.as_ref().map(|e| e.created_at).unwrap_or_else(now)),
        allowed_providers: Set(new
            .allowed_providers
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default())),
        refresh_tokens: Set(policy_str(new.tokens.refresh_tokens).into()),
        refresh_sliding_secs: Set(new.tokens.refresh_token_sliding_lifetime),
        refresh_absolute_secs: Set(new.tokens.refresh_token_absolute_lifetime),
        access_token_format: Set(match new.tokens.access_token_format {
            AccessTokenFormat::Opaque => "opaque".into(),
            AccessTokenFormat::Jwt => "jwt".into(),
        }),
        backchannel_logout_uri: Set(new.backchannel_logout_uri.clone()),
        jwks: Set(new.assertion_keys.jwks.clone()),
        jwks_uri: Set(new.assertion_keys.jwks_uri.clone()),
        secret_for_jwt: Set(match kept {
            Some(e) => e.secret_for_jwt.clone(),
            None => new.assertion_keys.hmac_secret.clone(),
        }),
        require_par: Set(new.require_par),
        introspect_any: Set(new.introspect_any),
        require_mfa: Set(new.require_mfa),
        frontchannel_logout_uri: Set(new.frontchannel_logout_uri.clone()),
        machine_scopes: Set(
            (!new.machine_scopes.is_empty()).then(|| serde_json::to_string(&new.machine_scopes).unwrap_or_default())
        ),
    };
    let saved = if existing.is_some() {
        model.update(db).await?
    } else {
        model.insert(db).await?
    };
    // Every node's cached copy goes within a second (`propagation`), not after the cache's TTL.
    super::changes::bump(db, super::changes::Topic::Clients).await?;
    Ok(to_client(saved))
}

/// Marks exactly the clients `ids` as declared by the configuration file (a client dropped from
/// the file becomes an ordinary one, which the admin API may then change or delete).
pub async fn mark_declared<C: ConnectionTrait>(db: &C, ids: &[String]) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    client::Entity::update_many()
        .col_expr(client::Column::Declared, Expr::value(false))
        .filter(client::Column::Id.is_not_in(ids.iter().cloned()))
        .exec(db)
        .await?;
    client::Entity::update_many()
        .col_expr(client::Column::Declared, Expr::value(true))
        .filter(client::Column::Id.is_in(ids.iter().cloned()))
        .exec(db)
        .await?;
    Ok(())
}

/// The client with this id, disabled or not, read on `db` itself (inside a transaction, where
/// the registry's own connection may be the one the transaction holds).
pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Client>, DbErr> {
    Ok(client::Entity::find_by_id(id.to_owned()).one(db).await?.map(to_client))
}

/// Every client, by id.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<Client>, DbErr> {
    Ok(client::Entity::find()
        .order_by_asc(client::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_client)
        .collect())
}

/// Looks clients up by id through a cache.
#[derive(Clone)]
pub struct ClientRegistry {
    db: DatabaseConnection,
    cache: moka::future::Cache<String, Option<Arc<Client>>>,
}

impl ClientRegistry {
    /// A registry over `db`; entries live 30 s so other nodes' changes arrive.
    pub fn new(db: DatabaseConnection) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(Duration::from_secs(30))
            .build();
        Self { db, cache }
    }

    /// The client with this id, if registered.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<Client>>, DbErr> {
        // No client id holds a NUL, and PostgreSQL refuses one in a query (a 500): an id
        // taken from an unverified assertion's `sub` reaches here without the request guard.
        if id.contains('\0') {
            return Ok(None);
        }
        let db = self.db.clone();
        let key = id.to_owned();
        self.cache
            .try_get_with(id.to_owned(), async move {
                Ok::<_, DbErr>(
                    client::Entity::find_by_id(key)
                        .one(&db)
                        .await?
                        // A disabled client is unknown to the protocol until enabled again.
                        .filter(|m| !m.disabled)
                        .map(|m| Arc::new(to_client(m))),
                )
            })
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))
    }

    /// Forgets every cached client (another node or a reload changed some).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Drops the cached copy of a client this node changed (other nodes' copies expire).
    pub async fn forget(&self, id: &str) {
        self.cache.invalidate(id).await;
    }

    /// Registers or updates a client and drops its cached copy.
    pub async fn upsert(&self, new: NewClient) -> Result<Client, ClientError> {
        let c = upsert(&self.db, new).await?;
        self.cache.invalidate(&c.id).await;
        Ok(c)
    }
}
