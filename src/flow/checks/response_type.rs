//! The authorization code flow only, answered in the query (OAuth 2.1 drops the others).
use super::Params;
use crate::flow::rejection::{AuthorizeErrorCode, Rejection};

/// Requires `response_type=code` and, if given, `response_mode=query`.
pub fn code_in_query(p: &Params) -> Result<(), Rejection> {
    match p.get("response_type") {
        None => return Err(Rejection::invalid("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(Rejection::new(
                AuthorizeErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    match p.get("response_mode") {
        Some(mode) if mode != "query" => Err(Rejection::invalid("only response_mode=query is supported")),
        _ => Ok(()),
    }
}
