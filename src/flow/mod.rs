//! The sign-in flow, free of HTTP: the authorization request and its checks, the interaction
//! that remembers it, the one decision point ([`step::next_step`]), the code that ends it, and
//! ending a sign-in. Handlers parse, call these, and render.
pub mod acr;
pub mod checks;
pub mod interaction;
pub mod issue;
pub mod login;
pub mod pkce;
pub mod rejection;
pub mod request;
pub mod signout;
pub mod step;
