//! `/jwks`: the public signing keys.
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::keys::KeyStore;
use crate::web::error::PageError;

/// The JWK Set; clients may cache it briefly.
pub async fn jwks(State(keys): State<KeyStore>) -> Result<Response, PageError> {
    let keys = keys.current().await?;
    let mut res = Json(keys.jwks()).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(res)
}
