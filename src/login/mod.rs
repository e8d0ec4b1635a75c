//! The login UI: pages driven by the interaction that remembers the pending authorize request.
pub mod account;
pub mod consent;
pub mod federated;
pub mod mfa;
pub mod password;
pub mod register;
pub mod saml;
