//! Token revocation (RFC 7009): refresh tokens (with their whole family) and access tokens.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth;
use super::token::TokenError;
use crate::state::AppState;
use crate::store::{refresh_tokens, tokens};
use crate::web::limits::ClientAddress;
use crate::web::parse_params;

/// `POST /revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, address, &headers, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    address: std::net::IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), TokenError> {
    let params = parse_params(body).map_err(TokenError::InvalidRequest)?;
    let (client, _) = client_auth::authenticate(state, address, headers, &params).await?;
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::InvalidRequest("token is missing".into()))?;
    // The hint only orders the look-ups (RFC 7009 §2.1); both kinds are tried.
    let refresh_first = params.get("token_type_hint").map(String::as_str) != Some("access_token");
    for kind in if refresh_first { [true, false] } else { [false, true] } {
        if kind {
            if let Some(row) = refresh_tokens::find(&state.db, token).await? {
                if row.client_id != client.id {
                    return Err(TokenError::UnauthorizedClient(
                        "the token was issued to another client".into(),
                    ));
                }
                // Revoking a refresh token ends the grant: its family and access tokens too.
                refresh_tokens::revoke_family(&state.db, &row.family_id).await?;
                tracing::info!(client_id = %client.id, family = %row.family_id, "refresh token revoked");
                return Ok(());
            }
        } else if let Some(row) = tokens::find(&state.db, token).await? {
            if row.client_id != client.id {
                return Err(TokenError::UnauthorizedClient(
                    "the token was issued to another client".into(),
                ));
            }
            tokens::revoke(&state.db, &row.token_hash).await?;
            tracing::info!(client_id = %client.id, "access token revoked");
            return Ok(());
        }
    }
    // Unknown or already invalid tokens are not an error (RFC 7009 §2.2).
    Ok(())
}
