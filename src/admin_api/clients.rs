//! `/admin/api/v1/clients`: client applications.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{Reader, Writer};
use super::body::{JsonBody, QueryParams};
use super::problem::Problem;
use crate::admin::clients::{self, ClientSettings, ClientView, ClientWithSecret};
use crate::admin::{Page, Paging};
use crate::state::AppState;

/// Every client, by id, one page.
#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "clients",
    params(
        ("limit" = Option<u64>, Query, description = "Items per page, 1 to 200 (default 50)"),
        ("offset" = Option<u64>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of clients", body = Page<ClientView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_clients(
    State(state): State<AppState>,
    Reader(caller): Reader,
    q: QueryParams,
) -> Result<Json<Page<ClientView>>, Problem> {
    q.only(&["limit", "offset"])?;
    let paging = Paging::new(
        q.parsed("limit", "a whole number")?,
        q.parsed("offset", "a whole number")?,
    )?;
    Ok(Json(clients::list(&caller.operator(&state), paging).await?))
}

/// Registers a client; a secret-based one gets its secret in this answer only.
#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "clients",
    request_body = ClientSettings,
    responses(
        (status = 201, description = "Registered", body = ClientWithSecret),
        (status = 409, description = "The id is taken, or declared in the configuration file", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn create_client(
    State(state): State<AppState>,
    Writer(caller): Writer,
    JsonBody(input): JsonBody<ClientSettings>,
) -> Result<Response, Problem> {
    let made = clients::create(&caller.operator(&state), input).await?;
    state.clients.forget(&made.client.client_id).await;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// One client.
#[utoipa::path(get, path = "/admin/api/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, description = "The client", body = ClientView)),
    security(("machine_token" = ["admin:read"])))]
pub async fn get_client(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, Problem> {
    Ok(Json(clients::get(&caller.operator(&state), &id).await?))
}

/// Changes a client's settings (a change of secret kind issues a new secret, shown once).
#[utoipa::path(patch, path = "/admin/api/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    request_body = ClientSettings,
    responses(
        (status = 200, description = "The client as changed", body = ClientWithSecret),
        (status = 409, description = "Declared in the configuration file", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn update_client(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
    JsonBody(settings): JsonBody<ClientSettings>,
) -> Result<Json<ClientWithSecret>, Problem> {
    let changed = clients::update(&caller.operator(&state), &id, settings).await?;
    state.clients.forget(&id).await;
    Ok(Json(changed))
}

/// Deletes a client; every token it holds ends.
#[utoipa::path(delete, path = "/admin/api/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses((status = 204, description = "Deleted")),
    security(("machine_token" = ["admin:write"])))]
pub async fn delete_client(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    clients::delete(&caller.operator(&state), &id).await?;
    state.clients.forget(&id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the client a new secret (in this answer only); the old one stops working.
#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/secret", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, description = "The client with its new secret", body = ClientWithSecret)),
    security(("machine_token" = ["admin:write"])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<ClientWithSecret>, Problem> {
    let rotated = clients::rotate_secret(&caller.operator(&state), &id).await?;
    state.clients.forget(&id).await;
    Ok(Json(rotated))
}

/// Disables a client: unknown to every endpoint, and every token it holds ends.
#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/disable", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, description = "The client", body = ClientView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn disable_client(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, Problem> {
    let (client, _) = clients::set_disabled(&caller.operator(&state), &id, true).await?;
    state.clients.forget(&id).await;
    Ok(Json(client))
}

/// Enables a disabled client again (its old tokens stay revoked).
#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/enable", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, description = "The client", body = ClientView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn enable_client(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, Problem> {
    let (client, _) = clients::set_disabled(&caller.operator(&state), &id, false).await?;
    state.clients.forget(&id).await;
    Ok(Json(client))
}
