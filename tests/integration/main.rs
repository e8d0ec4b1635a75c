//! Integration tests: each test starts Gatehouse on a random loopback port (SQLite by default,
//! PostgreSQL when `TEST_POSTGRES_URL` is set) and drives it over real HTTP.
//!
//! Everything the test files share lives in `harness` (the server, the browser, the client app,
//! the peers and stand-ins). A test file imports helpers only from there, never from another
//! test file; a helper only one test file uses stays private in that file.
mod abuse;
mod account;
mod account_lifecycle;
mod admin_api;
mod backchannel_outbox;
mod broker;
mod cli;
mod client_auth;
mod concurrency;
mod consent_logout;
mod edge;
mod error_pages;
mod flow;
mod harness;
mod keys_compat;
mod languages;
mod lifecycle;
mod live_changes;
mod machine_clients;
mod mail;
mod mfa;
mod negative;
mod operate_cli;
mod operations;
mod operator_cli;
mod outage;
mod pages;
mod passkeys;
mod refresh_retry;
mod saml;
mod saml_attacks;
mod saml_mfa;
mod schema;
mod social;
mod takeover;
mod theme;
mod third_party_rp;
mod two_tabs;
