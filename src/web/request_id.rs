//! A request id on every request: kept from a proxy's `x-request-id` when well formed, else a
//! new UUID (tower-http's `SetRequestId`); returned as `x-request-id`, a field of the request's
//! span (so of every log line written while serving it), and shown on every page that tells of
//! a failure (`web::templates` reads it through [`current`], so no handler has to pass it on).
use axum::extract::Request;
use axum::http::{Extensions, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;

/// `x-request-id`.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a request id from outside may be kept: 1–128 characters of `[A-Za-z0-9._:-]`
/// (nothing that could forge log structure or break out of a page).
pub fn acceptable(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
}

/// Drops an incoming `x-request-id` that is not [`acceptable`], so a fresh one is made.
pub async fn sanitize(mut req: Request, next: Next) -> Response {
    if req.headers().get(&HEADER).is_some_and(|v| !acceptable(v)) {
        req.headers_mut().remove(&HEADER);
    }
    next.run(req).await
}

/// The request id of a request (set by `SetRequestId` before anything else runs).
pub fn of(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_owned)
}

tokio::task_local! {
    /// The id of the request being served on this task.
    static CURRENT: String;
}

/// Serves the rest of the request with its id at hand for [`current`].
pub async fn scope(req: Request, next: Next) -> Response {
    match of(req.extensions()) {
        Some(id) => CURRENT.scope(id, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// The id of the request being served (`None` outside a request, as in unit tests).
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

/// The span every request is served in: its id, method and path (not the query, which may
/// hold codes or state).
pub fn span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = of(req.extensions()).unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_from_outside_are_kept() {
        for ok in ["abc", "0f8e-11:22.x_y", &"a".repeat(128)] {
            assert!(acceptable(&HeaderValue::from_str(ok).unwrap()), "{ok}");
        }
        for bad in ["", "a b", "<script>", "a\"b", &"a".repeat(129), "é"] {
            let v = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            assert!(!acceptable(&v), "{bad}");
        }
    }
}
