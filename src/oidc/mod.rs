//! The OpenID Provider: one module per endpoint.
pub mod authorize;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod introspection;
pub mod jwks;
pub mod logout;
pub mod par;
pub mod pkce;
pub mod revocation;
pub mod token;
pub mod userinfo;

/// Scopes Gatehouse understands; others are ignored, as OpenID Connect Core §3.1.2.1 allows.
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];
