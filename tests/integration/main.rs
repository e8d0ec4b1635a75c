//! Integration tests: each test starts Gatehouse on a random loopback port (SQLite by default,
//! PostgreSQL when `TEST_POSTGRES_URL` is set) and drives it over real HTTP.
mod abuse;
mod account;
mod backchannel_outbox;
mod broker;
mod cli;
mod client_auth;
mod concurrency;
mod consent_logout;
mod edge;
mod flow;
mod harness;
mod keys_compat;
mod lifecycle;
mod negative;
mod outage;
mod pages;
mod refresh_retry;
mod saml;
mod saml_attacks;
mod schema;
mod social;
mod takeover;
mod third_party_rp;
