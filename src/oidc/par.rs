//! Pushed Authorization Requests (RFC 9126): the client posts its authorize parameters
//! directly (authenticated) and sends the browser with a short-lived, single-use `request_uri`.
use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::client_auth::ClientForm;
use super::token::TokenError;
use crate::flow::checks::validate;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::entities::pushed_request;
use crate::store::{now, random_token};
use crate::web::error::PageError;

/// The `request_uri` prefix RFC 9126 §2.2 suggests.
pub const URN_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Seconds a pushed request stays usable.
const TTL: i64 = 60;

fn par_error(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

/// `POST /par`.
pub async fn push(State(state): State<AppState>, form: ClientForm) -> Result<Response, TokenError> {
    let ClientForm { mut params, client, .. } = form;
    for k in ["client_secret", "client_assertion", "client_assertion_type"] {
        params.remove(k);
    }
    if params.contains_key("request_uri") {
        return Ok(par_error("invalid_request", "request_uri cannot be pushed"));
    }
    params.insert("client_id".into(), client.id.clone());
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|r| client.has_redirect_uri(r))
        .cloned()
    else {
        return Ok(par_error(
            "invalid_request",
            "redirect_uri is missing or not registered",
        ));
    };
    // Validated now so the client hears about mistakes directly; validated again at /authorize.
    if let Err(rejection) = validate(&params, &client, &redirect_uri) {
        return Ok(par_error(rejection.code.as_str(), &rejection.description));
    }
    let id = random_token();
    pushed_request::ActiveModel {
        id: Set(id.clone()),
        client_id: Set(client.id.clone()),
        params: Set(serde_json::to_string(&params).map_err(TokenError::server)?),
        expires_at: Set(now() + TTL),
        used_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "request_uri": format!("{URN_PREFIX}{id}"), "expires_in": TTL })),
    )
        .into_response())
}

/// The pushed parameters behind a `request_uri`, consumed once.
pub async fn take(state: &AppState, client: &Client, request_uri: &str) -> Result<HashMap<String, String>, PageError> {
    let invalid = || {
        PageError::bad_request(
            &crate::i18n::text("par-expired-title"),
            &crate::i18n::text("par-expired"),
        )
    };
    let id = request_uri.strip_prefix(URN_PREFIX).ok_or_else(invalid)?;
    let row = pushed_request::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    if row.client_id != client.id || row.expires_at <= now() {
        return Err(invalid());
    }
    let res = pushed_request::Entity::update_many()
        .col_expr(pushed_request::Column::UsedAt, Expr::value(now()))
        .filter(pushed_request::Column::Id.eq(id))
        .filter(pushed_request::Column::UsedAt.is_null())
        .exec(&state.db)
        .await?;
    if res.rows_affected != 1 {
        return Err(invalid());
    }
    serde_json::from_str(&row.params).map_err(PageError::internal)
}

/// Deletes pushed requests that expired an hour ago or more.
pub async fn purge_expired<C: sea_orm::ConnectionTrait>(db: &C) -> Result<u64, sea_orm::DbErr> {
    Ok(pushed_request::Entity::delete_many()
        .filter(pushed_request::Column::ExpiresAt.lt(now() - 3600))
        .exec(db)
        .await?
        .rows_affected)
}
