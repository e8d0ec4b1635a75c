//! Gatehouse: a single sign-on server that is one OpenID Connect issuer in front of local
//! accounts and (through the broker) external identity providers.
pub mod admin;
pub mod admin_api;
pub mod app;
pub mod audit;
pub mod backchannel;
pub mod broker;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod flow;
pub mod home;
pub mod keys;
pub mod login;
pub mod metrics;
pub mod mfa;
pub mod names;
pub mod oidc;
pub mod passwords;
pub mod readiness;
pub mod state;
pub mod store;
pub mod upstream;
pub mod urls;
pub mod web;
