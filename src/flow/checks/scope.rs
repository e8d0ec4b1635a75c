//! Scopes: the supported ones the client may have, in request order, each once.
use super::Params;
use crate::flow::rejection::{AuthorizeErrorCode, Rejection};
use crate::flow::request::SUPPORTED_SCOPES;
use crate::store::clients::{Client, RefreshPolicy};

/// The requested scopes Gatehouse grants this client; unknown ones are dropped.
pub fn supported(p: &Params, client: &Client) -> Result<Vec<String>, Rejection> {
    let requested: Vec<&str> = p
        .get("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Err(Rejection::new(AuthorizeErrorCode::InvalidScope, "scope is missing"));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in requested {
        let refused = s == "offline_access" && client.tokens.refresh_tokens == RefreshPolicy::Never;
        if SUPPORTED_SCOPES.contains(&s) && !refused && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err(Rejection::new(
            AuthorizeErrorCode::InvalidScope,
            "none of the requested scopes is supported",
        ));
    }
    Ok(scopes)
}
