//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3): exactly what is supported.
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::SUPPORTED_SCOPES;
use crate::keys::SigningAlg;
use crate::state::AppState;

/// The provider metadata document.
pub async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    Json(json!({
        "issuer": c.issuer_str(),
        "authorization_endpoint": c.endpoint("/authorize"),
        "token_endpoint": c.endpoint("/token"),
        "userinfo_endpoint": c.endpoint("/userinfo"),
        "jwks_uri": c.endpoint("/jwks"),
        "end_session_endpoint": c.endpoint("/logout"),
        "revocation_endpoint": c.endpoint("/revoke"),
        "introspection_endpoint": c.endpoint("/introspect"),
        "pushed_authorization_request_endpoint": c.endpoint("/par"),
        "require_pushed_authorization_requests": false,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "scopes_supported": SUPPORTED_SCOPES,
        "ui_locales_supported": crate::i18n::Lang::ALL.map(crate::i18n::Lang::tag),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "HS256", "HS384", "HS512"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": crate::flow::acr::SUPPORTED,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "azp", "at_hash", "idp",
                             "name", "preferred_username", "updated_at", "email", "email_verified", "groups"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}
