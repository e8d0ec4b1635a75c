//! JWT client authentication (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt` (signed with the
//! client's own key, checked against its registered JWKS) and `client_secret_jwt` (HMAC with
//! the client secret, for clients that opted in). Every assertion is single use (jti replay
//! cache in the database, so it holds across nodes).
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::token::TokenError;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::now;

/// The only assertion type accepted.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Assertions valid longer than this are refused: it bounds the replay cache.
const MAX_LIFETIME_SECS: i64 = 600;
/// Asymmetric algorithms for private_key_jwt.
const ALGS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

#[derive(Deserialize)]
struct Peek {
    sub: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    exp: i64,
}

fn fail(description: &'static str) -> TokenError {
    TokenError::InvalidClient {
        basic: false,
        description,
    }
}

async fn client_keys(state: &AppState, client: &Client, refresh: bool) -> Result<Arc<JwkSet>, TokenError> {
    if let Some(inline) = &client.assertion_keys.jwks {
        return serde_json::from_str(inline)
            .map(Arc::new)
            .map_err(|_| fail("the client's registered jwks is invalid"));
    }
    let uri = client
        .assertion_keys
        .jwks_uri
        .clone()
        .ok_or(fail("the client has no keys registered"))?;
    if refresh {
        state.client_jwks.invalidate(&uri).await;
    }
    let http = state.http.clone();
    let key = uri.clone();
    state
        .client_jwks
        .try_get_with(key, async move {
            let set: JwkSet = http.get(&uri).send().await?.error_for_status()?.json().await?;
            Ok::<_, reqwest::Error>(Arc::new(set))
        })
        .await
        .map_err(|e| {
            tracing::warn!(client_id = %client.id, error = %e, "fetching client jwks_uri failed");
            fail("the client's jwks_uri could not be fetched")
        })
}

/// Authenticates a client by its assertion.
pub async fn authenticate(
    state: &AppState,
    client_id_param: Option<&String>,
    assertion: &str,
) -> Result<Arc<Client>, TokenError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| fail("malformed client assertion"))?;
    let hmac = matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
    if !hmac && !ALGS.contains(&header.alg) {
        return Err(fail("client assertion algorithm not allowed"));
    }
    // Which client? Only to pick its keys; everything is verified below.
    let peek: Peek =
        jsonwebtoken::dangerous::insecure_decode_claims(assertion).map_err(|_| fail("malformed client assertion"))?;
    let client_id = peek.sub.ok_or(fail("client assertion has no sub"))?;
    if client_id_param.is_some_and(|p| *p != client_id) {
        return Err(fail("client_id does not match the assertion"));
    }
    let client = state
        .clients
        .get(&client_id)
        .await
        .map_err(TokenError::server)?
        .ok_or(fail("client authentication failed"))?;
    if !client.assertion_keys.any() {
        return Err(fail("client authentication failed"));
    }
    let key = if hmac {
        // client_secret_jwt: only for clients registered with it (the secret is then kept).
        let secret = client
            .assertion_keys
            .hmac_secret
            .as_ref()
            .ok_or(fail("client_secret_jwt is not enabled for this client"))?;
        DecodingKey::from_secret(secret.as_bytes())
    } else {
        let mut keys = client_keys(state, &client, false).await?;
        let find = |set: &JwkSet| match &header.kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&keys) {
            Some(k) => k,
            None => {
                // The client may have rotated its keys: fetch once more.
                keys = client_keys(state, &client, true).await?;
                find(&keys).ok_or(fail("no registered key matches the client assertion"))?
            }
        };
        DecodingKey::from_jwk(&jwk).map_err(|_| fail("the client's key is unusable"))?
    };
    let mut v = Validation::new(header.alg);
    v.leeway = 30;
    v.set_issuer(&[&client.id]);
    v.sub = Some(client.id.clone());
    // The token endpoint URL is the audience RFC 7523 names; the issuer is accepted as OIDC allows.
    v.set_audience(&[state.config.endpoint("/token"), state.config.issuer_str()]);
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &v)
        .map_err(|e| {
            tracing::info!(client_id = %client.id, error = %e, "client assertion rejected");
            fail("client assertion rejected")
        })?
        .claims;
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or(fail("client assertion has no jti"))?;
    if claims.exp - now() > MAX_LIFETIME_SECS {
        return Err(fail("client assertion lives too long"));
    }
    if !crate::store::replay::first_use(&state.db, &format!("{} {jti}", client.id), claims.exp + 60)
        .await
        .map_err(TokenError::server)?
    {
        tracing::warn!(client_id = %client.id, "client assertion replayed");
        return Err(fail("client assertion already used"));
    }
    Ok(client)
}
