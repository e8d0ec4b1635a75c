//! The home page: what this server is, and the way into the demo flow.
use crate::state::AppState;
use crate::web::pages::{HomePage, Layout};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /`.
pub async fn home(State(state): State<AppState>) -> Response {
    let page = HomePage {
        layout: Layout::new("Home", state.base()),
        issuer: state.config.issuer_str().to_owned(),
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
