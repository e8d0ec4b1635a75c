//! `max_age` (OIDC Core §3.1.2.1): the oldest sign-in, in seconds, the client accepts.
use super::Params;
use crate::flow::rejection::Rejection;

/// The parsed `max_age`.
pub fn parse(p: &Params) -> Result<Option<u64>, Rejection> {
    p.get("max_age")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| Rejection::invalid("max_age must be a non-negative integer"))
        })
        .transpose()
}
