//! The end of a successful flow: the interaction completed, an authorization code issued, and
//! the client's redirect URI that carries it.
use sea_orm::{ConnectionTrait, DbErr};

use super::interaction::Interaction;
use super::login::LoginSession;
use super::request::AuthorizeRequest;
use crate::store::codes::{self, NewCode};
use crate::store::interactions;

/// Why no code was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The interaction was completed in the meantime (another tab, a double submit).
    #[error("the interaction is already completed")]
    AlreadyFinished,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Completes the interaction (once) and issues a code for `login`; returns the client's
/// redirect URI with `code`, `state` and `iss` (RFC 9207).
pub async fn issue_code(
    db: &impl ConnectionTrait,
    req: &AuthorizeRequest,
    login: &LoginSession,
    ix: Option<&Interaction>,
    code_lifetime: u64,
    issuer: &str,
) -> Result<String, IssueError> {
    if let Some(ix) = ix {
        if !interactions::complete(db, &ix.id).await? {
            return Err(IssueError::AlreadyFinished);
        }
    }
    let code = codes::issue(db, new_code(req, login), code_lifetime).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    Ok(crate::urls::with_query(&req.redirect_uri, &params))
}

fn new_code(req: &AuthorizeRequest, login: &LoginSession) -> NewCode {
    NewCode {
        client_id: req.client_id.clone(),
        user_id: login.user_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scopes.join(" "),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        auth_time: login.auth_time,
        amr: login.amr.clone(),
        sid: login.sid.clone(),
        idp: login.idp.clone(),
    }
}
