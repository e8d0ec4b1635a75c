//! Checks in front of every handler: parameters with NUL bytes are refused, request bodies are
//! read under a deadline and a size cap, a request has an overall deadline, and a fault while
//! the database does not answer is reported as 503 ("try again") instead of 500.
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::pages::{ErrorPage, Layout};

/// Seconds a client is told to wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// How long a failed request waits to learn whether the database is up. A live database
/// answers a ping in milliseconds; a dead one would only add its whole timeout to a request
/// that already waited for a connection.
const OUTAGE_PROBE: Duration = Duration::from_millis(300);

/// Why a request was turned away before reaching its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A parameter, the path or the Basic credentials contain a NUL byte.
    #[error("a parameter contains a NUL character")]
    Nul,
    /// The body is (or is announced as) larger than `server.max_body_bytes`.
    #[error("the request body is too large")]
    TooLarge,
    /// The body did not arrive within `server.body_read_timeout`.
    #[error("the request body did not arrive in time")]
    Slow,
    /// The body could not be read (the client broke the connection).
    #[error("the request body could not be read")]
    Broken,
}

/// Endpoints that answer machines with JSON errors rather than people with pages.
fn is_protocol_api(path: &str, base: &str) -> bool {
    let path = path.strip_prefix(base).unwrap_or(path);
    matches!(path, "/token" | "/revoke" | "/introspect" | "/par" | "/userinfo")
}

fn refuse(refusal: Refusal, api: bool) -> Response {
    match refusal {
        Refusal::Nul if api => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": refusal.to_string()})),
        )
            .into_response(),
        Refusal::Nul => PageError::bad_request(&crate::i18n::text("guard-nul-title"), &crate::i18n::text("guard-nul"))
            .into_response(),
        Refusal::TooLarge => closing(StatusCode::PAYLOAD_TOO_LARGE, refusal),
        Refusal::Slow => closing(StatusCode::REQUEST_TIMEOUT, refusal),
        Refusal::Broken => closing(StatusCode::BAD_REQUEST, refusal),
    }
}

/// A short answer after which the connection is closed: the rest of its body is never read.
fn closing(status: StatusCode, refusal: Refusal) -> Response {
    (
        status,
        [(header::CONNECTION, HeaderValue::from_static("close"))],
        refusal.to_string(),
    )
        .into_response()
}

fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || url::form_urlencoded::parse(bytes).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// `%00` in the raw path (axum decodes path segments for `Path` extractors).
fn path_has_nul(uri: &Uri) -> bool {
    uri.path().as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"))
}

/// NUL in HTTP Basic credentials, raw or form-encoded inside (RFC 6749 §2.3.1).
fn basic_auth_has_nul(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes) else {
        return false;
    };
    let Some(encoded) = value
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case(b"basic "))
        .map(|_| &value[6..])
    else {
        return false;
    };
    STANDARD
        .decode(encoded.trim_ascii())
        .is_ok_and(|d| d.contains(&0) || d.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")))
}

fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the whole body, refusing it when it exceeds `limit` bytes or `deadline`.
async fn read_body(body: Body, limit: usize, deadline: Duration) -> Result<Bytes, Refusal> {
    let collect = async move {
        let mut body = body;
        let mut buf = Vec::new();
        loop {
            match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
                None => return Ok(Bytes::from(buf)),
                Some(Err(_)) => return Err(Refusal::Broken),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if buf.len() + data.len() > limit {
                            return Err(Refusal::TooLarge);
                        }
                        buf.extend_from_slice(&data);
                    }
                }
            }
        }
    };
    tokio::time::timeout(deadline, collect)
        .await
        .unwrap_or(Err(Refusal::Slow))
}

