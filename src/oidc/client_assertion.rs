//! JWT client authentication (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt` (signed with the
//! client's own key, checked against its registered JWKS) and `client_secret_jwt` (HMAC with
//! the client secret, for clients that opted in). Every assertion is single use (jti replay
//! cache in the database, so it holds across nodes).
use std::sync::Arc;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::token_error::TokenError;
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
    let hmac = uses_hmac(header.alg)?;
    let client = claimed_client(state, client_id_param, assertion).await?;
    let key = if hmac {
        hmac_key(&client)?
    } else {
        public_key(state, &client, header.kid.as_deref()).await?
    };
    let claims = verified_claims(state, &client, assertion, header.alg, &key)?;
    let jti = fresh_jti(&claims, now())?;
    if !crate::store::replay::first_use(&state.db, &format!("{} {jti}", client.id), claims.exp + 60)
        .await
        .map_err(TokenError::server)?
    {
        tracing::warn!(client_id = %client.id, "client assertion replayed");
        return Err(fail("client assertion already used"));
    }
    Ok(client)
}

/// Whether an assertion signed with `alg` is a client_secret_jwt (HMAC) one; algorithms allowed
/// for neither method are refused.
fn uses_hmac(alg: Algorithm) -> Result<bool, TokenError> {
    let hmac = matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
    if !hmac && !ALGS.contains(&alg) {
        return Err(fail("client assertion algorithm not allowed"));
    }
    Ok(hmac)
}

/// The client the assertion says it comes from (its `sub`), able to sign assertions. Only to
/// pick its keys: nothing in the assertion is verified yet.
async fn claimed_client(
    state: &AppState,
    client_id_param: Option<&String>,
    assertion: &str,
) -> Result<Arc<Client>, TokenError> {
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
    Ok(client)
}

/// The key of a client_secret_jwt assertion: only for clients registered with it (the secret
/// is then kept).
fn hmac_key(client: &Client) -> Result<DecodingKey, TokenError> {
    let secret = client
        .assertion_keys
        .hmac_secret
        .as_ref()
        .ok_or(fail("client_secret_jwt is not enabled for this client"))?;
    Ok(DecodingKey::from_secret(secret.as_bytes()))
}

/// The client's registered public key that a private_key_jwt assertion names.
async fn public_key(state: &AppState, client: &Client, kid: Option<&str>) -> Result<DecodingKey, TokenError> {
    let keys = client_keys(state, client, false).await?;
    let jwk = match matching_key(&keys, kid) {
        Some(k) => k,
        None => {
            // The client may have rotated its keys: fetch once more.
            let keys = client_keys(state, client, true).await?;
            matching_key(&keys, kid).ok_or(fail("no registered key matches the client assertion"))?
        }
    };
    DecodingKey::from_jwk(&jwk).map_err(|_| fail("the client's key is unusable"))
}

/// The key with this `kid`; without a `kid`, the set's only key.
fn matching_key(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// The assertion's claims, once its signature, issuer, subject, audience and expiry check out.
fn verified_claims(
    state: &AppState,
    client: &Client,
    assertion: &str,
    alg: Algorithm,
    key: &DecodingKey,
) -> Result<Claims, TokenError> {
    let mut v = Validation::new(alg);
    v.leeway = 30;
    v.set_issuer(&[&client.id]);
    v.sub = Some(client.id.clone());
    // The token endpoint URL is the audience RFC 7523 names; the issuer is accepted as OIDC allows.
    v.set_audience(&[state.config.endpoint("/token"), state.issuer.clone()]);
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    jsonwebtoken::decode::<Claims>(assertion, key, &v)
        .map(|data| data.claims)
        .map_err(|e| {
            tracing::info!(client_id = %client.id, error = %e, "client assertion rejected");
            fail("client assertion rejected")
        })
}

/// The assertion's `jti`, for the replay cache: it must have one, and live at most
/// [`MAX_LIFETIME_SECS`] after `now`, which bounds that cache.
fn fresh_jti(claims: &Claims, now: i64) -> Result<&str, TokenError> {
    let jti = claims
        .jti
        .as_deref()
        .filter(|j| !j.is_empty())
        .ok_or(fail("client assertion has no jti"))?;
    if claims.exp - now > MAX_LIFETIME_SECS {
        return Err(fail("client assertion lives too long"));
    }
    Ok(jti)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn description(e: TokenError) -> &'static str {
        match e {
            TokenError::InvalidClient { description, .. } => description,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn hmac_and_the_listed_asymmetric_algorithms_are_allowed_and_nothing_else() {
        assert!(uses_hmac(Algorithm::HS256).unwrap());
        assert!(!uses_hmac(Algorithm::RS256).unwrap());
        assert!(!uses_hmac(Algorithm::ES384).unwrap());
        assert_eq!(
            description(uses_hmac(Algorithm::EdDSA).unwrap_err()),
            "client assertion algorithm not allowed"
        );
    }

    #[test]
    fn the_key_is_picked_by_kid_or_as_the_only_one() {
        let key = |kid: &str| json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let one: JwkSet = serde_json::from_value(json!({ "keys": [key("a")] })).unwrap();
        let two: JwkSet = serde_json::from_value(json!({ "keys": [key("a"), key("b")] })).unwrap();
        let kid_of = |k: Option<Jwk>| k.and_then(|k| k.common.key_id);
        assert_eq!(kid_of(matching_key(&one, None)).as_deref(), Some("a"));
        assert_eq!(kid_of(matching_key(&two, Some("b"))).as_deref(), Some("b"));
        assert!(matching_key(&two, None).is_none(), "no kid and several keys: ambiguous");
        assert!(matching_key(&one, Some("c")).is_none());
    }

    #[test]
    fn an_assertion_needs_a_jti_and_a_bounded_lifetime() {
        let claims = |jti: Option<&str>, exp| Claims {
            jti: jti.map(String::from),
            exp,
        };
        assert_eq!(fresh_jti(&claims(Some("j1"), 1600), 1000).unwrap(), "j1");
        assert_eq!(
            description(fresh_jti(&claims(Some(""), 1100), 1000).unwrap_err()),
            "client assertion has no jti"
        );
        assert_eq!(
            description(fresh_jti(&claims(None, 1100), 1000).unwrap_err()),
            "client assertion has no jti"
        );
        assert_eq!(
            description(fresh_jti(&claims(Some("j1"), 1601), 1000).unwrap_err()),
            "client assertion lives too long"
        );
    }
}
