//! `/admin/api/v1/providers`: upstream identity providers, the config file's (read-only) and
//! those made at run time. Client secrets are write-only.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{Reader, Writer};
use super::body::{JsonBody, QueryParams};
use super::problem::Problem;
use crate::admin::providers::{self, ProviderSettings, ProviderView};
use crate::admin::{Page, Paging};
use crate::state::AppState;

/// Every provider: the config file's (`origin` `config_file`, read-only), then the runtime ones.
#[utoipa::path(get, path = "/admin/api/v1/providers", tag = "providers",
    params(
        ("limit" = Option<u64>, Query, description = "Items per page, 1 to 200 (default 50)"),
        ("offset" = Option<u64>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of providers", body = Page<ProviderView>)),
    security(("machine_token" = ["admin:read"])))]
pub async fn list_providers(
    State(state): State<AppState>,
    Reader(caller): Reader,
    q: QueryParams,
) -> Result<Json<Page<ProviderView>>, Problem> {
    q.only(&["limit", "offset"])?;
    let paging = Paging::new(
        q.parsed("limit", "a whole number")?,
        q.parsed("offset", "a whole number")?,
    )?;
    Ok(Json(
        providers::list(&caller.operator(&state), &state.upstreams, paging).await?,
    ))
}

/// Creates a runtime provider: offered on the login page at once, on every node within seconds.
#[utoipa::path(post, path = "/admin/api/v1/providers", tag = "providers",
    request_body = ProviderSettings,
    responses(
        (status = 201, description = "Created", body = ProviderView),
        (status = 409, description = "The id is taken, or declared in the configuration file", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn create_provider(
    State(state): State<AppState>,
    Writer(caller): Writer,
    JsonBody(settings): JsonBody<ProviderSettings>,
) -> Result<Response, Problem> {
    let made = providers::create(&caller.operator(&state), &state.upstreams, settings).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// One provider.
#[utoipa::path(get, path = "/admin/api/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "The provider id")),
    responses((status = 200, description = "The provider", body = ProviderView)),
    security(("machine_token" = ["admin:read"])))]
pub async fn get_provider(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, Problem> {
    Ok(Json(
        providers::get(&caller.operator(&state), &state.upstreams, &id).await?,
    ))
}

/// Changes the given settings of a runtime provider (a field left out stays as it is).
#[utoipa::path(patch, path = "/admin/api/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "The provider id")),
    request_body = ProviderSettings,
    responses(
        (status = 200, description = "The provider as changed", body = ProviderView),
        (status = 409, description = "Declared in the configuration file", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn update_provider(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
    JsonBody(settings): JsonBody<ProviderSettings>,
) -> Result<Json<ProviderView>, Problem> {
    Ok(Json(
        providers::update(&caller.operator(&state), &state.upstreams, &id, settings).await?,
    ))
}

/// Deletes a runtime provider (the identities linked through it stay, unusable until it returns).
#[utoipa::path(delete, path = "/admin/api/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "The provider id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Declared in the configuration file", body = super::problem::ProblemBody, content_type = "application/problem+json"),
    ),
    security(("machine_token" = ["admin:write"])))]
pub async fn delete_provider(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    providers::delete(&caller.operator(&state), &state.upstreams, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a runtime provider: no longer offered, and logins through it are refused.
#[utoipa::path(post, path = "/admin/api/v1/providers/{id}/disable", tag = "providers",
    params(("id" = String, Path, description = "The provider id")),
    responses((status = 200, description = "The provider", body = ProviderView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn disable_provider(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, Problem> {
    Ok(Json(
        providers::set_enabled(&caller.operator(&state), &state.upstreams, &id, false).await?,
    ))
}

/// Enables a disabled runtime provider again.
#[utoipa::path(post, path = "/admin/api/v1/providers/{id}/enable", tag = "providers",
    params(("id" = String, Path, description = "The provider id")),
    responses((status = 200, description = "The provider", body = ProviderView)),
    security(("machine_token" = ["admin:write"])))]
pub async fn enable_provider(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, Problem> {
    Ok(Json(
        providers::set_enabled(&caller.operator(&state), &state.upstreams, &id, true).await?,
    ))
}