/// Refuses NUL bytes anywhere a parameter can come from (before they reach PostgreSQL, which
/// cannot store them), and reads the body in full under `server.body_read_timeout` and
/// `server.max_body_bytes` so that no handler waits on a client that stopped sending.
pub async fn request_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = is_protocol_api(req.uri().path(), &state.base());
    let limits = &state.config.server;
    let query_nul = req.uri().query().is_some_and(|q| has_nul(q.as_bytes()));
    if query_nul || path_has_nul(req.uri()) || basic_auth_has_nul(req.headers()) {
        tracing::info!(path = %req.uri().path(), "refused a request with a NUL byte");
        return refuse(Refusal::Nul, api);
    }
    if announced_length(req.headers()).is_some_and(|n| n > limits.max_body_bytes as u64) {
        return refuse(Refusal::TooLarge, api);
    }
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, limits.max_body_bytes, limits.body_read()).await {
        Ok(b) => b,
        Err(refusal) => {
            tracing::info!(path = %parts.uri.path(), %refusal, "refused a request body");
            return refuse(refusal, api);
        }
    };
    let json_body = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // JSON escapes (\u0000) are not form encoding; every other body here is a form.
    if !json_body && has_nul(&bytes) {
        tracing::info!(path = %parts.uri.path(), "refused a request body with a NUL byte");
        return refuse(Refusal::Nul, api);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Whether the database answers within `timeout`.
pub async fn database_answers(state: &AppState, timeout: Duration) -> bool {
    match tokio::time::timeout(timeout, state.db.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the database does not answer");
            false
        }
        Err(_) => {
            tracing::warn!(?timeout, "the database did not answer in time");
            false
        }
    }
}

/// The 503 a person or a client gets while the service cannot work: a page, or for the
/// protocol endpoints `temporarily_unavailable` in JSON; both with `Retry-After`.
fn unavailable(state: &AppState, api: bool, message: &str, request_id: Option<String>) -> Response {
    let mut res = if api {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "temporarily_unavailable", "error_description": message})),
        )
            .into_response()
    } else {
        let page = ErrorPage {
            layout: Layout::new(crate::i18n::text("title-unavailable"), state.base()),
            message: format!("{message} Please try again in a moment."),
            link: None,
            request_id,
        };
        state.templates.page(StatusCode::SERVICE_UNAVAILABLE, &page)
    };
    let h = res.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Gives every request `server.request_timeout`, and turns a 500 into a 503 when the database
/// is what failed: the person or client then knows to retry, and the cause is logged once.
pub async fn availability(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = is_protocol_api(req.uri().path(), &state.base());
    let request_id = super::request_id::of(req.extensions());
    let res = match tokio::time::timeout(state.config.server.request(), next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(timeout = ?state.config.server.request(), "a request ran out of time");
            return unavailable(&state, api, "Gatehouse could not answer in time.", request_id);
        }
    };
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || database_answers(&state, OUTAGE_PROBE).await {
        return res;
    }
    // Answer in the kind the handler chose: JSON stays JSON (a page path may still be an API).
    let json_answer = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    unavailable(
        &state,
        api || json_answer,
        "The database is not reachable right now.",
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_are_found_raw_and_percent_encoded() {
        assert!(!has_nul(b"client_id=rp&state=a%01b"));
        assert!(has_nul(b"client_id=%00"));
        assert!(has_nul(b"client_id=rp&st%00ate=x"));
        assert!(has_nul(b"username=a\0b"));
        // "%2500" is the three characters "%00", not a NUL.
        assert!(!has_nul(b"state=%2500"));
    }

    #[test]
    fn nul_in_the_path_and_in_basic_credentials_is_found() {
        assert!(path_has_nul(&"/broker/start/a%00b".parse().unwrap()));
        assert!(!path_has_nul(&"/broker/start/corp".parse().unwrap()));
        let basic = |raw: &[u8]| {
            let mut h = HeaderMap::new();
            h.insert(
                header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(raw)).parse().unwrap(),
            );
            h
        };
        assert!(basic_auth_has_nul(&basic(b"rp%00:secret")));
        assert!(basic_auth_has_nul(&basic(b"rp\0:secret")));
        assert!(!basic_auth_has_nul(&basic(b"rp:secret%20x")));
        assert!(!basic_auth_has_nul(&HeaderMap::new()));
    }

    #[test]
    fn protocol_endpoints_are_recognised_under_the_issuer_path() {
        assert!(is_protocol_api("/token", ""));
        assert!(is_protocol_api("/sso/token", "/sso"));
        assert!(!is_protocol_api("/login", ""));
        assert!(!is_protocol_api("/authorize", ""));
    }

    #[tokio::test]
    async fn a_body_is_read_whole_or_refused_for_size() {
        let ok = read_body(Body::from("a=1"), 10, Duration::from_secs(1)).await;
        assert_eq!(ok.unwrap(), Bytes::from_static(b"a=1"));
        let big = read_body(Body::from(vec![b'a'; 11]), 10, Duration::from_secs(1)).await;
        assert_eq!(big.unwrap_err(), Refusal::TooLarge);
        // A body that stops sending is covered end to end in tests/integration/edge.rs.
    }
}
