//! The OpenID Provider: one module per endpoint.
pub mod authorize;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod client_credentials;
pub mod discovery;
pub mod error;
pub mod introspection;
pub mod jwks;
pub mod logout;
pub mod par;
pub mod revocation;
pub mod token;
pub mod token_error;
pub mod userinfo;

pub use crate::flow::pkce;
pub use crate::flow::request::SUPPORTED_SCOPES;
