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
