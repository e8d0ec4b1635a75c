//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): authorization_code grant.
use std::collections::HashMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::claims::{at_hash, user_claims, IdTokenClaims, JwtAccessToken};
use super::client_auth::{AuthMethod, ClientForm};
use super::pkce;
use crate::audit::{self, Actor, Event, EventKind};
use crate::keys::KeySet;
use crate::state::AppState;
use crate::store::clients::{AccessTokenFormat, Client, RefreshPolicy, TokenSettings};
use crate::store::codes::{self, CodeRow, Redemption};
use crate::store::refresh_tokens::{self, Family, NewRefresh, RefreshRow, Rotation, Standing};
use crate::store::tokens::{self, NewAccessToken};
use crate::store::{now, random_token, users};

use super::token_error::no_store;
pub use super::token_error::TokenError;

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// `POST /token`.
pub async fn token(State(state): State<AppState>, form: ClientForm) -> Result<Response, TokenError> {
    let ClientForm { params, client, method } = form;
    let (grant, issued) = match params.get("grant_type").map(String::as_str) {
        None | Some("") => return Err(TokenError::InvalidRequest("grant_type is missing".into())),
        Some("authorization_code") => (
            "authorization_code",
            authorization_code(&state, &client, method, &params).await,
        ),
        Some("refresh_token") => ("refresh_token", refresh_token(&state, &client, &params).await),
        Some("client_credentials") => (
            "client_credentials",
            super::client_credentials::grant(&state, &client, &params).await,
        ),
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    };
    if issued.is_ok() {
        crate::metrics::token_issued(grant);
    }
    issued
}

/// A form parameter that must be present and non-empty; `invalid_request` naming it otherwise.
pub(super) fn required<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a String, TokenError> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TokenError::InvalidRequest(format!("{name} is missing")))
}

/// What the tokens of one grant are about, whichever grant type produced them.
struct Grant {
    user_id: String,
    scope: String,
    sid: String,
    auth_time: i64,
    amr: Vec<String>,
    idp: Option<String>,
    nonce: Option<String>,
    code_hash: Option<String>,
    /// The refresh family to continue (refresh grant) or `None` to decide afresh.
    family: Option<Family>,
    offline: bool,
    /// The refresh token to hand out, already stored (refresh grant); `None` mints one if the
    /// client's policy asks for it.
    refresh: Option<String>,
}

impl Grant {
    /// The grant a redeemed authorization code carries.
    fn from_code(row: CodeRow) -> Self {
        Grant {
            user_id: row.user_id,
            offline: row.scope.split(' ').any(|s| s == "offline_access"),
            scope: row.scope,
            sid: row.sid,
            auth_time: row.auth_time,
            amr: serde_json::from_str(&row.amr).unwrap_or_default(),
            idp: row.idp,
            nonce: row.nonce,
            code_hash: Some(row.code_hash),
            family: None,
            refresh: None,
        }
    }

    /// The grant a refresh token continues, with `scope` (perhaps narrowed); its successor
    /// token is still to be set.
    fn continuing(user: &users::User, scope: String, row: &RefreshRow) -> Self {
        Grant {
            user_id: user.id.clone(),
            scope,
            sid: row.sid.clone(),
            auth_time: row.auth_time,
            amr: serde_json::from_str(&row.amr).unwrap_or_default(),
            idp: row.idp.clone(),
            nonce: None,
            code_hash: None,
            family: Some(family_of(row)),
            offline: row.offline,
            refresh: None,
        }
    }

    /// The refresh token row that carries this grant on for the client `client_id`.
    fn refresh_record(&self, client_id: &str) -> NewRefresh {
        NewRefresh {
            client_id: client_id.to_string(),
            user_id: self.user_id.clone(),
            scope: self.scope.clone(),
            sid: self.sid.clone(),
            auth_time: self.auth_time,
            amr: self.amr.clone(),
            idp: self.idp.clone(),
            offline: self.offline,
        }
    }
}

