//! The login UI: pages driven by the interaction that remembers the pending authorize request.
pub mod account;
pub mod consent;
pub mod continuation;
pub mod federated;
pub mod interaction;
pub mod password;
pub mod register;
pub mod session;
pub mod upstream_start;
