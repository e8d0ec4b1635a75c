//! `/admin/api/v1/events`: the audit trail.
use axum::extract::State;
use axum::Json;

use super::auth::Reader;
use super::body::QueryParams;
use super::problem::Problem;
use crate::admin::events::{self, EventFilter, EventView};
use crate::admin::{Page, Paging};
use crate::state::AppState;

/// Recorded security events, newest first, filtered.
#[utoipa::path(get, path = "/admin/api/v1/events", tag = "events",
    params(
        ("kind" = Option<String>, Query, description = "An event kind (`sign_in.failure`) or a family (`admin.*`)"),
        ("user_id" = Option<String>, Query, description = "Events about this user"),
        ("client_id" = Option<String>, Query, description = "Events about or through this client"),
        ("since" = Option<i64>, Query, description = "From this Unix millisecond (inclusive)"),
        ("until" = Option<i64>, Query, description = "Before this Unix millisecond"),
        ("limit" = Option<u64>, Query, description = "Items per page, 1 to 200 (default 50)"),
        ("offset" = Option<u64>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of events", body = Page<EventView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_events(
    State(state): State<AppState>,
    Reader(caller): Reader,
    q: QueryParams,
) -> Result<Json<Page<EventView>>, Problem> {
    q.only(&["kind", "user_id", "client_id", "since", "until", "limit", "offset"])?;
    let paging = Paging::new(
        q.parsed("limit", "a whole number")?,
        q.parsed("offset", "a whole number")?,
    )?;
    let filter = EventFilter {
        kind: q.text("kind"),
        user_id: q.text("user_id"),
        client_id: q.text("client_id"),
        since_ms: q.parsed("since", "Unix milliseconds")?,
        until_ms: q.parsed("until", "Unix milliseconds")?,
    };
    Ok(Json(events::list(&caller.operator(&state), filter, paging).await?))
}
