//! PKCE (RFC 7636): S256 only; required for public clients and clients configured so.
use super::Params;
use crate::flow::pkce::is_valid_challenge;
use crate::flow::rejection::Rejection;
use crate::store::clients::Client;

/// The S256 code challenge, if any.
pub fn challenge(p: &Params, client: &Client) -> Result<Option<String>, Rejection> {
    match (p.get("code_challenge"), p.get("code_challenge_method")) {
        (None, None) if client.pkce_required() => Err(Rejection::invalid(
            "code_challenge (PKCE, S256) is required for this client",
        )),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Rejection::invalid("code_challenge_method without code_challenge")),
        (Some(_), None) | (Some(_), Some("plain")) => Err(Rejection::invalid(
            "code_challenge_method must be S256; plain is not allowed",
        )),
        (Some(c), Some("S256")) if is_valid_challenge(c) => Ok(Some(c.to_owned())),
        (Some(_), Some("S256")) => Err(Rejection::invalid("code_challenge is malformed")),
        (Some(_), Some(_)) => Err(Rejection::invalid("unsupported code_challenge_method")),
    }
}
