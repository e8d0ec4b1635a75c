//! Client authentication at the token endpoint: client_secret_basic, client_secret_post, none.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::token_error::TokenError;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::parse_params;

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

/// Credentials from HTTP Basic: each half form-urlencoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || TokenError::InvalidClient {
        basic: true,
        description: "malformed Basic credentials",
    };
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return Err(bad());
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, TokenError> {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// A form POSTed to a back-channel endpoint (token, introspection, revocation, PAR) by the client
/// that authenticated with it; extracting it answers a bad form or a failed authentication.
pub struct ClientForm {
    /// The form's parameters, the client's credentials among them.
    pub params: HashMap<String, String>,
    /// The client that authenticated.
    pub client: Arc<Client>,
    /// How it authenticated.
    pub method: AuthMethod,
}

impl FromRequest<AppState> for ClientForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ClientAddress(address) = ClientAddress::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = parse_params(&body).map_err(|e| TokenError::InvalidRequest(e).into_response())?;
        let (client, method) = authenticate(state, address, &headers, &params)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { params, client, method })
    }
}

/// Authenticates the calling client, or says why not. Failures count against the caller's
/// address: past its limit, every attempt from there is refused unchecked for a while.
pub async fn authenticate(
    state: &AppState,
    address: IpAddr,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(Arc<Client>, AuthMethod), TokenError> {
    if let Some(retry_after_secs) = state.limits.client_auth_blocked(address) {
        crate::metrics::throttled("client_auth_address");
        return Err(TokenError::TooManyRequests { retry_after_secs });
    }
    match authenticate_unlimited(state, headers, params).await {
        Err(e @ TokenError::InvalidClient { .. }) => {
            tracing::warn!(%address, client_id = params.get("client_id").map(String::as_str).unwrap_or(""), "client authentication failed");
            match state.limits.hit(Bucket::ClientAuthFailure, address) {
                Ok(()) => Err(e),
                Err(retry_after_secs) => {
                    crate::metrics::throttled("client_auth_address");
                    Err(TokenError::TooManyRequests { retry_after_secs })
                }
            }
        }
        other => other,
    }
}

async fn authenticate_unlimited(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(Arc<Client>, AuthMethod), TokenError> {
    let basic = basic_credentials(headers)?;
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some(assertion) = params.get("client_assertion") {
        if basic.is_some() || body_secret.is_some() {
            return Err(several_methods());
        }
        if params.get("client_assertion_type").map(String::as_str) != Some(super::client_assertion::JWT_BEARER) {
            return Err(TokenError::InvalidRequest("unsupported client_assertion_type".into()));
        }
        let client = super::client_assertion::authenticate(state, body_id, assertion).await?;
        return Ok((client, AuthMethod::PrivateKeyJwt));
    }
    let (id, secret, method) = presented_credentials(basic, body_id, body_secret)?;
    let failed = TokenError::InvalidClient {
        basic: method == AuthMethod::ClientSecretBasic,
        description: "client authentication failed",
    };
    let client = state
        .clients
        .get(&id)
        .await
        .map_err(TokenError::server)?
        .ok_or(failed.clone())?;
    match (client.public, secret) {
        (true, None) => Ok((client, method)),
        (false, Some(s)) if client.secret_matches(&s) => Ok((client, method)),
        _ => Err(failed),
    }
}

/// What a request presenting several authentication methods (or none of the right kind) hears.
const ONE_METHOD: &str = "use exactly one client authentication method";

/// Credentials presented in more than one way are refused, whichever ways they are.
fn several_methods() -> TokenError {
    TokenError::InvalidRequest(ONE_METHOD.into())
}

/// The client id and secret (if any) presented without an assertion, and how: in HTTP Basic,
/// in the body, or an id alone (a public client).
fn presented_credentials(
    basic: Option<(String, String)>,
    body_id: Option<&String>,
    body_secret: Option<&String>,
) -> Result<(String, Option<String>, AuthMethod), TokenError> {
    let missing = |description| TokenError::InvalidClient {
        basic: false,
        description,
    };
    Ok(match (basic, body_secret) {
        (Some(_), Some(_)) => return Err(several_methods()),
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| *b != id) {
                return Err(TokenError::InvalidRequest(
                    "client_id does not match the Basic credentials".into(),
                ));
            }
            (id, Some(secret), AuthMethod::ClientSecretBasic)
        }
        (None, Some(secret)) => {
            let id = body_id.cloned().ok_or(missing("client_id is missing"))?;
            (id, Some(secret.clone()), AuthMethod::ClientSecretPost)
        }
        (None, None) => {
            let id = body_id.cloned().ok_or(missing("client authentication is missing"))?;
            (id, None, AuthMethod::None)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        // "my%3Aclient:p%40ss+word" → id "my:client", secret "p@ss word"
        let raw = STANDARD.encode("my%3Aclient:p%40ss+word");
        h.insert(header::AUTHORIZATION, format!("Basic {raw}").parse().unwrap());
        let (id, secret) = basic_credentials(&h).unwrap().unwrap();
        assert_eq!(id, "my:client");
        assert_eq!(secret, "p@ss word");
    }

    #[test]
    fn credentials_come_from_exactly_one_place() {
        let (id, other) = ("app".to_string(), "other".to_string());
        let secret = "s3cret".to_string();
        let basic = || Some((id.clone(), secret.clone()));
        let described = |r: Result<(String, Option<String>, AuthMethod), TokenError>| match r {
            Err(TokenError::InvalidRequest(d)) => d,
            Err(TokenError::InvalidClient { description, .. }) => description.to_string(),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            presented_credentials(basic(), Some(&id), None).unwrap(),
            (id.clone(), Some(secret.clone()), AuthMethod::ClientSecretBasic)
        );
        assert_eq!(
            presented_credentials(None, Some(&id), Some(&secret)).unwrap(),
            (id.clone(), Some(secret.clone()), AuthMethod::ClientSecretPost)
        );
        assert_eq!(
            presented_credentials(None, Some(&id), None).unwrap(),
            (id.clone(), None, AuthMethod::None)
        );
        assert_eq!(
            described(presented_credentials(basic(), None, Some(&secret))),
            "use exactly one client authentication method"
        );
        assert_eq!(
            described(presented_credentials(basic(), Some(&other), None)),
            "client_id does not match the Basic credentials"
        );
        assert_eq!(
            described(presented_credentials(None, None, Some(&secret))),
            "client_id is missing"
        );
        assert_eq!(
            described(presented_credentials(None, None, None)),
            "client authentication is missing"
        );
    }
}
