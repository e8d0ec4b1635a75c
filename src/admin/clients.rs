//! Client applications: registered, listed, changed, given a new secret, disabled or deleted
//! (their tokens end). Clients declared in the configuration file are read-only here: the file
//! stays their source of truth and would overwrite any change at the next start.
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::sessions::{revoke_tokens, TokensOf};
use super::{AdminError, Operator, Page, Paging};
use crate::audit::{self, Event, EventKind};
use crate::keys::SigningAlg;
use crate::store::clients::{
    self, AccessTokenFormat, AssertionKeys, Client, ClientError, NewClient, RefreshPolicy, TokenSettings,
};
use crate::store::entities::{client, consent_grant};
use crate::store::random_token;

/// How a client authenticates at the token endpoint (RFC 7591 §2 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A public client: no secret, PKCE.
    None,
    /// A secret, sent with HTTP Basic (or in the form: both are accepted).
    ClientSecretBasic,
    /// A secret, sent in the form (or with HTTP Basic: both are accepted).
    ClientSecretPost,
    /// A secret that also keys HMAC client assertions (kept in the clear for that).
    ClientSecretJwt,
    /// Signed client assertions only, checked with `jwks` or `jwks_uri`.
    PrivateKeyJwt,
}

impl AuthMethod {
    fn of(c: &Client) -> Self {
        match (c.public, c.has_secret(), c.assertion_keys.hmac_secret.is_some()) {
            (true, _, _) => AuthMethod::None,
            (false, _, true) => AuthMethod::ClientSecretJwt,
            (false, true, false) => AuthMethod::ClientSecretBasic,
            (false, false, false) => AuthMethod::PrivateKeyJwt,
        }
    }

    fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
        )
    }

    /// Secret-based methods are one registration (either way of sending the secret works).
    fn same_secret_kind(self, other: AuthMethod) -> bool {
        let plain = |m| matches!(m, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost);
        self == other || (plain(self) && plain(other))
    }
}

/// A client as the admin API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub token_endpoint_auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Providers its users may sign in with; absent = all.
    pub allowed_providers: Option<Vec<String>>,
    pub require_consent: bool,
    pub require_pkce: bool,
    pub require_mfa: bool,
    pub require_par: bool,
    /// `RS256` or `ES256`.
    pub id_token_signed_response_alg: String,
    /// `never`, `offline_access` or `always`.
    #[schema(value_type = String)]
    pub refresh_tokens: RefreshPolicy,
    /// Seconds a refresh token lives unused.
    pub refresh_token_sliding_lifetime: i64,
    /// Seconds after the first grant when a refresh family ends.
    pub refresh_token_absolute_lifetime: i64,
    /// `opaque` or `jwt`.
    #[schema(value_type = String)]
    pub access_token_format: AccessTokenFormat,
    /// Scopes for the client_credentials grant.
    pub machine_scopes: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub jwks_uri: Option<String>,
    /// Whether an inline JWK Set is registered.
    pub has_jwks: bool,
    pub disabled: bool,
    /// Declared in the configuration file: read-only through the API.
    pub declared: bool,
    /// Unix seconds.
    pub created_at: i64,
}

fn view(c: Client) -> ClientView {
    ClientView {
        declared: c.declared,
        token_endpoint_auth_method: AuthMethod::of(&c),
        has_jwks: c.assertion_keys.jwks.is_some(),
        jwks_uri: c.assertion_keys.jwks_uri.clone(),
        client_id: c.id,
        name: c.name,
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris,
        allowed_providers: c.allowed_providers,
        require_consent: c.require_consent,
        require_pkce: c.require_pkce,
        require_mfa: c.require_mfa,
        require_par: c.require_par,
        id_token_signed_response_alg: c.id_token_alg.as_str().into(),
        refresh_tokens: c.tokens.refresh_tokens,
        refresh_token_sliding_lifetime: c.tokens.refresh_token_sliding_lifetime,
        refresh_token_absolute_lifetime: c.tokens.refresh_token_absolute_lifetime,
        access_token_format: c.tokens.access_token_format,
        machine_scopes: c.machine_scopes,
        backchannel_logout_uri: c.backchannel_logout_uri,
        frontchannel_logout_uri: c.frontchannel_logout_uri,
        disabled: c.disabled,
        created_at: c.created_at,
    }
}

