//! `/admin/api/v1/keys`: token signing keys.
use axum::extract::State;
use axum::Json;

use super::auth::{Reader, Writer};
use super::problem::Problem;
use crate::admin::keys::{self, KeyView};
use crate::state::AppState;

/// Every stored signing key, newest first.
#[utoipa::path(get, path = "/admin/api/v1/keys", tag = "keys",
    responses((status = 200, description = "The keys", body = Vec<KeyView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_keys(State(state): State<AppState>, Reader(_): Reader) -> Result<Json<Vec<KeyView>>, Problem> {
    Ok(Json(keys::list(&state.keys).await?))
}

/// Makes a new key of every algorithm current; old keys verify until their tokens expire.
#[utoipa::path(post, path = "/admin/api/v1/keys/rotate", tag = "keys",
    responses((status = 200, description = "The new keys", body = Vec<KeyView>)),
    security(("machine_token" = ["admin:write"])))]
pub async fn rotate_keys(State(state): State<AppState>, Writer(caller): Writer) -> Result<Json<Vec<KeyView>>, Problem> {
    Ok(Json(keys::rotate(&caller.operator(&state), &state.keys).await?))
}
