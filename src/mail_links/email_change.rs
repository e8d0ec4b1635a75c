//! An email change asked for from the account page: the verification link goes to the new
//! address (`verification::send`), and a notice goes to the old one, so that the owner hears
//! of a change they did not ask for while it can still be stopped. The notice carries nothing
//! that could confirm the change.
use super::{reset, verification, LinkError, Links};
use crate::mail::messages::{partly_hidden, EmailChangeRequested};
use crate::store::users::User;

/// How long the notice may wait in the outbox.
const NOTICE_TTL_SECS: i64 = 7 * 86_400;

/// Sends the verification link to `new_email`, and the notice to the account's address when
/// the account proved it (an unproven address may be a stranger's).
pub async fn request(links: &Links, user: &User, new_email: &str) -> Result<(), LinkError> {
    verification::send(links, user, new_email).await?;
    let old = user
        .email
        .as_deref()
        .filter(|old| user.email_verified && !old.eq_ignore_ascii_case(new_email));
    if let Some(old) = old {
        let notice = EmailChangeRequested {
            site: links.site.clone(),
            username: user.username.clone(),
            new_email_hint: partly_hidden(new_email),
            reset_link: format!("{}{}", links.issuer, reset::REQUEST_PATH),
            account_link: format!("{}/account", links.issuer),
        };
        links.mailer.queue(&links.db, old, &notice, NOTICE_TTL_SECS).await?;
        tracing::info!(user_id = %user.id, "the old address was told of the email change");
    }
    Ok(())
}
