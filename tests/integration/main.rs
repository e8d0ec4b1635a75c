//! Integration tests: each test starts Gatehouse on a random loopback port (SQLite by default,
//! PostgreSQL when `TEST_POSTGRES_URL` is set) and drives it over real HTTP.
mod abuse;
mod account;
mod broker;
mod browser;
mod cli;
mod client_auth;
mod concurrency;
mod consent_logout;
mod edge;
mod flow;
mod harness;
mod lifecycle;
mod negative;
mod outage;
mod pages;
mod peers;
mod pg_cluster;
mod rogue_idp;
mod saml;
mod saml_attacks;
mod schema;
mod social;
mod social_standins;
mod takeover;
mod third_party_rp;
