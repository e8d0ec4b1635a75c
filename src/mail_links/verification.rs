//! Address verification: a single-use, expiring link to the address; opened by the person
//! signed in to the same account, it makes that address the account's, verified. Until then
//! `email_verified` stays false (and an email change keeps the old address).
//!
//! Only the account's own sign-in may use the link: otherwise somebody could register (or
//! switch their account to) another person's address, and that person's click on the mail
//! would verify it for the intruder's account (which brokered sign-ins then link to by
//! verified email).
use super::{LinkError, Links};
use crate::mail::messages::{in_words, VerifyEmail};
use crate::store::email_tokens::{self, EmailToken, Purpose};
use crate::store::users::{self, User};

/// The page's path the link points to.
pub const PATH: &str = "/email/verify";

/// Sends a verification link for `email` (the account's address, or the one it changes to);
/// an earlier unused link of the account stops working.
pub async fn send(links: &Links, user: &User, email: &str) -> Result<(), LinkError> {
    let ttl = links.smtp.verify_link_secs;
    let token = email_tokens::issue(&links.db, Purpose::VerifyEmail, &user.id, email, ttl).await?;
    let mail = VerifyEmail {
        site: links.site.clone(),
        username: user.username.clone(),
        email: email.into(),
        link: links.link(PATH, &token),
        valid_for: in_words(ttl),
    };
    links.mailer.queue(&links.db, email, &mail, ttl).await?;
    tracing::info!(user_id = %user.id, "verification link sent");
    Ok(())
}

/// Why a verification link did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, used, expired, or replaced by a newer link.
    Unusable,
    /// The link belongs to another account than the one signed in.
    OtherAccount,
    /// Meanwhile another account proved this address.
    AddressTaken,
}

/// The unused, unexpired link `token` and the account it is for.
pub async fn pending(links: &Links, token: &str) -> Result<Option<EmailToken>, LinkError> {
    Ok(email_tokens::usable(&links.db, Purpose::VerifyEmail, token).await?)
}

/// Uses link `token` for the signed-in account `signed_in`: its address becomes verified.
pub async fn confirm(links: &Links, token: &str, signed_in: &User) -> Result<Result<User, Refusal>, LinkError> {
    let Some(row) = pending(links, token).await? else {
        return Ok(Err(Refusal::Unusable));
    };
    if row.user_id != signed_in.id {
        // Left unused: it still works for its own account.
        tracing::warn!(user_id = %signed_in.id, link_for = %row.user_id, "verification link of another account refused");
        return Ok(Err(Refusal::OtherAccount));
    }
    let Some(row) = email_tokens::consume(&links.db, Purpose::VerifyEmail, token).await? else {
        return Ok(Err(Refusal::Unusable));
    };
    match users::confirm_email(&links.db, signed_in.clone(), &row.email).await? {
        Some(user) => {
            tracing::info!(user_id = %user.id, "email address verified");
            Ok(Ok(user))
        }
        None => Ok(Err(Refusal::AddressTaken)),
    }
}