/// The refresh family a stored refresh token belongs to.
fn family_of(row: &RefreshRow) -> Family {
    Family {
        id: row.family_id.clone(),
        expires_at: row.family_expires_at,
    }
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    method: AuthMethod,
    params: &HashMap<String, String>,
) -> Result<Response, TokenError> {
    let code = required(params, "code")?;
    let row = redeem_code(state, client, code).await?;
    check_code_use(&row, params, client.public && method == AuthMethod::None)?;
    let code_hash = row.code_hash.clone();
    let grant = Grant::from_code(row);
    let keys = state.keys.current().await?;
    let stored = store_tokens(state, client, &keys, &grant).await?;
    // Stored first, then one read: the user, and whether a replay racing this redemption came
    // meanwhile (it looked for these tokens before they existed, so they are revoked here).
    let after = codes::user_after_redemption(&state.db, &code_hash).await?;
    if after.replayed {
        revoke_issued_from_code(state, &code_hash).await?;
        tracing::warn!(client_id = %client.id, "authorization code replayed while redeemed; tokens revoked");
        return Err(TokenError::InvalidGrant("the code was already used".into()));
    }
    let user = match standing_user(client, after.user, grant.idp.as_deref(), after.still_linked) {
        Ok(user) => user,
        Err(refused) => {
            revoke_issued_from_code(state, &code_hash).await?;
            return Err(refused);
        }
    };
    answer(state, client, &keys, grant, &user, stored)
}

/// Consumes the code `client` presents. A code used before is a replay: what was issued from
/// it is revoked.
async fn redeem_code(state: &AppState, client: &Client, code: &str) -> Result<CodeRow, TokenError> {
    match codes::redeem(&state.db, code, &client.id).await? {
        Redemption::Fresh(row) => Ok(row),
        Redemption::Replayed(row) => {
            // Marked first: a first redemption still issuing sees the mark after storing its
            // tokens and revokes them itself, whichever of the two finishes last.
            codes::mark_replayed(&state.db, &row.code_hash).await?;
            revoke_issued_from_code(state, &row.code_hash).await?;
            tracing::warn!(client_id = %client.id, user_id = %row.user_id, "authorization code replayed; tokens issued from it revoked");
            Err(TokenError::InvalidGrant("the code was already used".into()))
        }
        Redemption::Expired => Err(TokenError::InvalidGrant("the code has expired".into())),
        Redemption::Unknown => Err(TokenError::InvalidGrant("the code is invalid".into())),
        Redemption::OtherClient => Err(TokenError::InvalidGrant("the code was issued to another client".into())),
    }
}

/// The token request must repeat the code's redirect_uri and prove its PKCE challenge;
/// `unauthenticated_public` (a public client that authenticated with nothing) needs a challenge.
fn check_code_use(
    row: &CodeRow,
    params: &HashMap<String, String>,
    unauthenticated_public: bool,
) -> Result<(), TokenError> {
    if params.get("redirect_uri") != Some(&row.redirect_uri) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri does not match the authorization request".into(),
        ));
    }
    if unauthenticated_public && row.code_challenge.is_none() {
        return Err(TokenError::InvalidGrant("a public client must use PKCE".into()));
    }
    pkce::verify(
        row.code_challenge.as_deref(),
        params.get("code_verifier").map(String::as_str),
    )
    .map_err(|e| TokenError::InvalidGrant(e.into()))
}

/// Revokes the access tokens issued from a code and the refresh families they started.
async fn revoke_issued_from_code(state: &AppState, code_hash: &str) -> Result<(), TokenError> {
    for family in tokens::families_of_code(&state.db, code_hash).await? {
        refresh_tokens::revoke_family(&state.db, &family).await?;
    }
    tokens::revoke_by_code(&state.db, code_hash).await?;
    Ok(())
}

/// The grant's user, if still enabled and (for brokered sign-ins) still linked to that provider
/// and that provider still accepted by the client; the links are read here.
async fn active_user(
    state: &AppState,
    client: &Client,
    user: Option<users::User>,
    idp: Option<&str>,
) -> Result<users::User, TokenError> {
    let linked = match (idp, &user) {
        (Some(provider), Some(u)) => crate::store::federated::for_user(&state.db, &u.id)
            .await?
            .iter()
            .any(|l| l.provider_id == provider),
        _ => false,
    };
    standing_user(client, user, idp, linked)
}

/// The grant's user, if still enabled and (for brokered sign-ins, `linked` telling whether the
/// link still stands) still linked to that provider and that provider still accepted by the client.
fn standing_user(
    client: &Client,
    user: Option<users::User>,
    idp: Option<&str>,
    linked: bool,
) -> Result<users::User, TokenError> {
    let user = match user {
        Some(u) if !u.disabled => u,
        _ => return Err(TokenError::InvalidGrant("the user is no longer active".into())),
    };
    if let Some(provider) = idp {
        if !client.allows_provider(provider) {
            return Err(TokenError::InvalidGrant(format!(
                "this client does not accept sign-in with {provider}"
            )));
        }
        if !linked {
            return Err(TokenError::InvalidGrant(
                "the external login behind this grant was unlinked".into(),
            ));
        }
    }
    Ok(user)
}

