//! `/admin/api/v1/users`: accounts.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::auth::{Reader, Writer};
use super::body::{JsonBody, QueryParams};
use super::problem::Problem;
use crate::admin::users::{self, Ended, NewUserInput, ResetMailQueued, UserDetail, UserPatch, UserView};
use crate::admin::{Page, Paging};
use crate::state::AppState;

/// Accounts whose username, email or name contains `search`, by username, one page.
#[utoipa::path(get, path = "/admin/api/v1/users", tag = "users",
    params(
        ("search" = Option<String>, Query, description = "Part of a username, email or name (any case)"),
        ("limit" = Option<u64>, Query, description = "Items per page, 1 to 200 (default 50)"),
        ("offset" = Option<u64>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of accounts", body = Page<UserView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_users(
    State(state): State<AppState>,
    Reader(caller): Reader,
    q: QueryParams,
) -> Result<Json<Page<UserView>>, Problem> {
    q.only(&["search", "limit", "offset"])?;
    let paging = Paging::new(
        q.parsed("limit", "a whole number")?,
        q.parsed("offset", "a whole number")?,
    )?;
    Ok(Json(
        users::list(&caller.operator(&state), q.text("search").as_deref(), paging).await?,
    ))
}

/// Creates an account.
#[utoipa::path(post, path = "/admin/api/v1/users", tag = "users",
    request_body = NewUserInput,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "The username or email is taken", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn create_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    JsonBody(input): JsonBody<NewUserInput>,
) -> Result<Response, Problem> {
    let user = users::create(&caller.operator(&state), input).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// An account with its linked identities, second factors and live sessions.
#[utoipa::path(get, path = "/admin/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses((status = 200, description = "The account", body = UserDetail)),
    security(("machine_token" = ["admin:read"])))]
pub async fn get_user(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<String>,
) -> Result<Json<UserDetail>, Problem> {
    Ok(Json(users::get(&caller.operator(&state), &id).await?))
}

/// Changes an account (`disabled: true` ends its sessions and tokens, as disable does).
#[utoipa::path(patch, path = "/admin/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = UserPatch,
    responses((status = 200, description = "The account as changed", body = UserView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn update_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<UserView>, Problem> {
    let (user, ended) = users::update(&caller.operator(&state), &id, patch).await?;
    if ended.is_some_and(|e| e.logouts_queued > 0) {
        state.backchannel.wake();
    }
    Ok(Json(user))
}

/// Deletes an account and everything attached to it; its sessions and tokens end.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses((status = 204, description = "Deleted")),
    security(("machine_token" = ["admin:write"])))]
pub async fn delete_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let ended = users::delete(&caller.operator(&state), &id).await?;
    if ended.logouts_queued > 0 {
        state.backchannel.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account: every session ends and every token is revoked at once, on every node.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses((status = 200, description = "What ended", body = Ended)),
    security(("machine_token" = ["admin:write"])))]
pub async fn disable_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<Ended>, Problem> {
    let ended = users::disable(&caller.operator(&state), &id).await?;
    if ended.logouts_queued > 0 {
        state.backchannel.wake();
    }
    Ok(Json(ended))
}

/// Enables a disabled account again.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/enable", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses((status = 200, description = "The account", body = UserView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn enable_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<UserView>, Problem> {
    let patch = UserPatch {
        disabled: Some(false),
        ..Default::default()
    };
    Ok(Json(users::update(&caller.operator(&state), &id, patch).await?.0))
}

/// Whether a throttle was cleared.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Cleared {
    pub cleared: bool,
}

/// Clears the account's password-attempt throttle (after many wrong passwords).
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/throttle", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses((status = 200, description = "Whether there was a throttle", body = Cleared)),
    security(("machine_token" = ["admin:write"])))]
pub async fn clear_throttle(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<Cleared>, Problem> {
    let cleared = users::clear_throttle(&caller.operator(&state), &id).await?;
    Ok(Json(Cleared { cleared }))
}

/// Unlinks the account's identity at an upstream provider.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/identities/{provider}", tag = "users",
    params(("id" = String, Path, description = "The user id"), ("provider" = String, Path, description = "The provider id")),
    responses((status = 204, description = "Unlinked")),
    security(("machine_token" = ["admin:write"])))]
pub async fn unlink_identity(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path((id, provider)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    users::unlink(&caller.operator(&state), &id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails the account a single-use password reset link (as "Forgot password?" does).
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/password-reset", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 202, description = "The mail is queued", body = ResetMailQueued),
        (status = 409, description = "The account is disabled or has no email, or the server sends no mail", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn send_password_reset(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let links = crate::login::recovery::mail_links(&state);
    let queued = users::send_password_reset(&caller.operator(&state), links.as_ref(), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)).into_response())
}
