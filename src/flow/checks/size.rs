//! Bounded parameters: a pending sign-in is kept server-side for everyone who asks, so what one
//! request can make us store is bounded.
use std::collections::HashMap;

use super::Params;
use crate::flow::rejection::Rejection;

/// The longest value each stored authorization parameter may have, in bytes.
pub const PARAMETER_LIMITS: &[(&str, usize)] = &[
    ("state", 2048),
    ("nonce", 512),
    ("scope", 1024),
    ("login_hint", 256),
    ("idp_hint", 128),
    ("kc_idp_hint", 128),
    ("code_challenge", 128),
    ("prompt", 64),
    ("max_age", 20),
    ("acr_values", 512),
    ("ui_locales", 256),
];

/// The first parameter longer than its limit in [`PARAMETER_LIMITS`].
pub fn oversized(params: &HashMap<String, String>) -> Option<(&'static str, usize)> {
    PARAMETER_LIMITS
        .iter()
        .copied()
        .find(|(name, max)| params.get(*name).is_some_and(|v| v.len() > *max))
}

/// Refuses a request with an oversized parameter.
pub fn within_limits(p: &Params) -> Result<(), Rejection> {
    match oversized(p.0) {
        Some((name, max)) => Err(Rejection::invalid(format!("{name} is longer than {max} bytes"))),
        None => Ok(()),
    }
}
