//! Clients and users declared in the config file, applied to the database at start-up.
use sea_orm::DatabaseConnection;

use super::{ClientDecl, Config, UserDecl};

/// The demo client of `gatehouse serve` (see `demo`).
pub const DEMO_CLIENT_ID: &str = "gatehouse-demo";
/// The account page, a client of Gatehouse like any other (see `login::account`).
pub const ACCOUNT_CLIENT_ID: &str = "gatehouse-account";
use crate::keys::SigningAlg;
use crate::store::clients::{self, NewClient, RefreshPolicy, TokenSettings};
use crate::store::users::{self, NewUser};

/// Why a declaration could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum DeclarationError {
    #[error("{what}: environment variable {var} is not set")]
    MissingEnv { what: String, var: String },
    #[error("client {0}: id_token_signed_response_alg must be RS256 or ES256")]
    BadAlg(String),
    #[error("client {id}: {source}")]
    Client { id: String, source: clients::ClientError },
    #[error("user: {0}")]
    User(#[from] users::UserError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

fn secret_of(what: String, value: &Option<String>, env: &Option<String>) -> Result<Option<String>, DeclarationError> {
    match (value, env) {
        (Some(v), _) => Ok(Some(v.clone())),
        (None, Some(var)) => std::env::var(var)
            .map(Some)
            .map_err(|_| DeclarationError::MissingEnv { what, var: var.clone() }),
        (None, None) => Ok(None),
    }
}

fn to_new_client(c: &ClientDecl) -> Result<NewClient, DeclarationError> {
    let alg = match &c.id_token_signed_response_alg {
        None => SigningAlg::RS256,
        Some(a) => SigningAlg::parse(a).ok_or_else(|| DeclarationError::BadAlg(c.id.clone()))?,
    };
    let secret = secret_of(format!("client {}", c.id), &c.secret, &c.secret_env)?;
    Ok(NewClient {
        id: c.id.clone(),
        name: c.name.clone().unwrap_or_else(|| c.id.clone()),
        secret: secret.clone(),
        public: c.public,
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        require_consent: c.require_consent,
        require_pkce: c.require_pkce,
        id_token_alg: alg,
        allowed_providers: c.allowed_providers.clone(),
        tokens: c.token_settings(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        assertion_keys: crate::store::clients::AssertionKeys {
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            hmac_secret: if c.client_secret_jwt { secret.clone() } else { None },
        },
        require_par: c.require_par,
        introspect_any: c.introspect_any,
        frontchannel_logout_uri: c.frontchannel_logout_uri.clone(),
        require_mfa: c.require_mfa,
        machine_scopes: c.machine_scopes.clone(),
    })
}

/// Upserts declared clients (the file is their source of truth), creates missing declared users,
/// and registers the demo client when the demo is on.
pub async fn apply(db: &DatabaseConnection, config: &Config) -> Result<(), DeclarationError> {
    let mut declared = Vec::new();
    for c in &config.clients {
        declared.push(upsert_client(db, to_new_client(c)?).await?);
    }
    // The account page is a client of Gatehouse like any other (see login::account).
    declared.push(upsert_client(db, account_client(config)).await?);
    if config.demo.enabled {
        declared.push(upsert_client(db, demo_client(config)).await?);
    }
    clients::mark_declared(db, &declared).await?;
    for u in &config.users {
        create_user_if_missing(db, u).await?;
    }
    Ok(())
}

/// Registers one client; a refusal names it.
async fn upsert_client(db: &DatabaseConnection, new: NewClient) -> Result<String, DeclarationError> {
    let id = new.id.clone();
    clients::upsert(db, new)
        .await
        .map(|c| c.id.clone())
        .map_err(|source| DeclarationError::Client { id, source })
}

/// The account page's registration: it has no use for refresh tokens.
fn account_client(config: &Config) -> NewClient {
    let tokens = TokenSettings {
        refresh_tokens: RefreshPolicy::Never,
        ..Default::default()
    };
    own_page_client(
        config,
        ACCOUNT_CLIENT_ID,
        "Your Gatehouse account",
        "/account/callback",
        tokens,
    )
}

/// The demo application's registration.
fn demo_client(config: &Config) -> NewClient {
    let tokens = Default::default();
    own_page_client(
        config,
        DEMO_CLIENT_ID,
        "Gatehouse demo application",
        "/demo/callback",
        tokens,
    )
}

/// A page Gatehouse serves itself, registered as a public client (PKCE, no consent) called back
/// at `callback` and sent to the front page after logout.
fn own_page_client(config: &Config, id: &str, name: &str, callback: &str, tokens: TokenSettings) -> NewClient {
    NewClient {
        id: id.into(),
        name: name.into(),
        secret: None,
        public: true,
        redirect_uris: vec![config.endpoint(callback)],
        post_logout_redirect_uris: vec![config.endpoint("/")],
        require_consent: false,
        require_pkce: true,
        id_token_alg: SigningAlg::RS256,
        allowed_providers: None,
        tokens,
        backchannel_logout_uri: None,
        assertion_keys: Default::default(),
        require_par: false,
        introspect_any: false,
        frontchannel_logout_uri: None,
        require_mfa: false,
        machine_scopes: Vec::new(),
    }
}

/// Creates a declared user unless the username is taken: unlike clients, existing accounts are
/// left as they are.
async fn create_user_if_missing(db: &DatabaseConnection, u: &UserDecl) -> Result<(), DeclarationError> {
    if users::find_by_username(db, &u.username).await?.is_some() {
        return Ok(());
    }
    let password = secret_of(format!("user {}", u.username), &u.password, &u.password_env)?;
    users::create(
        db,
        NewUser {
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            name: u.name.clone(),
            password,
            groups: vec![],
        },
    )
    .await?;
    tracing::info!(username = %u.username, "created user from config");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gatehouse_s_own_pages_are_public_pkce_clients_called_back_on_the_issuer() {
        let config = Config {
            issuer: "https://sso.example".parse().unwrap(),
            ..Default::default()
        };
        let account = account_client(&config);
        assert_eq!(account.id, ACCOUNT_CLIENT_ID);
        assert_eq!(account.redirect_uris, ["https://sso.example/account/callback"]);
        assert_eq!(account.post_logout_redirect_uris, ["https://sso.example/"]);
        assert!(account.public && account.require_pkce && !account.require_consent);
        assert_eq!(account.tokens.refresh_tokens, RefreshPolicy::Never);
        let demo = demo_client(&config);
        assert_eq!(demo.id, DEMO_CLIENT_ID);
        assert_eq!(demo.name, "Gatehouse demo application");
        assert_eq!(demo.redirect_uris, ["https://sso.example/demo/callback"]);
        assert_eq!(demo.tokens, TokenSettings::default());
    }
}