/// The settings of a client. On create, `client_id` is required (1 to 128 of
/// `A-Z a-z 0-9 . _ ~ : -`), and so are `redirect_uris` unless the client only uses
/// client_credentials; every other field has a default. On update, `client_id` is not given
/// and a field left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: Option<String>,
    pub name: Option<String>,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Providers its users may sign in with; an empty list = all.
    pub allowed_providers: Option<Vec<String>>,
    pub require_consent: Option<bool>,
    pub require_pkce: Option<bool>,
    pub require_mfa: Option<bool>,
    pub require_par: Option<bool>,
    /// `RS256` or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
    /// `never`, `offline_access` or `always`.
    #[schema(value_type = Option<String>)]
    pub refresh_tokens: Option<RefreshPolicy>,
    pub refresh_token_sliding_lifetime: Option<i64>,
    pub refresh_token_absolute_lifetime: Option<i64>,
    /// `opaque` or `jwt`.
    #[schema(value_type = Option<String>)]
    pub access_token_format: Option<AccessTokenFormat>,
    pub machine_scopes: Option<Vec<String>>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    /// An inline JWK Set (a JSON string) for private_key_jwt.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
}

/// A client and, when one was just made, its secret: shown this once, never stored in the clear
/// (but for client_secret_jwt, whose HMAC needs it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: Option<String>,
}

/// Every client, by id.
pub async fn list(op: &Operator<'_>, paging: Paging) -> Result<Page<ClientView>, AdminError> {
    let all = clients::list(op.db).await?;
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

async fn load<C: sea_orm::ConnectionTrait>(db: &C, id: &str) -> Result<Client, AdminError> {
    clients::find(db, id).await?.ok_or_else(|| AdminError::NotFound {
        what: "client",
        id: id.into(),
    })
}

/// One client.
pub async fn get(op: &Operator<'_>, id: &str) -> Result<ClientView, AdminError> {
    Ok(view(load(op.db, id).await?))
}

fn check_client_id(id: &str) -> Result<(), AdminError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid("client_id", "1 to 128 of A-Z a-z 0-9 . _ ~ : -"))
    }
}

/// Refuses to change a client the configuration file declares (the next start would undo it).
fn refuse_declared(c: &Client) -> Result<(), AdminError> {
    if c.declared {
        return Err(AdminError::Declared(c.id.clone()));
    }
    Ok(())
}

