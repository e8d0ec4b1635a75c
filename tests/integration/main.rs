//! Integration tests: each test starts Gatehouse on a random loopback port (SQLite by default,
//! PostgreSQL when `TEST_POSTGRES_URL` is set) and drives it over real HTTP.
mod abuse;
mod account;
mod backchannel_outbox;
mod broker;
mod browser;
mod cli;
mod client_auth;
mod consent_logout;
mod flow;
mod harness;
mod keys_compat;
mod lifecycle;
mod negative;
mod pages;
mod peers;
mod refresh_retry;
mod rogue_idp;
mod saml;
mod saml_attacks;
mod schema;
mod social;
mod social_standins;
mod takeover;
mod third_party_rp;
