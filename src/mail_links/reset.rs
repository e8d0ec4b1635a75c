//! Password reset by mail: a request always gets the same answer (whether an account has the
//! address or not), is throttled per address and per client address, and sends a single-use
//! link that expires in minutes. Using it sets the password, ends every session and refresh
//! token of the account, and tells the address.
use std::net::IpAddr;

use super::{LinkError, Links};
use crate::config::LimitsConfig;
use crate::flow::signout::{end_all_of_user, SignOut};
use crate::mail::messages::{in_words, PasswordChanged, ResetPassword};
use crate::store::email_tokens::{self, EmailToken, Purpose};
use crate::store::now;
use crate::store::throttles::{self, Admission};
use crate::store::users::{self, User, UserError};
use sea_orm::{ConnectionTrait, DbErr};

/// The page's path the link points to.
pub const PATH: &str = "/login/reset";
/// Where a reset is asked for.
pub const REQUEST_PATH: &str = "/login/forgot";

/// What became of a reset request, as far as the person may be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// "If an account has this address, a link is on its way" (whatever happened).
    Answered,
    /// This client address asked too often: wait.
    Throttled { retry_after_secs: i64 },
}

/// Handles "forgot password" for `email` (already normalised) from `client`. The mail, when
/// there is an account to send it to, is prepared in the background, so the answer takes the
/// same time either way.
pub async fn request(links: &Links, limits: &LimitsConfig, email: &str, client: IpAddr) -> Result<Requested, DbErr> {
    let t = now();
    let client_key = format!("reset-client:{client}");
    if let Admission::Wait { secs } = throttles::admit(&links.db, &client_key, &limits.reset_per_client, t).await? {
        tracing::warn!(%client, retry_after_secs = secs, "password reset refused: client address throttled");
        return Ok(Requested::Throttled { retry_after_secs: secs });
    }
    let address_key = format!("reset-address:{email}");
    if let Admission::Wait { secs } = throttles::admit(&links.db, &address_key, &limits.reset_per_address, t).await? {
        // Same answer, no mail: nobody can flood an inbox, and the answer tells nothing.
        tracing::warn!(%client, wait_secs = secs, "password reset mail skipped: address throttled");
        return Ok(Requested::Answered);
    }
    let links = links.clone();
    let email = email.to_owned();
    tokio::spawn(async move {
        if let Err(e) = send_link(&links, &email).await {
            tracing::error!(error = %e, "preparing a password reset mail failed");
        }
    });
    Ok(Requested::Answered)
}

/// Sends a reset link when an enabled account has this address; nothing otherwise.
async fn send_link(links: &Links, email: &str) -> Result<(), LinkError> {
    let Some(user) = users::find_by_email(&links.db, email).await?.filter(|u| !u.disabled) else {
        tracing::info!("password reset asked for an address no account has; no mail");
        return Ok(());
    };
    mail_link(links, &links.db, &user, email).await?;
    Ok(())
}

/// Issues a reset link for `user` at `email` and queues its mail, on `db`: the caller's
/// transaction when the mail goes with another write (an operator's audit row). Returns the
/// seconds the link is valid. The "forgot password" page and the admin API both send this way.
pub async fn mail_link<C: ConnectionTrait>(links: &Links, db: &C, user: &User, email: &str) -> Result<i64, LinkError> {
    let ttl = links.smtp.reset_link_secs;
    let token = email_tokens::issue(db, Purpose::ResetPassword, &user.id, email, ttl).await?;
    let mail = ResetPassword {
        site: links.site.clone(),
        username: user.username.clone(),
        link: links.link(PATH, &token),
        valid_for: in_words(ttl),
    };
    links.mailer.queue(db, email, &mail, ttl).await?;
    tracing::info!(user_id = %user.id, "password reset link sent");
    Ok(ttl)
}

/// The unused, unexpired link `token` and its (enabled) account.
pub async fn pending(links: &Links, token: &str) -> Result<Option<(EmailToken, User)>, LinkError> {
    let Some(row) = email_tokens::usable(&links.db, Purpose::ResetPassword, token).await? else {
        return Ok(None);
    };
    let user = users::find(&links.db, &row.user_id)
        .await?
        .filter(|u| !u.disabled && u.email.as_deref() == Some(row.email.as_str()));
    Ok(user.map(|u| (row, u)))
}

/// Why a reset did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("the link is unknown, used or expired")]
    Unusable,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    User(#[from] UserError),
}

impl From<DbErr> for ResetError {
    fn from(e: DbErr) -> Self {
        Self::Link(e.into())
    }
}

/// Uses link `token` to set `new_password` (already checked against the policy): ends every
/// session and refresh token of the account, forgets its password throttle, and tells the
/// address. The link proved the address, so it counts as verified when it is still the account's.
pub async fn complete(
    links: &Links,
    sign_out: SignOut<'_>,
    token: &str,
    new_password: &str,
) -> Result<User, ResetError> {
    let row = email_tokens::consume(&links.db, Purpose::ResetPassword, token)
        .await?
        .ok_or(ResetError::Unusable)?;
    // An address the account gave up since the link was sent no longer controls it.
    let user = users::find(&links.db, &row.user_id)
        .await?
        .filter(|u| !u.disabled && u.email.as_deref() == Some(row.email.as_str()))
        .ok_or(ResetError::Unusable)?;
    let mut user = users::set_password(&links.db, user, new_password).await?;
    if !user.email_verified {
        if let Some(verified) = users::confirm_email(&links.db, user.clone(), &row.email).await? {
            user = verified;
        }
    }
    let ended = end_all_of_user(sign_out, &user.id, None).await?;
    throttles::succeeded(&links.db, &crate::credentials::account_key(&user)).await?;
    email_tokens::forget(&links.db, Purpose::ResetPassword, &user.id).await?;
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
    notify_changed(links, &user, &row.email).await?;
    Ok(user)
}

/// Tells `email` that the account's password changed.
pub async fn notify_changed(links: &Links, user: &User, email: &str) -> Result<(), LinkError> {
    let mail = PasswordChanged {
        site: links.site.clone(),
        username: user.username.clone(),
        reset_link: format!("{}{REQUEST_PATH}", links.issuer),
    };
    links.mailer.queue(&links.db, email, &mail, 7 * 86_400).await?;
    Ok(())
}
