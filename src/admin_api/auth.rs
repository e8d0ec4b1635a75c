//! Who may call the admin API: a machine client with an access token that Gatehouse issued
//! itself by the client_credentials grant (RFC 9068 JWT: signature by a current or recently
//! retired key of ours, `typ` at+jwt, issuer, audience = the admin API, expiry), still recorded
//! as live (not revoked, client not deleted or disabled), with the scope the operation needs.
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::problem::Problem;
use crate::admin::{self, Operator};
use crate::audit::Actor;
use crate::state::AppState;
use crate::store::tokens;

/// A caller allowed to read (`admin:read`).
pub struct Reader(pub Caller);

/// A caller allowed to change things (`admin:write`).
pub struct Writer(pub Caller);

/// An authenticated machine client.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
}

impl Caller {
    /// The operator this caller acts as, named in the audit rows of its changes.
    pub fn operator<'a>(&self, state: &'a AppState) -> Operator<'a> {
        Operator {
            db: &state.db,
            config: &state.config,
            actor: Actor::Machine(self.client_id.clone()),
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    client_id: String,
    #[serde(default)]
    scope: String,
}

/// The bearer token of the request (RFC 6750 §2.1), if it sent one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Checks the request's token and that it carries `scope`.
async fn authorize(parts: &Parts, state: &AppState, scope: &str) -> Result<Caller, Problem> {
    let token = bearer(parts).ok_or_else(Problem::no_token)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| Problem::invalid_token("the token is not a JWT"))?;
    if header.typ.as_deref().map(str::to_ascii_lowercase).as_deref() != Some("at+jwt") {
        return Err(Problem::invalid_token(
            "the token is not a JWT access token (typ at+jwt)",
        ));
    }
    let kid = header
        .kid
        .ok_or_else(|| Problem::invalid_token("the token names no key"))?;
    let keys = state.keys.current().await.map_err(|e| {
        tracing::error!(error = %e, "admin API: signing keys unavailable");
        Problem::invalid_token("the token cannot be checked now")
    })?;
    let (alg, key) = keys
        .verifier(&kid)
        .ok_or_else(|| Problem::invalid_token("the token was not signed by this server"))?;
    let alg = Algorithm::from_str(alg.as_str()).map_err(|_| Problem::invalid_token("unknown algorithm"))?;
    if header.alg != alg {
        return Err(Problem::invalid_token("the token's algorithm does not match its key"));
    }
    let mut v = Validation::new(alg);
    v.set_issuer(&[&state.issuer]);
    v.set_audience(&[admin::audience(&state.issuer)]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 30;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &v)
        .map_err(|e| Problem::invalid_token(&format!("the token is not valid: {e}")))?
        .claims;
    if claims.sub != claims.client_id {
        return Err(Problem::invalid_token(
            "a person's token cannot call the admin API; use a client's own token",
        ));
    }
    // Recorded at issue: revocation, and a deleted or disabled client, end the token at once.
    let row = tokens::find_active(&state.db, token)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "admin API: token lookup failed");
            Problem::invalid_token("the token cannot be checked now")
        })?
        .filter(|r| r.machine && r.client_id == claims.client_id)
        .ok_or_else(|| Problem::invalid_token("the token was revoked"))?;
    let live_client = state.clients.get(&row.client_id).await.ok().flatten();
    if live_client.is_none() {
        return Err(Problem::invalid_token("the token's client is disabled or gone"));
    }
    if !claims.scope.split(' ').any(|s| s == scope) {
        return Err(Problem::insufficient_scope(scope));
    }
    Ok(Caller {
        client_id: claims.client_id,
    })
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        authorize(parts, state, admin::READ_SCOPE).await.map(Reader)
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        authorize(parts, state, admin::WRITE_SCOPE).await.map(Writer)
    }
}
