//! The sign-in flow, free of HTTP: what a sign-in is, and ending one.
pub mod login;
pub mod signout;
