//! Shared HTTP pieces: templates, error pages, CSRF tokens, security headers, redirects.
pub mod audit_context;
pub mod continuation;
pub mod csrf;
pub mod error;
pub mod error_pages;
pub mod guard;
pub mod headers;
pub mod interaction;
pub mod limits;
pub mod listener;
pub mod locale;
pub mod login_session;
pub mod pages;
pub mod passkey_ceremony;
pub mod password_attempt;
pub mod reauth;
pub mod request_id;
pub mod second_factor;
pub mod templates;
pub mod theme;
pub mod upstream_start;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A `302 Found` to `url` (how authorization responses travel).
pub fn found(url: &str) -> Response {
    redirect(StatusCode::FOUND, url)
}

/// A `303 See Other` to `url` (after a form POST).
pub fn see_other(url: &str) -> Response {
    redirect(StatusCode::SEE_OTHER, url)
}

fn redirect(status: StatusCode, url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (
            status,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => error::PageError::bad_request(
            &crate::i18n::text("redirect-invalid-title"),
            &crate::i18n::text("redirect-invalid"),
        )
        .into_response(),
    }
}

pub use crate::urls::with_query;

/// The parameters of an endpoint that takes both GET (query) and POST (form body), as
/// authorize and end-session must (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
pub fn get_or_post_params(
    method: &axum::http::Method,
    query: Option<String>,
    body: &[u8],
) -> Result<std::collections::HashMap<String, String>, String> {
    if method == axum::http::Method::POST {
        parse_params(body)
    } else {
        parse_params(query.unwrap_or_default().as_bytes())
    }
}

/// Parses form or query bytes, refusing repeated parameters (RFC 6749 §3.1).
pub fn parse_params(bytes: &[u8]) -> Result<std::collections::HashMap<String, String>, String> {
    let mut map = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("parameter {k} is repeated"));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_appended_and_encoded() {
        assert_eq!(
            with_query("https://app.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]),
            "https://app.example/cb?x=1&code=a+b&state=s%26t"
        );
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(parse_params(b"a=1&b=2").is_ok());
        assert!(parse_params(b"a=1&a=2").is_err());
    }
}