async fn refresh_token(
    state: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
) -> Result<Response, TokenError> {
    let presented = required(params, "refresh_token")?;
    let (row, user) = find_refresh_token(state, client, presented).await?;
    match refresh_tokens::standing(&row) {
        Standing::Usable => {}
        Standing::Rotated => return retry_or_replay(state, client, params, row, presented).await,
        Standing::Expired => return Err(TokenError::InvalidGrant("the refresh token has expired".into())),
        Standing::Revoked => return Err(TokenError::InvalidGrant("the refresh token was revoked".into())),
    }
    // Checked before rotating: a refused request leaves the token usable.
    let scope = narrowed_scope(&row.scope, params)?;
    let user = active_user(state, client, user, row.idp.as_deref()).await?;
    let mut grant = Grant::continuing(&user, scope, &row);
    let rotation = refresh_tokens::rotate(
        &state.db,
        &row,
        presented,
        grant.refresh_record(&client.id),
        &family_of(&row),
        client.tokens.refresh_token_sliding_lifetime,
    )
    .await?;
    grant.refresh = Some(match rotation {
        Rotation::Fresh(next) => next,
        // Presented twice at once: the later one is a retry of the first.
        Rotation::Lost(row) => return retry_or_replay(state, client, params, *row, presented).await,
    });
    issue(state, client, grant, &user).await
}

/// The stored row of the refresh token `client` presents, whatever its standing, with its user.
async fn find_refresh_token(
    state: &AppState,
    client: &Client,
    presented: &str,
) -> Result<(RefreshRow, Option<users::User>), TokenError> {
    let Some((row, user)) = refresh_tokens::find_with_user(&state.db, presented).await? else {
        return Err(TokenError::InvalidGrant("the refresh token is invalid".into()));
    };
    if row.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the refresh token was issued to another client".into(),
        ));
    }
    Ok((row, user))
}

/// A narrower scope may be asked for, never a wider one (RFC 6749 §6).
fn narrowed_scope(granted: &str, params: &HashMap<String, String>) -> Result<String, TokenError> {
    let granted: Vec<&str> = granted.split(' ').collect();
    Ok(match params.get("scope").filter(|s| !s.is_empty()) {
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(TokenError::InvalidScope(format!("scope {extra} was not granted")));
            }
            granted
                .iter()
                .filter(|s| asked.contains(s))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
        None => granted.join(" "),
    })
}

/// A rotated token presented again. Once, shortly after the rotation and while its successor is
/// unused, this is a client retrying after a lost answer: it gets the same successor again
/// (with a new access token). Anything else is a replay and ends the whole family.
async fn retry_or_replay(
    state: &AppState,
    client: &Client,
    params: &HashMap<String, String>,
    row: RefreshRow,
    presented: &str,
) -> Result<Response, TokenError> {
    let window = state.config.lifetimes.refresh_retry_window as i64;
    if let Some((next, successor)) = refresh_tokens::retry_candidate(&state.db, &row, presented, window).await? {
        let scope = narrowed_scope(&successor.scope, params)?;
        let user = users::find(&state.db, &successor.user_id).await?;
        let user = active_user(state, client, user, successor.idp.as_deref()).await?;
        if refresh_tokens::claim_retry(&state.db, &row, window).await? {
            tracing::info!(client_id = %client.id, family = %row.family_id, "refresh token retried within its window; same successor returned");
            let grant = Grant {
                refresh: Some(next),
                ..Grant::continuing(&user, scope, &successor)
            };
            return issue(state, client, grant, &user).await;
        }
    }
    let revoked = refresh_tokens::revoke_family(&state.db, &row.family_id).await?;
    let event = Event::new(EventKind::RefreshTokenReuse, Actor::System)
        .user(row.user_id.clone())
        .client(client.id.clone())
        .detail(serde_json::json!({"family": row.family_id, "revoked": revoked}));
    audit::record_refusal(&state.db, event).await;
    tracing::warn!(client_id = %client.id, user_id = %row.user_id, family = %row.family_id, revoked, "refresh token reused after rotation; family revoked");
    Err(TokenError::InvalidGrant("the refresh token was already used".into()))
}

/// Mints the access token, refresh token (when the client's policy says so) and ID token for
/// `user`, whom the grant is about.
async fn issue(state: &AppState, client: &Client, g: Grant, user: &users::User) -> Result<Response, TokenError> {
    let keys = state.keys.current().await?;
    let stored = store_tokens(state, client, &keys, &g).await?;
    answer(state, client, &keys, g, user, stored)
}

/// The grant's tokens, stored (access token, refresh token), not yet answered.
struct Stored {
    access_token: String,
    refresh_token: Option<String>,
    iat: i64,
}

