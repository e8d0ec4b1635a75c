//! The authorization request's checks, one rule per file, run in a fixed order by [`validate`].
//! Each check reads the raw parameters and either contributes to the request or refuses it.
mod max_age;
mod pkce;
mod prompt;
mod request_object;
mod response_type;
mod scope;
mod size;

use std::collections::HashMap;

pub use size::{oversized, PARAMETER_LIMITS};

use super::rejection::Rejection;
use super::request::AuthorizeRequest;
use crate::store::clients::Client;

/// The raw parameters of one authorization request (query, form, or a pushed request).
pub struct Params<'a>(pub &'a HashMap<String, String>);

impl Params<'_> {
    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Validates every parameter but client_id and redirect_uri (already checked against `client`).
pub fn validate(
    params: &HashMap<String, String>,
    client: &Client,
    redirect_uri: &str,
) -> Result<AuthorizeRequest, Rejection> {
    let p = Params(params);
    request_object::not_used(&p)?;
    size::within_limits(&p)?;
    response_type::code_in_query(&p)?;
    let scopes = scope::supported(&p, client)?;
    let code_challenge = pkce::challenge(&p, client)?;
    let prompt = prompt::parse(&p)?;
    let max_age = max_age::parse(&p)?;
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: params.get("state").cloned(),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: p.get("login_hint").map(str::to_owned),
        idp_hint: p.get("idp_hint").or_else(|| p.get("kc_idp_hint")).map(str::to_owned),
        acr_values: p
            .get("acr_values")
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        ui_locales: p.get("ui_locales").map(str::to_owned),
    })
}