/// Applies `s` over `base` (a new client's defaults, or the registered settings).
fn apply(base: NewClient, s: &ClientSettings, method: AuthMethod) -> Result<NewClient, AdminError> {
    let alg = match &s.id_token_signed_response_alg {
        Some(a) => SigningAlg::parse(a)
            .ok_or_else(|| AdminError::invalid("id_token_signed_response_alg", "must be RS256 or ES256"))?,
        None => base.id_token_alg,
    };
    for (field, v) in [
        ("refresh_token_sliding_lifetime", s.refresh_token_sliding_lifetime),
        ("refresh_token_absolute_lifetime", s.refresh_token_absolute_lifetime),
    ] {
        if v.is_some_and(|v| v <= 0) {
            return Err(AdminError::invalid(field, "must be a positive number of seconds"));
        }
    }
    if s.name.as_deref().is_some_and(|n| n.trim().is_empty() || n.len() > 256) {
        return Err(AdminError::invalid("name", "1 to 256 characters"));
    }
    let or_keep = |v: Option<String>, keep: Option<String>| match v {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(v),
        None => keep,
    };
    let tokens = TokenSettings {
        refresh_tokens: s.refresh_tokens.unwrap_or(base.tokens.refresh_tokens),
        refresh_token_sliding_lifetime: s
            .refresh_token_sliding_lifetime
            .unwrap_or(base.tokens.refresh_token_sliding_lifetime),
        refresh_token_absolute_lifetime: s
            .refresh_token_absolute_lifetime
            .unwrap_or(base.tokens.refresh_token_absolute_lifetime),
        access_token_format: s.access_token_format.unwrap_or(base.tokens.access_token_format),
    };
    if tokens.refresh_token_sliding_lifetime > tokens.refresh_token_absolute_lifetime {
        return Err(AdminError::invalid(
            "refresh_token_sliding_lifetime",
            "must not exceed refresh_token_absolute_lifetime",
        ));
    }
    let keys = AssertionKeys {
        jwks: or_keep(s.jwks.clone(), base.assertion_keys.jwks.clone()),
        jwks_uri: or_keep(s.jwks_uri.clone(), base.assertion_keys.jwks_uri.clone()),
        hmac_secret: base.assertion_keys.hmac_secret.clone(),
    };
    if method == AuthMethod::PrivateKeyJwt && keys.jwks.is_none() && keys.jwks_uri.is_none() {
        return Err(AdminError::invalid("jwks", "private_key_jwt needs jwks or jwks_uri"));
    }
    Ok(NewClient {
        name: s.name.clone().unwrap_or(base.name),
        public: method == AuthMethod::None,
        redirect_uris: s.redirect_uris.clone().unwrap_or(base.redirect_uris),
        post_logout_redirect_uris: s
            .post_logout_redirect_uris
            .clone()
            .unwrap_or(base.post_logout_redirect_uris),
        require_consent: s.require_consent.unwrap_or(base.require_consent),
        require_pkce: s.require_pkce.unwrap_or(base.require_pkce),
        require_mfa: s.require_mfa.unwrap_or(base.require_mfa),
        require_par: s.require_par.unwrap_or(base.require_par),
        id_token_alg: alg,
        allowed_providers: match &s.allowed_providers {
            Some(p) if p.is_empty() => None,
            Some(p) => Some(p.clone()),
            None => base.allowed_providers,
        },
        tokens,
        backchannel_logout_uri: or_keep(s.backchannel_logout_uri.clone(), base.backchannel_logout_uri),
        frontchannel_logout_uri: or_keep(s.frontchannel_logout_uri.clone(), base.frontchannel_logout_uri),
        assertion_keys: keys,
        machine_scopes: s.machine_scopes.clone().unwrap_or(base.machine_scopes),
        ..base
    })
}

/// The store's refusal, named by the field it is about.
fn client_error(e: ClientError, new: &NewClient) -> AdminError {
    match e {
        ClientError::InvalidUri(uri, why) => {
            let field = [
                ("redirect_uris", new.redirect_uris.contains(&uri)),
                (
                    "post_logout_redirect_uris",
                    new.post_logout_redirect_uris.contains(&uri),
                ),
                (
                    "backchannel_logout_uri",
                    new.backchannel_logout_uri.as_ref() == Some(&uri),
                ),
                (
                    "frontchannel_logout_uri",
                    new.frontchannel_logout_uri.as_ref() == Some(&uri),
                ),
                ("jwks_uri", new.assertion_keys.jwks_uri.as_ref() == Some(&uri)),
            ]
            .into_iter()
            .find(|(_, here)| *here)
            .map_or("redirect_uris", |(f, _)| f);
            AdminError::invalid(field, format!("{uri:?}: {why}"))
        }
        ClientError::MissingSecret | ClientError::PublicWithSecret => {
            AdminError::invalid("token_endpoint_auth_method", e.to_string())
        }
        ClientError::InvalidJwks(why) => AdminError::invalid("jwks", why),
        ClientError::PublicMachine | ClientError::InvalidMachineScope(..) => {
            AdminError::invalid("machine_scopes", e.to_string())
        }
        ClientError::Db(e) => AdminError::Db(e),
    }
}