/// Mints and stores the access token and (when the client's policy says so) the refresh token,
/// and notes the client as a participant of the sign-in session (for back-channel logout).
async fn store_tokens(state: &AppState, client: &Client, keys: &KeySet, g: &Grant) -> Result<Stored, TokenError> {
    let family = refresh_family(g.family.as_ref(), &client.tokens, g.offline);
    let iat = now();
    let access_token = access_token(state, client, keys, g, family.as_ref(), iat).await?;
    let refresh_token = refresh_token_of(state, client, g, family.as_ref()).await?;
    state
        .participants
        .record(&state.db, &g.sid, &client.id, &g.user_id)
        .await?;
    Ok(Stored {
        access_token,
        refresh_token,
        iat,
    })
}

/// The token response: the stored tokens and the ID token about `user`.
fn answer(
    state: &AppState,
    client: &Client,
    keys: &KeySet,
    g: Grant,
    user: &users::User,
    stored: Stored,
) -> Result<Response, TokenError> {
    let id_token = id_token(state, client, keys, &g, user, &stored.access_token, stored.iat)?;
    tracing::info!(client_id = %client.id, user_id = %g.user_id, refresh = stored.refresh_token.is_some(), "tokens issued");
    let mut res = Json(TokenResponse {
        access_token: stored.access_token,
        token_type: "Bearer",
        expires_in: state.config.lifetimes.access_token,
        scope: g.scope,
        id_token,
        refresh_token: stored.refresh_token,
    })
    .into_response();
    no_store(res.headers_mut());
    Ok(res)
}

/// The refresh family the grant's tokens join: the one it continues, else a new one when the
/// client's policy hands out refresh tokens for this grant, else none.
fn refresh_family(continued: Option<&Family>, settings: &TokenSettings, offline: bool) -> Option<Family> {
    match (continued, settings.refresh_tokens) {
        (Some(f), _) => Some(f.clone()),
        (None, RefreshPolicy::Always) => Some(Family::start(settings.refresh_token_absolute_lifetime)),
        (None, RefreshPolicy::OfflineAccess) if offline => {
            Some(Family::start(settings.refresh_token_absolute_lifetime))
        }
        (None, _) => None,
    }
}

/// Stores and returns the access token, opaque or an RFC 9068 JWT as the client asks.
async fn access_token(
    state: &AppState,
    client: &Client,
    keys: &KeySet,
    g: &Grant,
    family: Option<&Family>,
    iat: i64,
) -> Result<String, TokenError> {
    let lifetime = state.config.lifetimes.access_token;
    let record = NewAccessToken {
        client_id: client.id.clone(),
        user_id: g.user_id.clone(),
        scope: g.scope.clone(),
        code_hash: g.code_hash.clone(),
        sid: Some(g.sid.clone()),
        family_id: family.map(|f| f.id.clone()),
    };
    Ok(match client.tokens.access_token_format {
        AccessTokenFormat::Opaque => tokens::issue(&state.db, record, lifetime).await?,
        AccessTokenFormat::Jwt => {
            let claims = JwtAccessToken {
                iss: state.issuer.clone(),
                sub: &g.user_id,
                aud: &client.id,
                client_id: &client.id,
                exp: iat + lifetime as i64,
                iat,
                jti: random_token(),
                scope: &g.scope,
                auth_time: Some(g.auth_time),
                sid: Some(&g.sid),
            };
            let jwt = keys.sign_typed(client.id_token_alg, "at+jwt", &claims)?;
            tokens::record(&state.db, &jwt, record, lifetime).await?;
            jwt
        }
    })
}

/// The refresh token to hand out: the one already stored by a refresh grant, else a new one
/// in `family`, else none.
async fn refresh_token_of(
    state: &AppState,
    client: &Client,
    g: &Grant,
    family: Option<&Family>,
) -> Result<Option<String>, TokenError> {
    Ok(match (family, &g.refresh) {
        (_, Some(stored)) => Some(stored.clone()),
        (Some(f), None) => Some(
            refresh_tokens::issue(
                &state.db,
                g.refresh_record(&client.id),
                f,
                client.tokens.refresh_token_sliding_lifetime,
            )
            .await?,
        ),
        (None, None) => None,
    })
}

