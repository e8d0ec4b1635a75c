//! Serving the operator's theme (`crate::theme`) under `/static/theme/…`.
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::web::error::PageError;

/// `GET /static/theme/{*path}`: a file of the theme, or the ordinary 404 page.
pub async fn theme_file(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(theme) = state.theme.as_ref() else {
        return PageError::NotFound.into_response();
    };
    match theme.file(&path).await {
        Some((content_type, bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            ],
            bytes,
        )
            .into_response(),
        None => PageError::NotFound.into_response(),
    }
}
