//! The login UI: pages driven by the interaction that remembers the pending authorize request.
pub mod account;
pub mod account_passkeys;
pub mod consent;
pub mod federated;
pub mod mfa;
pub mod passkey;
pub mod password;
pub mod register;
pub mod saml;
