//! Claims about a user released by scope (OIDC Core §5.4), and the ID token.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::store::users::User;

/// The user's claims that `scopes` release, `sub` always included.
pub fn user_claims(user: &User, scopes: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), Value::String(user.id.clone()));
    if scopes.contains(&"profile") {
        m.insert("preferred_username".into(), Value::String(user.username.clone()));
        if let Some(n) = &user.name {
            m.insert("name".into(), Value::String(n.clone()));
        }
        m.insert("updated_at".into(), Value::from(user.updated_at));
    }
    if scopes.contains(&"groups") {
        m.insert("groups".into(), Value::from(crate::store::users::groups_of(user)));
    }
    if scopes.contains(&"email") {
        if let Some(e) = &user.email {
            m.insert("email".into(), Value::String(e.clone()));
            m.insert("email_verified".into(), Value::Bool(user.email_verified));
        }
    }
    m
}

/// `at_hash`: left half of SHA-256 of the access token, base64url (both RS256 and ES256 use SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The registered claims of an ID token (OIDC Core §2), plus the scope claims flattened in.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<String>,
    /// What the `amr` achieved (`flow::acr`).
    pub acr: String,
    pub sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The upstream identity provider of a brokered login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(flatten)]
    pub user: Map<String, Value>,
}

/// RFC 9068 JWT access-token claims: a user's (with `auth_time` and `sid`), or a client's own
/// (client_credentials, where the client is the subject and there is no sign-in).
#[derive(Serialize)]
pub struct JwtAccessToken<'a> {
    pub iss: String,
    pub sub: &'a str,
    pub aud: &'a str,
    pub client_id: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_oidc_example() {
        // OIDC Core appendix A.3 uses RS256 with this access token.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
