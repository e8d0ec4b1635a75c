//! sea-orm entities, one per table (see `migrations/`).
pub mod access_token;
pub mod authorization_code;
pub mod broker_handoff;
pub mod client;
pub mod consent_grant;
pub mod federated_identity;
pub mod interaction;
pub mod login_session;
pub mod login_throttle;
pub mod pushed_request;
pub mod refresh_token;
pub mod saml_sp_key;
pub mod session_client;
pub mod signing_key;
pub mod upstream_state;
pub mod used_assertion;
pub mod user;