/// The signed ID token, when the grant's scope includes `openid`.
fn id_token(
    state: &AppState,
    client: &Client,
    keys: &KeySet,
    g: &Grant,
    user: &users::User,
    access_token: &str,
    iat: i64,
) -> Result<Option<String>, TokenError> {
    let scopes: Vec<&str> = g.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Ok(None);
    }
    let claims = IdTokenClaims {
        iss: state.issuer.clone(),
        aud: client.id.clone(),
        azp: client.id.clone(),
        exp: iat + state.config.lifetimes.id_token as i64,
        iat,
        auth_time: g.auth_time,
        nonce: g.nonce.clone(),
        amr: g.amr.clone(),
        acr: crate::flow::acr::acr_of(&g.amr).to_owned(),
        sid: g.sid.clone(),
        at_hash: Some(at_hash(access_token)),
        idp: g.idp.clone(),
        user: user_claims(user, &scopes),
    };
    Ok(Some(keys.sign(client.id_token_alg, &claims)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn described(e: TokenError) -> String {
        match e {
            TokenError::InvalidRequest(d) | TokenError::InvalidGrant(d) => d,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn code_row(scope: &str, code_challenge: Option<&str>) -> CodeRow {
        CodeRow {
            code_hash: "hash".into(),
            client_id: "app".into(),
            user_id: "u1".into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: scope.into(),
            nonce: Some("n".into()),
            code_challenge: code_challenge.map(String::from),
            auth_time: 1000,
            amr: r#"["pwd"]"#.into(),
            sid: "s1".into(),
            idp: None,
            expires_at: 2000,
            consumed_at: None,
            replayed_at: None,
        }
    }

    #[test]
    fn a_required_parameter_must_be_present_and_non_empty() {
        let p = params(&[("code", "abc"), ("token", "")]);
        assert_eq!(required(&p, "code").unwrap(), "abc");
        assert_eq!(described(required(&p, "token").unwrap_err()), "token is missing");
        assert_eq!(
            described(required(&p, "refresh_token").unwrap_err()),
            "refresh_token is missing"
        );
    }

    #[test]
    fn a_code_is_used_with_its_redirect_uri_and_pkce() {
        let cb = ("redirect_uri", "https://app.example/cb");
        assert!(check_code_use(&code_row("openid", None), &params(&[cb]), false).is_ok());
        assert_eq!(
            described(check_code_use(&code_row("openid", None), &params(&[]), false).unwrap_err()),
            "redirect_uri does not match the authorization request"
        );
        assert_eq!(
            described(check_code_use(&code_row("openid", None), &params(&[cb]), true).unwrap_err()),
            "a public client must use PKCE"
        );
        let verifier = "v".repeat(43);
        let challenge = pkce::s256(&verifier);
        let row = code_row("openid", Some(&challenge));
        assert!(check_code_use(&row, &params(&[cb, ("code_verifier", &verifier)]), true).is_ok());
        assert_eq!(
            described(check_code_use(&row, &params(&[cb]), true).unwrap_err()),
            "code_verifier is missing"
        );
    }

    #[test]
    fn a_code_grant_carries_the_code_bindings() {
        let g = Grant::from_code(code_row("openid offline_access", None));
        assert!(g.offline);
        assert_eq!(g.amr, vec!["pwd".to_string()]);
        assert_eq!(g.code_hash.as_deref(), Some("hash"));
        assert_eq!(g.nonce.as_deref(), Some("n"));
        assert!(g.family.is_none() && g.refresh.is_none());
        assert!(!Grant::from_code(code_row("openid", None)).offline);
        let record = g.refresh_record("app");
        assert_eq!((record.client_id.as_str(), record.user_id.as_str()), ("app", "u1"));
        assert_eq!(record.scope, "openid offline_access");
    }

    #[test]
    fn the_refresh_family_follows_the_client_policy() {
        let settings = |refresh_tokens| TokenSettings {
            refresh_tokens,
            ..Default::default()
        };
        let continued = Family {
            id: "fam".into(),
            expires_at: 5,
        };
        let kept = refresh_family(Some(&continued), &settings(RefreshPolicy::Never), false).unwrap();
        assert_eq!(kept.id, "fam");
        assert!(refresh_family(None, &settings(RefreshPolicy::Never), true).is_none());
        assert!(refresh_family(None, &settings(RefreshPolicy::OfflineAccess), false).is_none());
        assert!(refresh_family(None, &settings(RefreshPolicy::OfflineAccess), true).is_some());
        assert!(refresh_family(None, &settings(RefreshPolicy::Always), false).is_some());
    }

    #[test]
    fn a_narrower_scope_may_be_asked_for_never_a_wider_one() {
        assert_eq!(narrowed_scope("openid email", &params(&[])).unwrap(), "openid email");
        assert_eq!(
            narrowed_scope("openid email", &params(&[("scope", "email")])).unwrap(),
            "email"
        );
        assert!(matches!(
            narrowed_scope("openid", &params(&[("scope", "openid email")])),
            Err(TokenError::InvalidScope(_))
        ));
    }
}
