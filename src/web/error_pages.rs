//! The themed error page every `PageError` (and the fallback 404) becomes, in one middleware.
use axum::extract::State;
use axum::response::Response;

use super::error::ErrorNotice;
use super::pages::{ErrorPage, Layout};
use crate::state::AppState;

/// Turns every `PageError` (and the fallback 404) into the themed error page.
pub async fn render_error_pages(
    State(state): State<AppState>,
    request_id: Option<axum::Extension<tower_http::request_id::RequestId>>,
    res: Response,
) -> Response {
    match res.extensions().get::<ErrorNotice>() {
        Some(notice) => {
            let page = ErrorPage {
                layout: Layout::new(notice.title.clone(), state.base()),
                message: notice.message.clone(),
                link: notice.link.clone(),
                request_id: request_id.and_then(|id| id.header_value().to_str().ok().map(str::to_owned)),
            };
            let mut page_res = state.templates.page(res.status(), &page);
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
