//! The themed error page every `PageError` (and the fallback 404) becomes, in one middleware.
use axum::extract::State;
use axum::response::Response;

use super::error::ErrorPage;
use crate::state::AppState;

/// Turns every `PageError` (and the fallback 404) into the themed error page.
pub async fn render_error_pages(State(state): State<AppState>, res: Response) -> Response {
    match res.extensions().get::<ErrorPage>() {
        Some(page) => {
            let data = serde_json::json!({
                "title": page.title,
                "message": page.message,
                "link": page.link,
                "base": state.base(),
            });
            let mut page_res = state.templates.page(res.status(), "error", &data);
            if let Some(retry_after) = res.headers().get(axum::http::header::RETRY_AFTER) {
                page_res
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry_after.clone());
            }
            page_res
        }
        None => res,
    }
}