/// Registers a new client; a secret-based one gets a fresh secret, returned this once.
pub async fn create(op: &Operator<'_>, s: ClientSettings) -> Result<ClientWithSecret, AdminError> {
    let id = s
        .client_id
        .clone()
        .ok_or_else(|| AdminError::invalid("client_id", "required"))?;
    check_client_id(&id)?;
    let s = &s;
    if s.redirect_uris.is_none() && s.machine_scopes.as_ref().is_none_or(|m| m.is_empty()) {
        return Err(AdminError::invalid(
            "redirect_uris",
            "required, unless the client only uses client_credentials (machine_scopes)",
        ));
    }
    let method = s.token_endpoint_auth_method.unwrap_or(AuthMethod::ClientSecretBasic);
    let secret = method.uses_secret().then(random_token);
    let base = NewClient {
        id: id.clone(),
        name: id.clone(),
        secret: secret.clone(),
        public: false,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        require_consent: false,
        require_pkce: true,
        id_token_alg: SigningAlg::RS256,
        allowed_providers: None,
        tokens: TokenSettings::default(),
        backchannel_logout_uri: None,
        assertion_keys: AssertionKeys {
            hmac_secret: secret.clone().filter(|_| method == AuthMethod::ClientSecretJwt),
            ..Default::default()
        },
        require_par: false,
        introspect_any: false,
        frontchannel_logout_uri: None,
        require_mfa: false,
        machine_scopes: vec![],
    };
    let new = apply(base, s, method)?;
    let txn = op.db.begin().await?;
    if client::Entity::find_by_id(id.clone()).one(&txn).await?.is_some() {
        return Err(AdminError::Conflict {
            field: "client_id".into(),
            problem: format!("a client {id:?} is registered already"),
        });
    }
    let saved = clients::upsert(&txn, new.clone())
        .await
        .map_err(|e| client_error(e, &new))?;
    let event = Event::new(EventKind::Admin("client.create"), op.actor.clone())
        .client(saved.id.clone())
        .detail(serde_json::json!({"token_endpoint_auth_method": method}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(ClientWithSecret {
        client: view(saved),
        client_secret: secret,
    })
}

/// The registration a client has now, as the base of a change.
fn registered(c: &Client) -> NewClient {
    NewClient {
        id: c.id.clone(),
        name: c.name.clone(),
        secret: None,
        public: c.public,
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        require_consent: c.require_consent,
        require_pkce: c.require_pkce,
        id_token_alg: c.id_token_alg,
        allowed_providers: c.allowed_providers.clone(),
        tokens: c.tokens.clone(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        assertion_keys: c.assertion_keys.clone(),
        require_par: c.require_par,
        introspect_any: c.introspect_any,
        frontchannel_logout_uri: c.frontchannel_logout_uri.clone(),
        require_mfa: c.require_mfa,
        machine_scopes: c.machine_scopes.clone(),
    }
}

/// Changes a client's settings. A change to another kind of authentication method that uses a
/// secret issues a new one (returned this once); the same kind keeps the secret it has.
pub async fn update(op: &Operator<'_>, id: &str, s: ClientSettings) -> Result<ClientWithSecret, AdminError> {
    if s.client_id.is_some() {
        return Err(AdminError::invalid("client_id", "a client's id cannot be changed"));
    }
    let txn = op.db.begin().await?;
    let current = load(&txn, id).await?;
    refuse_declared(&current)?;
    let was = AuthMethod::of(&current);
    let method = s.token_endpoint_auth_method.unwrap_or(was);
    let mut base = registered(&current);
    let keep = method.uses_secret() && was.same_secret_kind(method);
    let secret = (method.uses_secret() && !keep).then(random_token);
    base.assertion_keys.hmac_secret = match method {
        AuthMethod::ClientSecretJwt => secret.clone().or(base.assertion_keys.hmac_secret),
        _ => None,
    };
    base.secret = secret.clone();
    let new = apply(base, &s, method)?;
    let saved = if keep {
        clients::update_keeping_secret(&txn, new.clone()).await
    } else {
        clients::upsert(&txn, new.clone()).await
    }
    .map_err(|e| client_error(e, &new))?;
    let event = Event::new(EventKind::Admin("client.update"), op.actor.clone())
        .client(id)
        .detail(serde_json::json!({"new_secret": secret.is_some()}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(ClientWithSecret {
        client: view(saved),
        client_secret: secret,
    })
}

/// Gives a secret-based client a new secret (returned this once); the old one stops working.
pub async fn rotate_secret(op: &Operator<'_>, id: &str) -> Result<ClientWithSecret, AdminError> {
    let txn = op.db.begin().await?;
    let current = load(&txn, id).await?;
    refuse_declared(&current)?;
    let method = AuthMethod::of(&current);
    if !method.uses_secret() {
        return Err(AdminError::invalid(
            "token_endpoint_auth_method",
            "this client authenticates without a secret",
        ));
    }
    let secret = random_token();
    let mut new = registered(&current);
    new.secret = Some(secret.clone());
    if method == AuthMethod::ClientSecretJwt {
        new.assertion_keys.hmac_secret = Some(secret.clone());
    }
    let saved = clients::upsert(&txn, new.clone())
        .await
        .map_err(|e| client_error(e, &new))?;
    audit::record(
        &txn,
        Event::new(EventKind::Admin("client.rotate_secret"), op.actor.clone()).client(id),
    )
    .await?;
    txn.commit().await?;
    Ok(ClientWithSecret {
        client: view(saved),
        client_secret: Some(secret),
    })
}

/// Disables (or enables) a client. Disabling ends every token it holds at once: it is then
/// unknown to every endpoint until enabled. Returns how many refresh tokens were revoked.
pub async fn set_disabled(op: &Operator<'_>, id: &str, disabled: bool) -> Result<(ClientView, u64), AdminError> {
    let txn = op.db.begin().await?;
    refuse_declared(&load(&txn, id).await?)?;
    let row = client::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| AdminError::NotFound {
            what: "client",
            id: id.into(),
        })?;
    let mut m: client::ActiveModel = row.into();
    m.disabled = Set(disabled);
    m.update(&txn).await?;
    let revoked = if disabled {
        revoke_tokens(&txn, TokensOf::Client(id)).await?
    } else {
        0
    };
    let kind = if disabled { "client.disable" } else { "client.enable" };
    let event = Event::new(EventKind::Admin(kind), op.actor.clone())
        .client(id)
        .detail(serde_json::json!({"refresh_tokens_revoked": revoked}));
    audit::record(&txn, event).await?;
    let saved = load(&txn, id).await?;
    // Other nodes drop their cached copy within seconds.
    crate::store::changes::bump(&txn, crate::store::changes::Topic::Clients).await?;
    txn.commit().await?;
    Ok((view(saved), revoked))
}

/// Deletes a client; every token it holds is revoked and its users' consents forgotten.
pub async fn delete(op: &Operator<'_>, id: &str) -> Result<u64, AdminError> {
    let txn = op.db.begin().await?;
    refuse_declared(&load(&txn, id).await?)?;
    client::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    let revoked = revoke_tokens(&txn, TokensOf::Client(id)).await?;
    consent_grant::Entity::delete_many()
        .filter(consent_grant::Column::ClientId.eq(id))
        .exec(&txn)
        .await?;
    let event = Event::new(EventKind::Admin("client.delete"), op.actor.clone())
        .client(id)
        .detail(serde_json::json!({"refresh_tokens_revoked": revoked}));
    audit::record(&txn, event).await?;
    crate::store::changes::bump(&txn, crate::store::changes::Topic::Clients).await?;
    txn.commit().await?;
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(check_client_id("billing-api.v2").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("has space").is_err());
        assert!(check_client_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn basic_and_post_are_one_kind_of_secret() {
        assert!(AuthMethod::ClientSecretBasic.same_secret_kind(AuthMethod::ClientSecretPost));
        assert!(!AuthMethod::ClientSecretBasic.same_secret_kind(AuthMethod::ClientSecretJwt));
        assert!(!AuthMethod::None.uses_secret());
    }
}
