//! The home page: what this server is, and the way into the demo flow.
use crate::state::AppState;
use crate::web::pages::{HomePage, Layout};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /`.
pub async fn home(State(state): State<AppState>) -> Response {
    let page = HomePage {
        layout: Layout::new(crate::i18n::text("title-home"), state.base()),
        issuer: state.issuer.clone(),
        demo: state.config.demo.enabled,
        demo_user: state.config.users.first().map(|u| u.username.clone()),
    };
    state.templates.page(StatusCode::OK, &page)
}

/// `GET /static/gatehouse.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../static/gatehouse.css"),
    )
        .into_response()
}

/// `GET /healthz`: the database answers within `server.healthz_timeout` (a probe must not
/// wait for the pool's own, longer, acquire timeout).
pub async fn healthz(State(state): State<AppState>) -> Response {
    if crate::web::guard::database_answers(&state, state.config.server.healthz()).await {
        (StatusCode::OK, "ok").into_response()
    } else {
        tracing::error!("health check failed: database unavailable");
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// `GET /readyz`: 200 when the database answers, its schema is this build's and signing keys
/// are loaded; 503 otherwise. The body names each check (JSON) for whoever looks.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = crate::readiness::check(&state.db, &state.keys, state.config.server.healthz()).await;
    let status = if readiness.ready() {
        StatusCode::OK
    } else {
        tracing::error!(?readiness, "readiness check failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut res = (status, axum::Json(readiness)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /metrics`: Prometheus text, when `[metrics] enabled` and the caller's address is in
/// `metrics.allow`; otherwise the same 404 as any unknown path.
pub async fn metrics(
    State(state): State<AppState>,
    crate::web::limits::ClientAddress(address): crate::web::limits::ClientAddress,
) -> Response {
    match &state.metrics {
        Some(handle) if state.config.metrics.allows(address) => {
            let providers = state.upstreams.current().all().cloned().collect::<Vec<_>>();
            crate::metrics::set_expiry_gauges(
                &state.keys,
                providers,
                state.config.keys.rotate_after_days,
                crate::store::now(),
            )
            .await;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                handle.render(),
            )
                .into_response()
        }
        _ => crate::web::error::PageError::NotFound.into_response(),
    }
}

/// Records every request's route, method, status and duration (when metrics are on).
pub async fn measure(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.metrics.is_none() {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    crate::metrics::request(route, method, res.status().as_u16(), started.elapsed().as_secs_f64());
    res
}

/// `GET /static/passkeys.js`: runs the WebAuthn ceremonies of the passkey forms.
pub async fn passkeys_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../static/passkeys.js"),
    )
        .into_response()
}

/// `GET /static/autosubmit.js`: submits a page's form on load (SAML HTTP-POST binding).
pub async fn autosubmit_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../static/autosubmit.js"),
    )
        .into_response()
}
