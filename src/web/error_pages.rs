//! The themed error page every `PageError` (and the fallback 404) becomes, in one middleware.
//! Every such page shows the request id (the `x-request-id` header, on the log line too) and
//! offers a way on: the error's own link, or else the account page for a browser that is
//! signed in and the start page for one that is not. A bare refusal that never became a
//! `PageError` (an extractor's rejection, a 405, a refused body) on a page meant for people
//! becomes the same page.
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use tower_sessions::Session;

use super::error::{ErrorNotice, Link};
use super::login_session;
use super::pages::{ErrorPage, Layout};
use crate::state::AppState;

/// Turns every `PageError` (and the fallback 404, and a bare refusal of a page) into the
/// themed error page.
pub async fn render_error_pages(
    State(state): State<AppState>,
    request_id: Option<axum::Extension<tower_http::request_id::RequestId>>,
    uri: Uri,
    session: Session,
    res: Response,
) -> Response {
    let notice = match res.extensions().get::<ErrorNotice>() {
        Some(notice) => notice.clone(),
        None if is_bare_refusal(&res) && !answers_machines(uri.path(), &state.base()) => bare_notice(res.status()),
        None => return res,
    };
    let link = match notice.link {
        Some(link) => Some(link),
        None => Some(way_out(&state, &session).await),
    };
    let page = ErrorPage {
        layout: Layout::new(notice.title, state.base()),
        message: notice.message,
        link,
        request_id: request_id.and_then(|id| id.header_value().to_str().ok().map(str::to_owned)),
    };
    let mut page_res = state.templates.page(res.status(), &page);
    for kept in [header::RETRY_AFTER, header::ALLOW, header::CONNECTION] {
        if let Some(value) = res.headers().get(&kept) {
            page_res.headers_mut().insert(kept, value.clone());
        }
    }
    page_res
}

/// Where a dead end leads on: the account page when this browser is signed in, else the start
/// page (both always answer 200).
async fn way_out(state: &AppState, session: &Session) -> Link {
    // A session that cannot be read (the database is away) counts as signed out.
    match login_session::current(session).await {
        Ok(Some(_)) => Link {
            href: format!("{}/account", state.base()),
            label: crate::i18n::text("way-out-account"),
        },
        _ => Link {
            href: format!("{}/", state.base()),
            label: crate::i18n::text("way-out-start"),
        },
    }
}

/// An error status whose body is plain text or nothing: axum's extractor rejections, a 405, a
/// refused body (`web::guard`).
fn is_bare_refusal(res: &Response) -> bool {
    (res.status().is_client_error() || res.status().is_server_error())
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"))
}

/// Paths whose callers are programs, which keep their own error format: the protocol
/// endpoints (JSON errors), the admin API (problem+json), probes and metrics.
fn answers_machines(path: &str, base: &str) -> bool {
    let path = path.strip_prefix(base).unwrap_or(path);
    matches!(
        path,
        "/token" | "/revoke" | "/introspect" | "/par" | "/userinfo" | "/jwks" | "/healthz" | "/readyz" | "/metrics"
    ) || path.starts_with("/admin/api/")
        || path.starts_with("/.well-known/")
}

/// What a bare refusal tells a person.
fn bare_notice(status: StatusCode) -> ErrorNotice {
    let (title, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("Not possible here", "This address does not take this kind of request."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Request too large", "What was sent is larger than Gatehouse accepts."),
        StatusCode::REQUEST_TIMEOUT => (
            "Request too slow",
            "What was sent did not arrive in time. Please try again.",
        ),
        s if s.is_server_error() => (
            "Something went wrong",
            "Gatehouse could not finish this request. Please try again.",
        ),
        _ => (
            "Invalid request",
            "This request is not complete or not in the form this page expects. Go back and try again.",
        ),
    };
    ErrorNotice {
        title: title.into(),
        message: message.into(),
        link: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_paths_keep_their_own_errors() {
        for path in [
            "/token",
            "/p/token",
            "/admin/api/v1/users",
            "/healthz",
            "/.well-known/openid-configuration",
        ] {
            assert!(answers_machines(path, "/p") || answers_machines(path, ""), "{path}");
        }
        for path in ["/logout/confirm", "/login", "/account/delete", "/authorize"] {
            assert!(!answers_machines(path, ""), "{path}");
        }
    }
}
