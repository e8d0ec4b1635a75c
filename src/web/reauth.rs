//! Re-asking who is at the keyboard before a sensitive account change (adding or removing a
//! passkey): a code from the authenticator app, a recovery code, or the password, each counted
//! like any other attempt.
use std::net::IpAddr;

use super::error::PageError;
use super::password_attempt::check_password;
use super::second_factor::{check_code, CodeKind};
use crate::state::AppState;
use crate::store::users::User;

/// What the person typed, by its shape: six digits are an app's code (when they have an app),
/// a recovery-code shape is a recovery code (when they have some left), anything else is the
/// password. `Ok(None)` when it proves the person, `Ok(Some(message))` otherwise.
pub async fn confirm(state: &AppState, address: IpAddr, user: &User, typed: &str) -> Result<Option<String>, PageError> {
    let typed = typed.trim();
    let factors = crate::mfa::factors(&state.db, &user.id).await?;
    let digits = typed.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if factors.totp && digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return check_code(state, address, user, CodeKind::Totp, typed).await;
    }
    if factors.recovery_codes_left > 0 && crate::mfa::recovery::hash(typed).is_some() {
        return check_code(state, address, user, CodeKind::Recovery, typed).await;
    }
    if user.password_hash.is_none() {
        return Ok(Some(crate::i18n::text("reauth-no-password")));
    }
    match check_password(state, address, &user.username, typed).await? {
        Some(u) if u.id == user.id => Ok(None),
        _ => Ok(Some(crate::i18n::text("reauth-wrong"))),
    }
}
