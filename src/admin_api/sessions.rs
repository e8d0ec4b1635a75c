//! `/admin/api/v1/sessions`: live sign-in sessions.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::auth::{Reader, Writer};
use super::body::QueryParams;
use super::problem::Problem;
use crate::admin::sessions::{self, SessionView};
use crate::admin::{Page, Paging};
use crate::state::AppState;

/// The live sessions, newest first, of everybody or of one user.
#[utoipa::path(get, path = "/admin/api/v1/sessions", tag = "sessions",
    params(
        ("user_id" = Option<String>, Query, description = "Only this user's sessions"),
        ("limit" = Option<u64>, Query, description = "Items per page, 1 to 200 (default 50)"),
        ("offset" = Option<u64>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of sessions", body = Page<SessionView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_sessions(
    State(state): State<AppState>,
    Reader(caller): Reader,
    q: QueryParams,
) -> Result<Json<Page<SessionView>>, Problem> {
    q.only(&["user_id", "limit", "offset"])?;
    let paging = Paging::new(
        q.parsed("limit", "a whole number")?,
        q.parsed("offset", "a whole number")?,
    )?;
    let user = q.text("user_id");
    Ok(Json(
        sessions::list(&caller.operator(&state), user.as_deref(), paging).await?,
    ))
}

/// Ends a session on every node; its clients get back-channel logout tokens.
#[utoipa::path(delete, path = "/admin/api/v1/sessions/{sid}", tag = "sessions",
    params(("sid" = String, Path, description = "The session id (`sid`)")),
    responses((status = 204, description = "Ended")),
    security(("machine_token" = ["admin:write"])))]
pub async fn end_session(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(sid): Path<String>,
) -> Result<StatusCode, Problem> {
    if sessions::end(&caller.operator(&state), &sid).await? > 0 {
        state.backchannel.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}
