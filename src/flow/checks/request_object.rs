//! Request objects (OIDC Core §6) are not supported: say so rather than ignore them.
use super::Params;
use crate::flow::rejection::{AuthorizeErrorCode, Rejection};

/// Refuses a `request` parameter.
pub fn not_used(p: &Params) -> Result<(), Rejection> {
    match p.0.contains_key("request") {
        true => Err(Rejection::new(
            AuthorizeErrorCode::RequestNotSupported,
            "request objects are not supported",
        )),
        false => Ok(()),
    }
}
