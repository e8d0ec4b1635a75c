//! Token revocation (RFC 7009): refresh tokens (with their whole family) and access tokens.
use axum::extract::State;
use axum::http::StatusCode;

use super::client_auth::ClientForm;
use super::token::{required, TokenError};
use crate::state::AppState;
use crate::store::{refresh_tokens, tokens};

/// `POST /revoke`.
pub async fn revoke(State(state): State<AppState>, form: ClientForm) -> Result<StatusCode, TokenError> {
    let ClientForm { params, client, .. } = form;
    let token = required(&params, "token")?;
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
                return Ok(StatusCode::OK);
            }
        } else if let Some(row) = tokens::find(&state.db, token).await? {
            if row.client_id != client.id {
                return Err(TokenError::UnauthorizedClient(
                    "the token was issued to another client".into(),
                ));
            }
            tokens::revoke(&state.db, &row.token_hash).await?;
            tracing::info!(client_id = %client.id, "access token revoked");
            return Ok(StatusCode::OK);
        }
    }
    // Unknown or already invalid tokens are not an error (RFC 7009 §2.2).
    Ok(StatusCode::OK)
}
