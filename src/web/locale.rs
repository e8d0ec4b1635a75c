//! The language of each request: the browser's `Accept-Language` (an interaction's
//! `ui_locales` takes over where the interaction is loaded, `web::interaction`), kept in the
//! task-local of [`crate::i18n`] for templates, error pages and messages made in Rust.
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::i18n::{self, Lang};

/// Runs the request in its negotiated language and says which one a page is in.
pub async fn negotiate(req: Request, next: Next) -> Response {
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    // `ui_locales` on /authorize itself (the interaction does not exist yet).
    let ui_locales = req
        .uri()
        .path()
        .ends_with("/authorize")
        .then(|| req.uri().query().and_then(ui_locales_param))
        .flatten();
    let lang = Lang::negotiate(ui_locales.as_deref(), accept);
    i18n::scope(lang, async move {
        let mut res = next.run(req).await;
        let html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if html {
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(i18n::current().tag()),
            );
            h.append(header::VARY, HeaderValue::from_static("accept-language"));
        }
        res
    })
    .await
}

/// The `ui_locales` parameter of a query string, if present.
fn ui_locales_param(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ui_locales")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_is_read_from_the_query() {
        assert_eq!(ui_locales_param("a=1&ui_locales=de+en").as_deref(), Some("de en"));
        assert_eq!(ui_locales_param("a=1"), None);
    }
}
