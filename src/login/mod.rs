//! The login UI: pages driven by the interaction that remembers the pending authorize request.
pub mod account;
pub mod consent;
pub mod email;
pub mod federated;
pub mod mfa;
pub mod passkey;
pub mod passkey_enrolment;
pub mod password;
pub mod password_change;
pub mod recovery;
pub mod register;
pub mod saml;
